/**
 * Is a file safe to hand to the kernel as an interpreter for every foreign program? The checks a
 * setuid program would make: canonical absolute path, root-owned all the way down, nobody else can
 * write it or any directory above it, a regular file, an ELF program for this host, static unless
 * the caller explicitly accepts a dynamic one. The file is opened with O_NOFOLLOW and fstat'ed so
 * what is checked is what was stat'ed.
 */
import { closeSync, fstatSync, lstatSync, openSync, readlinkSync, realpathSync, constants, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, posix, resolve } from 'node:path';
import { ArchwayError } from '../../shared/errors';
import { validateInterpreter, RuleError } from '../../shared/binfmt/register';
import { describeHostProgramProblem, EM_NAMES, hostProgramProblem, type ElfInfo } from '../../shared/elf';
import { elfOfFd } from './host';

export interface TrustOptions {
  hostElf: ElfInfo;
  /** Accept a symlink as the path itself (Debian's fixed *-binfmt-P wrappers). */
  allowSymlink?: boolean;
  allowDynamic?: boolean;
  /**
   * Directories already found root-owned and closed to others during the same reading (one
   * snapshot): their chains are not walked again. Filled as chains check out.
   */
  trustedDirs?: Set<string>;
  /** Real paths of directories resolved during the same reading (every Debian -binfmt-P link lives in one). */
  realDirs?: Map<string, string>;
}

export interface TrustedFile {
  path: string;
  realPath: string;
  elf: ElfInfo;
  /** Device and inode of the file read (fstat of the descriptor the ELF header came from). */
  dev: number;
  ino: number;
}

const unsafe = (msg: string, hint?: string) => new ArchwayError('unsafe-interpreter', msg, hint);

function checkDirChain(realDir: string, trusted?: Set<string>): void {
  let dir = realDir;
  const passed: string[] = [];
  for (;;) {
    // Checked earlier in this reading, and with it everything above it.
    if (trusted?.has(dir)) break;
    let st: Stats;
    try {
      st = lstatSync(dir);
    } catch (err) {
      throw unsafe(`cannot inspect ${dir}: ${(err as Error).message}`);
    }
    if (!st.isDirectory()) throw unsafe(`${dir} is not a directory`);
    if (st.uid !== 0) throw unsafe(`${dir} is owned by uid ${st.uid}, not root: its owner could swap the emulator`);
    const sticky = (st.mode & 0o1000) !== 0;
    if ((st.mode & 0o022) !== 0 && !sticky) {
      throw unsafe(`${dir} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)}): anyone could swap the emulator`);
    }
    passed.push(dir);
    if (dir === '/') break;
    dir = dirname(dir);
  }
  for (const d of passed) trusted?.add(d);
}

/**
 * An absolute path is canonical unless it has an empty, "." or ".." component or ends in a slash:
 * exactly when posix.normalize would change it or it ends in "/" (trust.spec.ts checks the two
 * agree), without normalize's walk over every character for each of status's 32 emulators.
 */
const NOT_CANONICAL = /\/\/|\/\.\.?(?:\/|$)|\/$/;

export function checkPathSyntax(path: string): void {
  if (!isAbsolute(path)) throw unsafe(`${path} is not an absolute path`, 'Give the full path, starting with /.');
  if (NOT_CANONICAL.test(path)) {
    throw unsafe(`${path} is not a canonical path (".", ".." or "//" inside)`, `Use ${posix.normalize(path).replace(/\/$/, '')}.`);
  }
  try {
    validateInterpreter(path);
  } catch (err) {
    if (err instanceof RuleError) throw unsafe(`interpreter path ${err.message}`);
    throw err;
  }
}

const openNoFollow = (p: string): number => openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);

const missingTarget = (link: string, err: unknown) =>
  new ArchwayError('no-emulator', `${link} points to a missing file: ${(err as Error).message}`, 'Reinstall qemu-user-static.');

/** As many links as Linux follows in one lookup (MAXSYMLINKS). */
const MAX_HOPS = 40;

/**
 * The file at the end of a chain of links that starts at `hop` (a path in a real, checked
 * directory). Every later hop must be a root-owned link in a directory only root can change, like
 * the first: without flag F the kernel follows the chain again at every start, so a hop someone
 * else owns would let them point every foreign program at a program of theirs. realpath(3) would
 * follow any link. `link` is the wrapper asked about, for messages.
 */
function followLinks(link: string, hop: string, opts: TrustOptions): string {
  for (let hops = 0; hops < MAX_HOPS; hops++) {
    let st: Stats;
    try {
      st = lstatSync(hop);
    } catch (err) {
      throw missingTarget(link, err);
    }
    if (!st.isSymbolicLink()) return hop;
    if (st.uid !== 0) throw unsafe(`${link} goes through the link ${hop}, owned by uid ${st.uid}, not root`);
    let next: string;
    try {
      next = resolve(dirname(hop), readlinkSync(hop));
      next = join(realDirOf(dirname(next), opts.realDirs), basename(next));
    } catch (err) {
      throw missingTarget(link, err);
    }
    checkDirChain(dirname(next), opts.trustedDirs);
    hop = next;
  }
  throw unsafe(`${link} goes through more than ${MAX_HOPS} links`);
}

/** realpath(3): one call into libc instead of Node's lstat per path component in JavaScript (the same answer). */
const realpath = (p: string): string => realpathSync.native(p);

/** A directory's real path, resolved once per reading when `memo` is given. */
function realDirOf(dir: string, memo?: Map<string, string>): string {
  let real = memo?.get(dir);
  if (real === undefined) {
    real = realpath(dir);
    memo?.set(dir, real);
  }
  return real;
}

export function trustInterpreter(path: string, opts: TrustOptions): TrustedFile {
  checkPathSyntax(path);
  let lst: Stats;
  try {
    lst = lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ArchwayError(
      'no-emulator',
      `${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`,
      'Install a static emulator: apt-get install qemu-user-static (Debian/Ubuntu), dnf install qemu-user-static (Fedora).',
    );
  }
  let realPath = path;
  /** The link's target, when realPath was taken from its directory's real path and its name. */
  let linkTarget: string | undefined;
  if (lst.isSymbolicLink()) {
    if (!opts.allowSymlink) {
      let target = '';
      try {
        target = realpathSync(path);
      } catch {
        /* dangling */
      }
      throw unsafe(`${path} is a symbolic link${target ? ` to ${target}` : ''}`, target ? `Give the real file: ${target}` : undefined);
    }
    if (lst.uid !== 0) throw unsafe(`the link ${path} is owned by uid ${lst.uid}, not root`);
    checkDirChain(realDirOf(dirname(path), opts.realDirs), opts.trustedDirs);
    try {
      linkTarget = resolve(dirname(path), readlinkSync(path));
      // The usual link names a plain file: its directory's real path (once per reading) and its
      // name, opened below without following links. Anything else (a chain of links, a missing
      // file) fails that open and is followed hop by hop (followLinks).
      realPath = join(realDirOf(dirname(linkTarget), opts.realDirs), basename(linkTarget));
    } catch (err) {
      throw missingTarget(path, err);
    }
  } else if (realpath(path) !== path) {
    throw unsafe(`${path} goes through a symbolic link (real path ${realpathSync(path)})`, `Give the real file: ${realpathSync(path)}`);
  }
  checkDirChain(dirname(realPath), opts.trustedDirs);

  let fd: number | undefined;
  try {
    fd = openNoFollow(realPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (linkTarget === undefined || (code !== 'ELOOP' && code !== 'ENOENT')) throw unsafe(`cannot open ${realPath}: ${(err as Error).message}`);
    // The link's target is itself a link, or is missing: followed hop by hop, each hop checked.
    realPath = followLinks(path, realPath, opts);
    try {
      fd = openNoFollow(realPath);
    } catch (e) {
      throw unsafe(`cannot open ${realPath}: ${(e as Error).message}`);
    }
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw unsafe(`${realPath} is not a regular file`);
    if (st.uid !== 0) throw unsafe(`${realPath} is owned by uid ${st.uid}, not root`, `chown root:root ${realPath}`);
    if ((st.mode & 0o022) !== 0) {
      throw unsafe(`${realPath} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`, `chmod go-w ${realPath}`);
    }
    if ((st.mode & 0o111) === 0) throw unsafe(`${realPath} is not executable`, `chmod 755 ${realPath}`);
    const elf = elfOfFd(fd);
    if (!elf) throw unsafe(`${realPath} is not an ELF program`, 'Point Archway at a QEMU user-mode emulator binary.');
    // "A program for this host" is decided in one place (shared/elf.ts): machine, class, byte order, type, static.
    const problem = hostProgramProblem(elf, opts.hostElf, { allowDynamic: opts.allowDynamic === true });
    if (problem?.kind === 'dynamic') {
      throw new ArchwayError(
        'dynamic-interpreter',
        `${realPath} is dynamically linked: it fails inside containers whose root filesystem is foreign (its loader ${elf.interp ?? ''} is looked up there)`,
        'Use a static emulator (apt-get install qemu-user-static), or accept it explicitly with --allow-dynamic.',
      );
    }
    if (problem) {
      throw unsafe(
        `${describeHostProgramProblem(realPath, problem)} (this host runs ${EM_NAMES[opts.hostElf.machine] ?? opts.hostElf.machine} programs)`,
        'Use the emulator built for this host.',
      );
    }
    return { path, realPath, elf, dev: st.dev, ino: st.ino };
  } finally {
    closeSync(fd);
  }
}
