// A small fleet on one machine, for the fleet tests (test/fleet) and the Machines view in Chromium
// (test/e2e/machines.test.ts); startFleet() sets up all of it:
//  - "host 1" and "host 2": two real dockerds, each in its own network namespace (`ip netns`), mount namespace and
//    user namespace (uid/gid 0–65535 mapped to themselves), with its OWN binfmt_misc instance mounted
//    at /proc/sys/fs/binfmt_misc (Linux ≥ 6.7: an instance per user namespace). Its containers live in
//    that user namespace, so handlers registered there serve that host's containers only and the
//    machine's own kernel table is never touched. Both hosts start with empty tables, whatever this
//    machine's history (install all, another tool's handlers): the tests set up what they need.
//  - Debian's openssh-server on loopback with its own config, port and host keys, letting root in with
//    a throw-away key; `docker system dial-stdio` on the "remote" side reaches host 2's socket
//    (sshd's SetEnv DOCKER_HOST).
//  - a client home with ~/.ssh/config naming the alias, and a DOCKER_CONFIG with contexts; the CLI
//    runs in a private mount namespace where that home is bind-mounted on /root (ssh reads the
//    config of the user's passwd home, never $HOME), so root's real ~/.ssh is never read or changed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Connection } from '../../electron/container/endpoint';
import { connect } from '../../electron/container/endpoint';
import { ping, tail } from '../docker/dockerd';
import { loadBusybox, loadNativeBusybox } from '../docker/env';
import { killProcessesMatching } from './processes';

function run(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, gone: () => boolean, timeoutMs: number, log: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (gone()) throw new Error(`${what} exited while starting:\n${tail(log)}`);
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${timeoutMs} ms:\n${tail(log)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface IsolatedHost {
  socket: string;
  netns: string;
  root: string;
  pid: number;
  /** The entries of this host's private binfmt_misc instance, read from inside its mount namespace. */
  entries(): string[];
  /** Write one line to this host's instance's `register` file (set-up only: the product goes through the engine). */
  register(line: string): void;
  stop(): Promise<void>;
}
/** Host 2 (and host 1): an isolated host. */
export type Host2 = IsolatedHost;

/** Start a dockerd in its own net + mount + user namespace with a private binfmt_misc instance. */
export async function startIsolatedHost(label = 'h2'): Promise<IsolatedHost> {
  // Short paths: dockerd's socket and containerd's paths must stay under the unix socket limit.
  const root = fs.mkdtempSync(`/tmp/aw-${label}-`);
  const netns = `archway-fleet-${label}-${process.pid}`;
  run(['ip', 'netns', 'add', netns]);
  const socket = path.join(root, 'docker.sock');
  const log = path.join(root, 'dockerd.log');
  const out = fs.openSync(log, 'a');
  const script = [
    'read go',
    'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc',
    `exec dockerd --host unix://${socket} --data-root ${root}/data --exec-root ${root}/exec --pidfile ${root}/docker.pid --bridge none --iptables=false --ip-masq=false </dev/null`,
  ].join(' && ');
  // nsenter and unshare exec (no fork): the child's pid is the shell's, then dockerd's.
  const child: ChildProcess = spawn('nsenter', [`--net=/var/run/netns/${netns}`, 'unshare', '--user', '--mount', '--propagation', 'private', 'sh', '-c', script], {
    stdio: ['pipe', out, out],
  });
  fs.closeSync(out);
  let gone = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => ((gone = true), resolve())));
  const pid = child.pid!;
  // Wait until the shell is inside the new user namespace, then map ids 0–65535 to themselves (as
  // root outside, any map may be written; devpts needs gid 5, so --map-root-user's single id is not enough).
  const selfNs = fs.readlinkSync('/proc/self/ns/user');
  await waitFor(`the ${label} namespace`, () => {
    try {
      return fs.readlinkSync(`/proc/${pid}/ns/user`) !== selfNs && /\bsh\b/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  }, () => gone, 10_000, log);
  fs.writeFileSync(`/proc/${pid}/uid_map`, '0 0 65536\n');
  fs.writeFileSync(`/proc/${pid}/gid_map`, '0 0 65536\n');
  child.stdin!.end('go\n');
  await waitFor(`${label}'s dockerd`, () => ping(socket, 1000), () => gone, 60_000, log);
  return {
    socket,
    netns,
    root,
    pid,
    entries: () =>
      run(['nsenter', `--target=${pid}`, '--user', '--mount', 'ls', '/proc/sys/fs/binfmt_misc'])
        .split('\n')
        .filter((n) => n && n !== 'register' && n !== 'status')
        .sort(),
    register: (line: string) => {
      const r = spawnSync('nsenter', [`--target=${pid}`, '--user', '--mount', 'sh', '-c', 'printf "%s" "$0" > /proc/sys/fs/binfmt_misc/register', line], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`register on ${label} failed: ${r.stderr}`);
    },
    stop: async () => {
      if (!gone) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(t);
      }
      // Container shims of this daemon serve its private containerd socket: end any left over.
      const ours = `${root}/exec/containerd/containerd.sock`;
      killProcessesMatching((argv) => argv.includes(ours));
      spawnSync('ip', ['netns', 'del', netns]);
      // The daemon's mounts lived in its own mount namespace and died with it.
      fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Sshd {
  port: number;
  /** The client home (bind-mounted on /root for the CLI): .ssh/config, the key, known_hosts. */
  home: string;
  alias: string;
  /** Lines sshd logged (connections, authentications). */
  log(): string;
  stop(): Promise<void>;
}

/** Debian's sshd on 127.0.0.1 with its own config, port and host key; root logs in with a throw-away key only. */
export async function startSshd(opts: { alias: string; remoteDockerHost: string; extraAliases?: { alias: string; port: number }[] }): Promise<Sshd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-sshd-'));
  const home = path.join(dir, 'home');
  fs.mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
  run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'archway-fleet-host', '-f', path.join(dir, 'host_key')]);
  run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'archway-fleet-client', '-f', path.join(home, '.ssh', 'id_ed25519')]);
  fs.copyFileSync(path.join(home, '.ssh', 'id_ed25519.pub'), path.join(dir, 'authorized_keys'));
  const port = await freePort();
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${dir}/host_key`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PrintMotd no',
      'LogLevel VERBOSE',
      // The remote side's docker CLI talks to host 2 (as a remote user's environment would).
      `SetEnv DOCKER_HOST=${opts.remoteDockerHost}`,
      '',
    ].join('\n'),
  );
  const hostPub = fs.readFileSync(path.join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  fs.writeFileSync(path.join(home, '.ssh', 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
  fs.writeFileSync(
    path.join(home, '.ssh', 'config'),
    [
      ...[{ alias: opts.alias, port }, ...(opts.extraAliases ?? [])].flatMap((a) => [`Host ${a.alias}`, '  HostName 127.0.0.1', `  Port ${a.port}`, '  User root', '  IdentityFile ~/.ssh/id_ed25519', '  IdentitiesOnly yes', '  StrictHostKeyChecking yes', '  UserKnownHostsFile ~/.ssh/known_hosts']),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const log = path.join(dir, 'sshd.log');
  const out = fs.openSync(log, 'a');
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  let gone = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => ((gone = true), resolve())));
  await waitFor('sshd', () => /Server listening on 127\.0\.0\.1/.test(tail(log)), () => gone, 20_000, log);
  return {
    port,
    home,
    alias: opts.alias,
    log: () => tail(log, 200_000),
    stop: async () => {
      if (!gone) {
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ContextSpec {
  name: string;
  host: string;
}

/** A DOCKER_CONFIG directory with these contexts (meta.json under sha256(name), as the docker CLI writes it). */
export function writeDockerConfig(dir: string, contexts: ContextSpec[], current?: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(current ? { currentContext: current } : {}));
  for (const c of contexts) {
    const meta = path.join(dir, 'contexts', 'meta', createHash('sha256').update(c.name).digest('hex'));
    fs.mkdirSync(meta, { recursive: true });
    fs.writeFileSync(path.join(meta, 'meta.json'), JSON.stringify({ Name: c.name, Metadata: {}, Endpoints: { docker: { Host: c.host, SkipTLSVerify: false } } }));
  }
  return dir;
}

/** A TCP port that accepts connections and never answers (a hung engine). */
export async function hangingServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const s = net.createServer((c) => {
    sockets.add(c);
    c.on('error', () => undefined);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as net.AddressInfo).port,
    close: () =>
      new Promise((r) => {
        for (const c of sockets) c.destroy();
        s.close(() => r());
      }),
  };
}

/**
 * The argv that runs `argv` in a private mount namespace where `home` is bind-mounted on /root, so
 * that ssh (which reads the passwd home's ~/.ssh) sees the test's config, key and known_hosts.
 */
export function withHome(home: string, argv: string[]): string[] {
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /root && exec "$@"', home, ...argv];
}

export const FLEET_ALIAS = 'archway-host2';
/** The registration helper on both hosts: a static busybox (i386 runs natively on x86_64) labelled as the engine's platform. */
export const FLEET_REGISTRAR = 'archway-test/fleet-registrar:amd64';
/** A static arm64 busybox loaded on both hosts (for probes). */
export const FLEET_ARM64 = 'archway-test/fleet:arm64';

export interface Fleet {
  /** Host 1: like host 2, an isolated dockerd with its own (initially empty) binfmt_misc instance, reached by its unix socket. */
  host1: IsolatedHost;
  host2: Host2;
  sshd: Sshd;
  /** A DOCKER_CONFIG with the contexts host1 (unix), host2 (ssh://alias), hang (tcp, never answers),
   * refuse (tcp, nothing listens) and hangssh (ssh to a server that never speaks). */
  dockerConfig: string;
  stop(): Promise<void>;
}

/** Host 1, host 2 behind sshd, a hanging and a refusing context, with the registrar and an arm64 image on both hosts. */
export async function startFleet(): Promise<Fleet> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-fleet-'));
  const stops: (() => Promise<void> | void)[] = [() => fs.rmSync(tmp, { recursive: true, force: true })];
  const conns: Connection[] = [];
  const stop = async () => {
    for (const c of conns.splice(0)) c.close();
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    const host1 = await startIsolatedHost('h1');
    stops.push(() => host1.stop());
    const host2 = await startIsolatedHost('h2');
    stops.push(() => host2.stop());
    const hang = await hangingServer();
    stops.push(() => hang.close());
    // An ssh alias whose server accepts the connection and never speaks: the ssh path is bounded too.
    const sshd = await startSshd({ alias: FLEET_ALIAS, remoteDockerHost: `unix://${host2.socket}`, extraAliases: [{ alias: 'archway-hang', port: hang.port }] });
    stops.push(() => sshd.stop());
    const refused = await freePort();
    const dockerConfig = writeDockerConfig(path.join(tmp, 'docker'), [
      { name: 'host1', host: `unix://${host1.socket}` },
      { name: 'host2', host: `ssh://${FLEET_ALIAS}` },
      { name: 'hang', host: `tcp://127.0.0.1:${hang.port}` },
      { name: 'refuse', host: `tcp://127.0.0.1:${refused}` },
      { name: 'hangssh', host: 'ssh://archway-hang' },
    ]);
    for (const h of [host1, host2]) conns.push(await connect({ endpoint: { kind: 'unix', socketPath: h.socket, source: 'explicit' } }));
    for (const c of conns) {
      await loadNativeBusybox(c, FLEET_REGISTRAR);
      await loadBusybox(c, 'arm64', FLEET_ARM64);
    }
    for (const c of conns.splice(0)) c.close();
    return { host1, host2, sshd, dockerConfig, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
