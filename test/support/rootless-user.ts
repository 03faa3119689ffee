// A throw-away unprivileged user with subordinate ids, for tests of rootless engines: created with
// useradd (Debian's gives /etc/subuid and /etc/subgid ranges), with its own $XDG_RUNTIME_DIR, and
// removed (with every process it left, e.g. Podman's pause process) by remove(). Root only creates
// and removes the account; everything under test runs as the user, with a clean environment.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { runArgv, type RunResult } from '../kernel/namespace';
import { ping } from '../docker/dockerd';

export interface RootlessUser {
  name: string;
  uid: number;
  home: string;
  runtime: string;
  /** The environment the user's commands run with (no DOCKER_HOST, no context, nothing of root's). */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Run argv as the user with that environment (runuser, then exec: no shell). */
  run(argv: string[], opts?: { env?: Record<string, string>; timeoutMs?: number; input?: string }): Promise<RunResult>;
  /** The argv that runs `argv` as the user with that environment (for a wrapper such as the harness's router process). */
  argv(argv: string[], env?: Record<string, string>): string[];
  /** Start a long-running process as the user. */
  spawn(argv: string[], opts?: { env?: Record<string, string> }): ChildProcess;
  remove(): Promise<void>;
}

export function rootlessToolsAvailable(): boolean {
  return ['useradd', 'userdel', 'runuser', 'newuidmap', 'podman'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);
}

/**
 * useradd/userdel, again while another test file holds the lock of /etc/passwd or /etc/group (test
 * files run in parallel): exit 1 and 10 are "cannot update the password/group file", 8 (userdel)
 * "the user is still running something".
 */
async function accountsTool(tool: 'useradd' | 'userdel', args: string[]): Promise<{ status: number | null; stderr: string }> {
  for (let i = 0; ; i++) {
    const r = spawnSync(tool, args, { encoding: 'utf8' });
    if (![1, 8, 10].includes(r.status ?? -1) || i >= 50) return { status: r.status, stderr: r.stderr };
    await new Promise((res) => setTimeout(res, 100));
  }
}

export async function createRootlessUser(prefix = 'awrl'): Promise<RootlessUser> {
  if (process.getuid?.() !== 0) throw new Error('creating a throw-away user needs root');
  const name = `${prefix}${randomBytes(3).toString('hex')}`;
  const add = await accountsTool('useradd', ['--create-home', '--shell', '/bin/sh', name]);
  if (add.status !== 0) throw new Error(`useradd ${name}: ${add.stderr}`);
  const uid = Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
  const home = `/home/${name}`;
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    if (!fs.readFileSync(f, 'utf8').split('\n').some((l) => l.startsWith(`${name}:`))) {
      spawnSync('userdel', ['--remove', '--force', name]);
      throw new Error(`useradd gave ${name} no entry in ${f}`);
    }
  }
  const runtime = `/run/user/${uid}`;
  fs.mkdirSync(runtime, { recursive: true, mode: 0o700 });
  spawnSync('chown', ['-R', `${uid}:${uid}`, runtime]);
  fs.chmodSync(runtime, 0o700);
  const env = (extra: Record<string, string> = {}) => ({
    HOME: home,
    USER: name,
    LOGNAME: name,
    XDG_RUNTIME_DIR: runtime,
    PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    ...extra,
  });
  const argvAs = (argv: string[], extra?: Record<string, string>) => [
    'runuser', '-u', name, '--', 'env', '-i', ...Object.entries(env(extra)).map(([k, v]) => `${k}=${v}`), ...argv,
  ];
  let removed = false;
  return {
    name,
    uid,
    home,
    runtime,
    env,
    argv: argvAs,
    run: (argv, opts = {}) => runArgv(argvAs(argv, opts.env), { timeoutMs: opts.timeoutMs ?? 120_000, ...(opts.input !== undefined ? { input: opts.input } : {}) }),
    spawn: (argv, opts = {}) => {
      const a = argvAs(argv, opts.env);
      return spawn(a[0]!, a.slice(1), { stdio: 'ignore' });
    },
    remove: async () => {
      if (removed) return;
      removed = true;
      // Rootless Podman leaves a pause process in the user's namespace, and conmon's `podman
      // container cleanup` may start one again while we kill: kill until none is left (bounded).
      for (let i = 0; i < 50 && spawnSync('pgrep', ['-u', name]).status === 0; i++) {
        spawnSync('pkill', ['-KILL', '-u', name]);
        await new Promise((r) => setTimeout(r, 100));
      }
      const del = await accountsTool('userdel', ['--remove', '--force', name]);
      fs.rmSync(runtime, { recursive: true, force: true });
      if (spawnSync('id', ['-u', name]).status === 0) throw new Error(`could not remove the test user ${name}: ${del.stderr}`);
    },
  };
}

/**
 * A daemon started as the user (`child`), once `socket` answers /_ping; stop() sends SIGTERM (runuser
 * forwards it) and waits for the exit.
 */
async function whenServing(child: ChildProcess, socket: string, what: string, timeoutMs: number): Promise<{ socket: string; stop(): Promise<void> }> {
  const deadline = Date.now() + timeoutMs;
  while (!(fs.existsSync(socket) && (await ping(socket, 1000)))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${what} did not start`);
    // No event tells when the socket starts answering; the deadline bounds this poll.
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    socket,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

/** `podman system service` as the user on $XDG_RUNTIME_DIR/podman/podman.sock, answering /_ping. */
export async function startUserPodmanService(u: RootlessUser): Promise<{ socket: string; stop(): Promise<void> }> {
  fs.mkdirSync(`${u.runtime}/podman`, { recursive: true, mode: 0o700 });
  spawnSync('chown', ['-R', `${u.uid}:${u.uid}`, `${u.runtime}/podman`]);
  const socket = `${u.runtime}/podman/podman.sock`;
  return whenServing(u.spawn(['podman', 'system', 'service', '--time=0', `unix://${socket}`]), socket, 'the rootless podman service', 30_000);
}

/**
 * Rootless Docker as the user: Debian's dockerd-rootless.sh (docker.io) under rootlesskit. This
 * machine's /dev/net/tun is root-only (mode 600), so slirp4netns cannot make its tap device: the
 * daemon runs with rootlesskit's host network, no port driver, no bridge and no iptables — the
 * user and mount namespaces, which are what binfmt_misc cares about, are rootlesskit's as usual.
 * Resolves once the socket answers /_ping; stop() ends rootlesskit and with it the namespace.
 */
export async function startUserDockerd(u: RootlessUser): Promise<{ socket: string; stop(): Promise<void> }> {
  const env = {
    PATH: '/usr/share/docker.io/contrib:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    DOCKERD_ROOTLESS_ROOTLESSKIT_NET: 'host',
    DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER: 'none',
    DOCKERD_ROOTLESS_ROOTLESSKIT_MTU: '1500',
  };
  return whenServing(u.spawn(['dockerd-rootless.sh', '--iptables=false', '--bridge=none'], { env }), `${u.runtime}/docker.sock`, 'rootless dockerd', 60_000);
}

export function rootlessDockerAvailable(): boolean {
  return ['rootlesskit', 'dockerd', 'docker'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0) && fs.existsSync('/usr/share/docker.io/contrib/dockerd-rootless.sh');
}
