// A real Podman for the container-engine tests: `podman system service` on a private unix socket
// (Podman's Docker-compatible API), with private storage so tests neither see nor change the
// machine's own Podman images and containers. Stopped (and its directories removed) by stop().
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { killProcessesMatching } from '../support/processes';
import { ping } from './dockerd';

export interface PodmanHandle {
  socket: string;
  /** Podman's own storage for this service (graph root). */
  root: string;
  /** The last lines of the service's log (for failure messages). */
  logTail(): string;
  stop(): Promise<void>;
}

export function podmanAvailable(): boolean {
  return spawnSync('podman', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Wait for `socket` to answer /_ping, or for the process to die. */
async function waitForPing(socket: string, child: ChildProcess, logTail: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`podman system service exited before answering:\n${logTail()}`);
    if (fs.existsSync(socket) && (await ping(socket, 1000))) return;
    // Polling a socket that has no event to wait for; the deadline bounds it.
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`podman system service did not answer on ${socket} within ${timeoutMs} ms:\n${logTail()}`);
}

/**
 * Start a rootful Podman API service with private storage (--root/--runroot) on a socket in a
 * fresh temporary directory. `socket` may name another path (its directory must exist).
 */
export async function startPodman(opts: { socket?: string; insecureRegistries?: string[] } = {}): Promise<PodmanHandle> {
  if (process.getuid?.() !== 0) throw new Error('the Podman tests start a rootful service and need root');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'archway-podman-'));
  const socket = opts.socket ?? path.join(root, 'podman.sock');
  const logFile = path.join(root, 'service.log');
  const log = fs.openSync(logFile, 'a');
  const args = [
    '--root', path.join(root, 'storage'),
    '--runroot', path.join(root, 'run'),
    '--tmpdir', path.join(root, 'tmp'),
    '--storage-driver', 'vfs',
    '--cgroup-manager', 'cgroupfs',
    '--events-backend', 'file',
    'system', 'service', '--time=0', `unix://${socket}`,
  ];
  // Local test registries speak plain HTTP on loopback: Docker allows that by default, Podman only
  // for registries its configuration names as insecure.
  const env = { ...process.env };
  // Rootful Podman gives containers nofile=1048576 and nproc=4194304 unless told otherwise; where
  // the sandbox this runs in caps them lower (nofile 20000 on this CI machine, and not even root may
  // raise them) runc fails with "error setting rlimit type 7/6". The test service gives its
  // containers modest limits instead (busybox needs few).
  const conf = path.join(root, 'containers.conf');
  fs.writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n');
  env.CONTAINERS_CONF = conf;
  if (opts.insecureRegistries?.length) {
    const conf = path.join(root, 'registries.conf');
    fs.writeFileSync(conf, opts.insecureRegistries.map((r) => `[[registry]]\nlocation = "${r}"\ninsecure = true\n`).join('\n'));
    env.CONTAINERS_REGISTRIES_CONF = conf;
  }
  const child = spawn('podman', args, { stdio: ['ignore', log, log], detached: false, env });
  fs.closeSync(log);
  const logTail = () => {
    try {
      return fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '';
    }
  };
  await waitForPing(socket, child, logTail);
  return {
    socket,
    root,
    logTail,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(t);
      }
      // Containers' overlay/vfs layers may hold mounts: let podman clean its own storage first.
      spawnSync('podman', ['--root', path.join(root, 'storage'), '--runroot', path.join(root, 'run'), '--storage-driver', 'vfs', 'system', 'reset', '--force'], { stdio: 'ignore', timeout: 60_000 });
      // Podman 4.3 leaves the conmon of each exec session (the engine registrar's) running after
      // the service and its containers are gone: end every process that still names this root.
      killProcessesMatching((_argv, raw) => raw.includes(`${root}/`));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
