/**
 * Where Archway reads and writes. Defaults are the real system locations. Tests (and people who
 * want a dry playground) move the file locations under ARCHWAY_ROOT and the binfmt_misc mount with
 * ARCHWAY_BINFMT — but the privileged helper ignores both when it runs through pkexec, so a
 * caller cannot point a root process at files of their choosing.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { childPath } from '../../shared/child-path';
import { lazyBuiltin } from './lazy-builtin';

export interface ArchwayPaths {
  /** Prefix of every file location ('' = the real system). */
  root: string;
  /** binfmt_misc mount point. */
  binfmt: string;
  /** systemd-binfmt directories, highest precedence first. */
  binfmtdDirs: string[];
  /** Where persist files go. */
  persistDir: string;
  /** Debian binfmt-support's admin directory. */
  binfmtSupportDir: string;
  /** Archway's ownership record and journal. */
  stateDir: string;
  /** Archway's root-owned emulator store. */
  storeDir: string;
  /** Append-only audit log of privileged changes. */
  auditLog: string;
}

export const DEFAULT_BINFMT = '/proc/sys/fs/binfmt_misc';

export function archwayPaths(root = '', binfmt = DEFAULT_BINFMT): ArchwayPaths {
  const r = (p: string) => (root ? join(root, p) : p);
  return {
    root,
    binfmt,
    binfmtdDirs: ['/etc/binfmt.d', '/run/binfmt.d', '/usr/local/lib/binfmt.d', '/usr/lib/binfmt.d'].map(r),
    persistDir: r('/etc/binfmt.d'),
    binfmtSupportDir: r('/var/lib/binfmts'),
    stateDir: r('/var/lib/archway'),
    storeDir: r('/var/lib/archway/emulators'),
    auditLog: r('/var/log/archway/audit.log'),
  };
}

/** The initial user namespace maps every id to itself: exactly `0 0 4294967295`. */
export function isInitialUserNs(uidMap: string): boolean {
  // One line "0 0 4294967295" (any spacing): exactly these three numbers in the whole map.
  const f = uidMap.trim().split(/\s+/);
  return f.length === 3 && f[0] === '0' && f[1] === '0' && f[2] === '4294967295';
}

/** Which binfmt_misc instance this process works on: the host's, or a private one (and its key). */
export function binfmtInstance(env: NodeJS.ProcessEnv, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): { host: true } | { host: false; key: string } {
  let uidMap = '';
  try {
    uidMap = read('/proc/self/uid_map');
  } catch {
    uidMap = '';
  }
  const override = !!env.ARCHWAY_BINFMT && env.ARCHWAY_BINFMT !== DEFAULT_BINFMT;
  if (isInitialUserNs(uidMap) && !override) return { host: true };
  let ns = 'userns';
  try {
    ns = `userns-${statSync('/proc/self/ns/user').ino}`;
  } catch {
    /* keep the generic name */
  }
  const where = override ? `-${env.ARCHWAY_BINFMT!.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 60)}` : '';
  return { host: false, key: `${ns}${where}` };
}

const os = lazyBuiltin<typeof import('node:os')>('node:os');

/**
 * An XDG base directory (XDG_STATE_HOME, XDG_CONFIG_HOME…): the variable when it is an absolute
 * path, else `fallback` under the home directory ($HOME first, as os.homedir() itself does).
 */
export function xdgDir(value: string | undefined, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  return value && value.startsWith('/') ? value : join(env.HOME || os().homedir(), fallback);
}

/**
 * Paths from the environment (ARCHWAY_ROOT, ARCHWAY_BINFMT) unless `trustEnv` is false.
 *
 * One instance, one state: when the binfmt_misc instance is not the host's (this process is not in
 * the initial user namespace, or ARCHWAY_BINFMT names another mount) and no ARCHWAY_ROOT is given,
 * the record, journal, lock and audit log live under `$XDG_STATE_HOME/archway/<instance>/`
 * (falling back to ~/.local/state), never in the host's /var/lib/archway or /var/log/archway.
 * Under pkexec (trustEnv false) the helper always works on the host's instance and files.
 */
export function pathsFromEnv(env: NodeJS.ProcessEnv = process.env, trustEnv = true, instance = binfmtInstance): ArchwayPaths {
  if (!trustEnv) return archwayPaths();
  const paths = archwayPaths(env.ARCHWAY_ROOT ?? '', env.ARCHWAY_BINFMT || DEFAULT_BINFMT);
  if (env.ARCHWAY_ROOT) return paths;
  const inst = instance(env);
  if (inst.host) return paths;
  const dir = join(xdgDir(env.XDG_STATE_HOME, '.local/state', env), 'archway', inst.key);
  return { ...paths, stateDir: dir, storeDir: join(dir, 'emulators'), auditLog: join(dir, 'audit.log') };
}

export function recordFile(paths: ArchwayPaths): string {
  return join(paths.stateDir, 'state.json');
}

export function persistFile(paths: ArchwayPaths, name: string): string {
  return childPath(paths.persistDir, `${name}.conf`);
}

const absent = (err: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');

/**
 * A file's text, or undefined when there is none (ENOENT, or ENOTDIR: a path through a file).
 * stat(2) asks first: a thrown ENOENT (an Error with its stack) costs a short command more than
 * the extra call, and much of what status reads (the store's manifest, binfmt.d directories) is
 * usually absent. For readers that took any failure as "none"; any other error is thrown, as
 * readFileSync throws it.
 */
export function readIfPresent(path: string): string | undefined {
  if (!statSync(path, { throwIfNoEntry: false })) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (absent(err)) return undefined; // removed since
    throw err;
  }
}

/** A directory's names (readdirSync's order), or undefined when there is no such directory: as readIfPresent. */
export function listIfPresent(dir: string): string[] | undefined {
  if (!statSync(dir, { throwIfNoEntry: false })) return undefined;
  try {
    return readdirSync(dir);
  } catch (err) {
    if (absent(err)) return undefined;
    throw err;
  }
}
