/**
 * Rootless engines and their binfmt_misc instances (Linux ≥ 6.7), as the current user sees them.
 * Reading only: pid files, /proc/<pid>/{status,uid_map,ns/user}, statfs/stat through
 * /proc/<pid>/root. Nothing here starts a process except the kernel probe (kernelSupport), which
 * runs `unshare` with argv only.
 *
 * Facts this relies on (verified on this kernel, 6.18, with Debian's podman 4.3):
 *  - Podman keeps its rootless user and mount namespaces alive in a pause process whose pid is in
 *    `$XDG_RUNTIME_DIR/libpod/tmp/pause.pid` (podman 4 and 5; without XDG_RUNTIME_DIR podman uses
 *    /run/user/<uid>, else /tmp/podman-run-<uid>). `podman system migrate` kills it.
 *  - Rootless Docker runs dockerd inside rootlesskit's namespaces and writes dockerd's pid to
 *    `$XDG_RUNTIME_DIR/docker.pid`; rootlesskit's state dir `$XDG_RUNTIME_DIR/dockerd-rootless`
 *    holds `child_pid` (the first process inside).
 *  - A binfmt_misc mounted inside a user namespace is that namespace's own instance: its files are
 *    owned by the namespace's root, which (for a rootless engine) is the user. Seen from outside
 *    through /proc/<pid>/root, our instance's `register` belongs to the user; the host's (visible
 *    there until we mount over it) belongs to uid 0.
 *  - Once a namespace has an instance, the kernel never looks further up for that namespace's
 *    processes: the host's handlers stop applying to the engine's containers altogether (not per
 *    architecture), even after the instance is unmounted.
 */
import { readFileSync, statSync, statfsSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_BINFMT } from '../engine/paths';

export type RootlessScope = 'podman' | 'docker';
export const ROOTLESS_SCOPES: readonly RootlessScope[] = ['podman', 'docker'];
export const SCOPE_NAMES: Record<RootlessScope, string> = { podman: 'your rootless Podman', docker: 'your rootless Docker' };

/** statfs(2) f_type of binfmt_misc. */
const BINFMTFS_MAGIC = 0x42494e4d;

export type Read = (path: string) => string;
const readText: Read = (p) => readFileSync(p, 'utf8');

/** The runtime directory podman and rootless dockerd use: $XDG_RUNTIME_DIR, else /run/user/<uid>. */
export function runtimeDir(env: NodeJS.ProcessEnv, uid: number): string {
  return env.XDG_RUNTIME_DIR && env.XDG_RUNTIME_DIR.startsWith('/') ? env.XDG_RUNTIME_DIR : `/run/user/${uid}`;
}

/** Where each engine writes the pid of a process inside its namespaces, most specific first. */
export function pidFiles(scope: RootlessScope, env: NodeJS.ProcessEnv, uid: number): string[] {
  const run = runtimeDir(env, uid);
  if (scope === 'podman') return [join(run, 'libpod/tmp/pause.pid'), `/tmp/podman-run-${uid}/libpod/tmp/pause.pid`];
  return [join(run, 'docker.pid'), join(run, 'dockerd-rootless/child_pid')];
}

/** The real uid of a process (from /proc/<pid>/status), or undefined. */
export function processUid(pid: number, read: Read = readText): number | undefined {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(read(`/proc/${pid}/status`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The outside id that id 0 inside maps to, from a uid_map text ("0 1000 1\n1 100000 65536"). */
export function rootOutside(uidMap: string): number | undefined {
  for (const line of uidMap.trim().split('\n')) {
    const [inside, outside, count] = line.trim().split(/\s+/).map(Number);
    if (inside === 0 && count !== undefined && count >= 1 && Number.isInteger(outside)) return outside;
  }
  return undefined;
}

export interface EngineNamespace {
  scope: RootlessScope;
  /** A process inside the engine's user and mount namespaces. */
  pid: number;
  pidFile: string;
  /** Inode of its user namespace (changes when the namespace is made again). */
  userns: number;
}

export interface NoNamespace {
  scope: RootlessScope;
  /** Why there is none, for a person. */
  why: string;
}

function nsInode(pid: number | 'self'): number | undefined {
  try {
    return statSync(`/proc/${pid}/ns/user`).ino;
  } catch {
    return undefined;
  }
}

/**
 * The engine's namespace for this user: the first pid file naming a live process of this user in a
 * user namespace other than ours whose root is this user.
 */
export function findNamespace(scope: RootlessScope, env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0, read: Read = readText): EngineNamespace | NoNamespace {
  const tried: string[] = [];
  for (const file of pidFiles(scope, env, uid)) {
    let text: string;
    try {
      text = read(file);
    } catch {
      tried.push(`${file}: absent`);
      continue;
    }
    const pid = Number.parseInt(text.trim(), 10);
    if (!Number.isInteger(pid) || pid <= 1) {
      tried.push(`${file}: no pid in it`);
      continue;
    }
    const owner = processUid(pid, read);
    if (owner === undefined) {
      tried.push(`${file}: process ${pid} is gone`);
      continue;
    }
    if (owner !== uid) {
      tried.push(`${file}: process ${pid} belongs to uid ${owner}, not you`);
      continue;
    }
    const ns = nsInode(pid);
    if (ns === undefined || ns === nsInode('self')) {
      tried.push(`${file}: process ${pid} is not in a user namespace of its own`);
      continue;
    }
    let map = '';
    try {
      map = read(`/proc/${pid}/uid_map`);
    } catch {
      /* checked below */
    }
    if (rootOutside(map) !== uid) {
      tried.push(`${file}: the namespace of process ${pid} does not map root to you`);
      continue;
    }
    return { scope, pid, pidFile: file, userns: ns };
  }
  const start = scope === 'podman' ? 'run any podman command (podman info) to start it' : 'start it: systemctl --user start docker';
  return { scope, why: `no ${scope === 'podman' ? 'rootless Podman' : 'rootless Docker'} namespace is running (${tried.join('; ')}); ${start}` };
}

export function isNamespace(x: EngineNamespace | NoNamespace): x is EngineNamespace {
  return 'pid' in x;
}

/** The engine's binfmt_misc mount point, seen from outside its mount namespace. */
export function instancePath(pid: number): string {
  return `/proc/${pid}/root${DEFAULT_BINFMT}`;
}

export type InstanceState =
  /** The engine's own instance is mounted at the standard place in its mount namespace. */
  | 'own'
  /** What is mounted there is another instance (the host's, inherited with the mount namespace). */
  | 'inherited'
  /** Nothing is mounted there. */
  | 'none';

/**
 * Which binfmt_misc the engine's namespace shows at /proc/sys/fs/binfmt_misc: its own instance
 * (files owned by the namespace's root, i.e. the user), another one, or none.
 */
export function instanceState(pid: number, read: Read = readText): InstanceState {
  const path = instancePath(pid);
  try {
    if (statfsSync(path).type !== BINFMTFS_MAGIC) return 'none';
  } catch {
    return 'none';
  }
  let root: number | undefined;
  try {
    root = rootOutside(read(`/proc/${pid}/uid_map`));
  } catch {
    return 'none';
  }
  try {
    const st = statSync(join(path, 'register'));
    // Root outside mapped to root inside would make the two indistinguishable: not a rootless engine.
    return root !== undefined && root !== 0 && st.uid === root ? 'own' : 'inherited';
  } catch {
    return 'none';
  }
}

export interface KernelSupport {
  supported: boolean;
  release: string;
  /** How it was decided: the probe ran, or only the version was compared (probe impossible). */
  how: 'probe' | 'version';
  /** For a person: why not, and what to do instead. */
  why?: string;
}

/** "6.18.0-1-amd64" → [6, 18]. */
export function kernelVersion(release: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function versionSupports(release: string): boolean {
  const v = kernelVersion(release);
  return !!v && (v[0] > 6 || (v[0] === 6 && v[1] >= 7));
}

export const OLD_KERNEL_FIX =
  'binfmt_misc per user namespace needs Linux 6.7 or newer; use the host-wide handlers instead (one password): archway install ARCH';

/**
 * Can a user namespace have its own binfmt_misc here? Probed: mount binfmt_misc in a fresh user and
 * mount namespace (`unshare --user --map-root-user --mount mount -t binfmt_misc …`, argv only; it
 * changes nothing outside that throw-away namespace). Without unshare, the kernel version decides.
 */
export async function kernelSupport(release = readRelease()): Promise<KernelSupport> {
  const unshare = ['/usr/bin/unshare', '/bin/unshare'].find((p) => existsSync(p));
  const mount = ['/usr/bin/mount', '/bin/mount'].find((p) => existsSync(p));
  if (!unshare || !mount) {
    const supported = versionSupports(release);
    return { supported, release, how: 'version', ...(supported ? {} : { why: `Linux ${release}: ${OLD_KERNEL_FIX}` }) };
  }
  const { execFile } = await import('node:child_process');
  const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(unshare, ['--user', '--map-root-user', '--mount', mount, '-t', 'binfmt_misc', 'binfmt_misc', DEFAULT_BINFMT], { timeout: 10_000 }, (err, _out, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr: String(stderr) }),
    );
  });
  if (r.code === 0) return { supported: true, release, how: 'probe' };
  const why = versionSupports(release)
    ? `this system does not let you mount binfmt_misc in a user namespace (${r.stderr.trim().split('\n')[0] || `exit ${r.code}`}); unprivileged user namespaces may be turned off (sysctl kernel.unprivileged_userns_clone, AppArmor); use the host-wide handlers instead: archway install ARCH`
    : `Linux ${release}: ${OLD_KERNEL_FIX}`;
  return { supported: false, release, how: 'probe', why };
}

function readRelease(): string {
  try {
    return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}
