/**
 * Where the CLI's code cache may live and what its files are kept per (electron/cli/loader.ts).
 * Builtins come from process.getBuiltinModule where Node has it (no ES module facades at start-up).
 */
import type * as FsT from 'node:fs';
import type * as PathT from 'node:path';
import { childPath } from '../../shared/child-path';
import { builtin } from '../engine/lazy-builtin';

const fs = builtin<typeof FsT>('node:fs');
const path = builtin<typeof PathT>('node:path');

/**
 * The user's code cache directory (created when missing), or undefined when there may be none.
 * V8's cached data is code: the folder, `archway/` and the cache home must belong to this user
 * and be closed to others, and every folder above them (real paths) must belong to this user or
 * root and be closed to others (or sticky), so nobody else can swap any of them after this check.
 * So root with a HOME inside a user's home (sudo -E) gets no cache even where `.cache` is root's.
 */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env, uid = process.geteuid?.()): string | undefined {
  // Plain concatenation, no path.join: what is judged below is realpath(3)'s answer, and
  // path.normalize's first calls cost every command's start-up ≈0.3 ms.
  const given = env.XDG_CACHE_HOME || (env.HOME ? childPath(env.HOME, '.cache') : '');
  if (!path.isAbsolute(given) || uid === undefined) return undefined;
  const mine = (d: string): boolean => {
    const st = fs.lstatSync(d);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0;
  };
  const closedUpTo = (d: string): boolean => {
    for (let p = d; ; p = path.dirname(p)) {
      const st = fs.lstatSync(p);
      if (!st.isDirectory() || (st.uid !== uid && st.uid !== 0)) return false;
      if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) return false;
      if (p === '/') return true;
    }
  };
  try {
    // Real paths: a link on the way (/home -> /usr/home) is judged by what it names.
    const exists = fs.existsSync(given);
    const real = fs.realpathSync.native(exists ? given : path.dirname(given));
    const base = exists ? real : path.join(real, path.basename(given));
    if (!closedUpTo(path.dirname(base))) return undefined;
    const dir = childPath(childPath(base, 'archway'), 'code-cache');
    const ours = (): boolean => [dir, path.dirname(dir), base].every(mine);
    try {
      // The usual case, from the second run on: nothing created.
      if (ours()) return dir;
    } catch {
      // something is missing: made below, where allowed
    }
    // Nothing is created in someone else's home (root with a user's HOME creates no root-owned folders there).
    if (!mine(exists ? base : path.dirname(base))) return undefined;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return ours() ? dir : undefined;
  } catch {
    return undefined; // read-only or foreign home: run without a cache
  }
}

/**
 * A cache file's bytes, read through one descriptor opened without following a link, and only when
 * that file belongs to `uid`, is closed to others and has no second name (not a hard link to
 * someone else's data); otherwise undefined.
 */
export function readPrivateFile(file: string, uid: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    return st.isFile() && st.uid === uid && st.nlink === 1 && (st.mode & 0o022) === 0 ? fs.readFileSync(fd) : undefined;
  } catch {
    return undefined; // none yet (the first run of this command with this file)
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * What the cache files are kept per: the command word (`-` when the first argument is not one) and
 * the long options given, without their values: `status` and `status --json` run different code.
 * Only option names that look like Archway's are taken, at most six, so the number of files stays small.
 */
export function commandKey(argv: readonly string[]): string {
  const w = argv[0] ?? '';
  const command = /^[a-z][a-z0-9-]{0,23}$/.test(w) ? w : '-';
  const own = argv.indexOf('--') < 0 ? argv : argv.slice(0, argv.indexOf('--')); // after --: a container's command
  const options = [...new Set(own.flatMap((a) => (/^--[a-z][a-z0-9-]{0,23}(=|$)/.test(a) ? [a.slice(2).split('=')[0]!] : [])))].sort().slice(0, 6);
  return [command, ...options].join('+');
}

/** FNV-1a of a string, as 8 hex digits: a short, stable key for a folder's path. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * A cache file's name: `<folder key>~<script>~<command>~<node>~<identity>`. The folder key (a hash
 * of the script's folder) keeps two installations (a checkout and the package) apart; the identity
 * (device, inode, size, change time of the script) changes with every rebuild or upgrade.
 */
export function cacheFileName(p: { dir: string; script: string; command: string; node: string; identity: string }): string {
  return [fnv1a(p.dir), p.script, p.command, p.node, p.identity].join('~');
}
