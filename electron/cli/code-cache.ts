/**
 * Where the CLI's code cache may live and what its files are kept per (electron/cli/loader.ts).
 * Builtins come from process.getBuiltinModule where Node has it (no ES module facades at start-up).
 */
import type * as FsT from 'node:fs';
import type * as PathT from 'node:path';

// Node < 20.16 (a distribution's Node 18) has no process.getBuiltinModule.
const nodeRequire = typeof process.getBuiltinModule === 'function' ? undefined : (await import('node:module')).createRequire(import.meta.url);
/** One of Node's own modules, without an ES module facade (importing node:fs from an ES module loads fs streams). */
export const builtin = <T>(name: string): T => (process.getBuiltinModule?.(name) ?? nodeRequire!(name)) as T;
const fs = builtin<typeof FsT>('node:fs');
const path = builtin<typeof PathT>('node:path');

/** The user's code cache directory (created when missing), or undefined when there may be none. */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env, uid = process.geteuid?.()): string | undefined {
  const base = env.XDG_CACHE_HOME || (env.HOME ? path.join(env.HOME, '.cache') : '');
  if (!path.isAbsolute(base) || uid === undefined) return undefined;
  const dir = path.join(base, 'archway', 'code-cache');
  const mine = (d: string): boolean => {
    const st = fs.lstatSync(d);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0;
  };
  try {
    // The usual case, from the second run on: three lstat calls and nothing created.
    if ([dir, path.dirname(dir), base].every(mine)) return dir;
  } catch {
    // something is missing: made below, where allowed
  }
  try {
    // Nothing is created in someone else's home (root with a user's HOME creates no root-owned folders there).
    if (!mine(fs.existsSync(base) ? base : path.dirname(base))) return undefined;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return [dir, path.dirname(dir), base].every(mine) ? dir : undefined;
  } catch {
    return undefined; // read-only or foreign home: run without a cache
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
