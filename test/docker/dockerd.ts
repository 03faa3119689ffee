// A real dockerd for the Docker integration tests: reuse the one answering on the socket, or start
// Debian's dockerd (and stop it afterwards). `isolated: true` always starts a private daemon with
// its own socket, data-root and exec-root, so a test may kill it without disturbing anyone.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { killProcessesMatching } from '../support/processes';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

export interface DockerdHandle {
  socket: string;
  /** This process started the daemon (only then do stop/restart/kill act). */
  started: boolean;
  logFile?: string;
  /** Graceful stop (SIGTERM, then SIGKILL after 30 s); removes an isolated daemon's directories. */
  stop(): Promise<void>;
  /** Start it again with the same arguments (after kill() or stop()). */
  restart(): Promise<void>;
  /** SIGKILL the daemon, as a crash would. */
  kill(): Promise<void>;
  /** The last lines of the daemon's log (for failure messages). */
  logTail(): string;
}

export interface DockerdOptions {
  socket?: string;
  isolated?: boolean;
  /** More dockerd flags for an isolated daemon (e.g. --registry-mirror). */
  args?: string[];
}

/** GET /_ping on a unix socket; true when the daemon answers OK. */
export function ping(socket: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/_ping', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'OK'));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export function tail(file: string, bytes = 4000): string {
  try {
    const buf = fs.readFileSync(file);
    return buf.subarray(Math.max(0, buf.length - bytes)).toString('utf8');
  } catch {
    return '';
  }
}

function mountsUnder(dir: string): string[] {
  try {
    return fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m === dir || m.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
  } catch {
    return [];
  }
}

/**
 * dockerd reuses "its" containerd when the pid in <exec-root>/containerd/containerd.pid is alive.
 * After a crash that pid can be a zombie (this VM's PID 1 does not reap orphans), which dockerd
 * counts as alive and then waits forever for it: remove a pid file whose process is dead or a zombie.
 */
function clearStaleContainerdPid(execRoot: string): void {
  const file = path.join(execRoot, 'containerd', 'containerd.pid');
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
  } catch {
    return;
  }
  let state = '';
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '';
  } catch {
    state = 'gone';
  }
  if (state === 'gone' || state === 'Z' || state === 'X') fs.rmSync(file, { force: true });
}

function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

export async function ensureDockerd(opts: DockerdOptions = {}): Promise<DockerdHandle> {
  if (process.getuid?.() !== 0) throw new Error('starting dockerd for the Docker tests needs root');
  let root: string | undefined;
  let socket = opts.socket ?? DEFAULT_SOCKET;
  if (opts.isolated) {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'archway-dockerd-'));
    socket = path.join(root, 'docker.sock');
  } else if (await ping(socket)) {
    const notOurs = async () => {
      throw new Error(`the dockerd on ${socket} was not started by this test run; it is left alone`);
    };
    return { socket, started: false, stop: async () => undefined, restart: notOurs, kill: notOurs, logTail: () => '' };
  }

  const logDir = root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'archway-dockerd-log-'));
  const logFile = path.join(logDir, 'dockerd.log');
  const args = ['--host', `unix://${socket}`];
  if (root) {
    args.push(
      '--data-root', path.join(root, 'data'),
      '--exec-root', path.join(root, 'exec'),
      '--pidfile', path.join(root, 'docker.pid'),
      '--bridge', 'none',
      '--iptables=false',
      '--ip-masq=false',
      ...(opts.args ?? []),
    );
  }
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    clearStaleContainerdPid(root ? path.join(root, 'exec') : '/var/run/docker');
    const log = fs.openSync(logFile, 'a');
    try {
      child = spawn('dockerd', args, { stdio: ['ignore', log, log] });
    } finally {
      fs.closeSync(log);
    }
    const c = child;
    let gone = false;
    exited = new Promise((resolve) => {
      c.once('exit', () => {
        gone = true;
        resolve();
      });
      c.once('error', () => {
        gone = true;
        resolve();
      });
    });
    const deadline = Date.now() + 60_000;
    while (!(await ping(socket, 1000))) {
      if (gone) throw new Error(`dockerd exited while starting (log ${logFile}):\n${tail(logFile)}`);
      if (Date.now() > deadline) throw new Error(`dockerd did not answer on ${socket} within 60 s (log ${logFile}):\n${tail(logFile)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const stopChild = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    if (signal === 'SIGKILL' && c.pid) {
      // A crash takes the daemon's own containerd with it (Go's parent-death signal is not reliable):
      // kill its children too. Container shims are not children any more and survive, as in a real crash.
      for (const pid of childrenOf(c.pid)) process.kill(pid, 'SIGKILL');
    }
    c.kill(signal);
    const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    socket,
    started: true,
    logFile,
    logTail: () => tail(logFile),
    kill: () => stopChild('SIGKILL'),
    restart: async () => {
      await stopChild('SIGTERM');
      await start();
    },
    stop: async () => {
      await stopChild('SIGTERM');
      if (root) {
        // A daemon that was killed leaves its container shims behind (they serve our private
        // containerd socket): end them, then whatever they kept mounted under our directory.
        const ours = `${root}/exec/containerd/containerd.sock`;
        killProcessesMatching((argv) => argv.includes(ours));
        for (let i = 0; i < 50 && mountsUnder(root).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
        for (const m of mountsUnder(root)) spawnSync('umount', ['-l', m]);
        if (mountsUnder(root).length === 0) fs.rmSync(root, { recursive: true, force: true });
      } else {
        fs.rmSync(logDir, { recursive: true, force: true });
      }
    },
  };
}
