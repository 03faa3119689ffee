/**
 * Where Archway reads and writes. Defaults are the real system locations. Tests (and people who
 * want a dry playground) move the file locations under ARCHWAY_ROOT and the binfmt_misc mount with
 * ARCHWAY_BINFMT — but the privileged helper ignores both when it runs through pkexec, so a
 * caller cannot point a root process at files of their choosing.
 */
import { join } from 'node:path';

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

/** Paths from the environment (ARCHWAY_ROOT, ARCHWAY_BINFMT) unless `trustEnv` is false. */
export function pathsFromEnv(env: NodeJS.ProcessEnv = process.env, trustEnv = true): ArchwayPaths {
  if (!trustEnv) return archwayPaths();
  return archwayPaths(env.ARCHWAY_ROOT ?? '', env.ARCHWAY_BINFMT || DEFAULT_BINFMT);
}

export function recordFile(paths: ArchwayPaths): string {
  return join(paths.stateDir, 'state.json');
}

export function persistFile(paths: ArchwayPaths, name: string): string {
  return join(paths.persistDir, `${name}.conf`);
}
