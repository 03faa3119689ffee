/** The kernel edge: read and write a binfmt_misc instance. */
import { existsSync, openSync, opendirSync, readFileSync, realpathSync, statSync, statfsSync, writeSync, closeSync, constants } from 'node:fs';
import { dirname, isAbsolute, join, posix } from 'node:path';
import { parseProcEntry, type ProcEntry } from '../../shared/binfmt/entry';
import { ArchwayError } from '../../shared/errors';
import { childPath } from '../../shared/child-path';

export interface RawEntry {
  name: string;
  text: string;
  /** Registration order: higher is newer (the kernel tries the newest entry first). */
  seq: number;
}

const SPECIAL = new Set(['register', 'status']);

/** statfs(2) f_type of binfmt_misc (linux/magic.h). */
const BINFMTFS_MAGIC = 0x42494e4d;

/**
 * Is a binfmt_misc filesystem mounted exactly at `path`? (the register file alone could be a stray
 * file) Asked with three syscalls — statfs says which filesystem holds `path`, the parent being on
 * another device says `path` is that filesystem's mount point, realpath says `path` names it
 * without a symlink — instead of reading /proc/self/mountinfo: the helper asks this per operation,
 * and the kernel builds mountinfo afresh for every read (≈0.1 ms each, 130 reads in `install all`).
 */
export function isMounted(path: string): boolean {
  try {
    if (!isAbsolute(path) || posix.normalize(path) !== path || path === '/' || path.endsWith('/')) return false;
    if (statfsSync(path).type !== BINFMTFS_MAGIC) return false;
    // Another mount namespace's view (/proc/<pid>/root/…, a rootless engine's instance): the
    // kernel resolves that prefix to the process's root, so the rest must name the mount point.
    const inNs = /^\/proc\/\d+\/root(\/.+)$/.exec(path);
    if (realpathSync.native(path) !== (inNs ? inNs[1] : path)) return false;
    return statSync(path).dev !== statSync(dirname(path)).dev;
  } catch {
    return false;
  }
}

export function readGlobalStatus(path: string): boolean | null {
  try {
    return readFileSync(join(path, 'status'), 'utf8').trim() === 'enabled';
  } catch {
    return null;
  }
}

/**
 * Entry names in registration order, oldest first. binfmt_misc lists its directory newest first
 * (each new entry's dentry goes to the head, and re-registering moves it there), which is the
 * order the kernel tries them in. Read with opendir: fs.readdirSync sorts names (libuv scandir).
 * Inode numbers are no substitute: they are handed out in per-CPU batches.
 */
export function entryNamesOldestFirst(path: string): string[] {
  const names: string[] = [];
  let dir;
  try {
    dir = opendirSync(path);
  } catch {
    return [];
  }
  try {
    for (let d = dir.readSync(); d !== null; d = dir.readSync()) if (!SPECIAL.has(d.name)) names.push(d.name);
  } finally {
    dir.closeSync();
  }
  return names.reverse();
}

export function readEntries(path: string): RawEntry[] {
  const out: RawEntry[] = [];
  entryNamesOldestFirst(path).forEach((name, seq) => {
    try {
      out.push({ name, text: readFileSync(childPath(path, name), 'utf8'), seq });
    } catch {
      // removed between readdir and read: skip
    }
  });
  return out;
}

export function readEntry(path: string, name: string): ProcEntry | undefined {
  try {
    return parseProcEntry(name, readFileSync(join(path, name), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function writeControl(file: string, data: string, what: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_NOFOLLOW);
    const buf = Buffer.from(data);
    const n = writeSync(fd, buf, 0, buf.length);
    if (n !== buf.length) throw new Error(`short write (${n} of ${buf.length} bytes)`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST'
        ? 'an entry of that name already exists'
        : code === 'EINVAL'
          ? 'the kernel rejected the string as invalid'
          : code === 'ENOENT'
            ? 'the file does not exist (is the interpreter there?)'
            : code === 'EACCES' || code === 'EPERM'
              ? 'permission denied (needs root)'
              : (err as Error).message;
    throw new ArchwayError('kernel-refused', `${what}: ${why}${code ? ` (${code})` : ''}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function register(path: string, registerString: string): void {
  writeControl(join(path, 'register'), registerString, 'registering failed');
}

/** '1' enable, '0' disable, '-1' remove. */
export function control(path: string, name: string, value: '1' | '0' | '-1'): void {
  const file = join(path, name);
  if (!existsSync(file)) throw new ArchwayError('not-found', `no binfmt_misc entry named ${name}`);
  writeControl(file, value, `${value === '-1' ? 'removing' : value === '1' ? 'enabling' : 'disabling'} ${name} failed`);
}

/** Mount binfmt_misc at `path` with the system's mount program (argv, no shell). */
export async function mountBinfmt(path: string): Promise<void> {
  const mount = ['/usr/bin/mount', '/bin/mount'].find((p) => existsSync(p));
  if (!mount) throw new ArchwayError('mount-failed', 'no mount program found', 'Install util-linux (mount).');
  // Loaded on demand: `archway status` should not pay for child_process at start-up.
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  try {
    await promisify(execFile)(mount, ['-t', 'binfmt_misc', 'binfmt_misc', path], { timeout: 10_000 });
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
    throw new ArchwayError(
      'mount-failed',
      `could not mount binfmt_misc at ${path}: ${stderr || (err as Error).message}`,
      'Load the module (modprobe binfmt_misc) or ask your administrator; inside a container it must be privileged.',
    );
  }
}
