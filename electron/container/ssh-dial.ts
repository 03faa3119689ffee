/**
 * ssh:// engines as the docker CLI reaches them (cli/connhelper): run the system's `ssh` client —
 * so the user's ~/.ssh/config (host aliases, User, Port, IdentityFile, ProxyJump), agent and
 * known_hosts all apply — with `docker system dial-stdio` on the remote side, and speak the Engine
 * API's HTTP over that process's stdin/stdout. One ssh process per connection; idle connections
 * are pooled like sockets and end their ssh process when closed.
 *
 * argv only, no shell on this side. `-o BatchMode=yes`: never a password or passphrase prompt (a
 * GUI or a fleet run has no terminal to ask on); `ConnectTimeout` bounds the TCP connect.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import { Duplex } from 'node:stream';
import { cleanText } from '../../shared/sanitize';

export interface SshTarget {
  host: string;
  port?: number;
  user?: string;
}

/** The remote command, as the docker CLI sends it. */
export const DIAL_STDIO = ['docker', 'system', 'dial-stdio'] as const;

/**
 * The ssh argv for a target. The host comes from a context or DOCKER_HOST: anything that ssh could
 * read as an option (a leading "-") or that is not a plain host name is refused before ssh runs.
 */
export function sshArgv(t: SshTarget, opts: { connectTimeoutS?: number } = {}): string[] {
  if (!/^[A-Za-z0-9_.:%\-\[\]]+$/.test(t.host) || t.host.startsWith('-')) throw new Error(`"${t.host}" is not a host name ssh can be given`);
  if (t.user !== undefined && (!/^[A-Za-z0-9_.][A-Za-z0-9_.\-]*$/.test(t.user))) throw new Error(`"${t.user}" is not a user name ssh can be given`);
  if (t.port !== undefined && !(Number.isInteger(t.port) && t.port > 0 && t.port < 65536)) throw new Error(`${t.port} is not a port`);
  return [
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${Math.max(1, Math.ceil(opts.connectTimeoutS ?? 10))}`,
    '-T',
    ...(t.user ? ['-l', t.user] : []),
    ...(t.port ? ['-p', String(t.port)] : []),
    '--',
    t.host,
    ...DIAL_STDIO,
  ];
}

/** Why ssh ended before the engine answered: its exit status and last words (stderr). */
export class SshDialError extends Error {
  readonly code = 'ESSHDIAL';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'SshDialError';
  }
}

/** A connection to the engine through one ssh process: its stdout is read, its stdin written. */
export class SshStream extends Duplex {
  private stderr = '';
  private readonly child: ChildProcess;
  private gotData = false;

  constructor(t: SshTarget, opts: { sshPath?: string; connectTimeoutS?: number; env?: NodeJS.ProcessEnv } = {}) {
    super({ allowHalfOpen: false });
    let argv: string[];
    try {
      argv = sshArgv(t, opts);
    } catch (err) {
      this.child = undefined as unknown as ChildProcess;
      process.nextTick(() => this.destroy(new SshDialError((err as Error).message, null, '')));
      return;
    }
    const child = spawn(opts.sshPath ?? 'ssh', argv, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    this.child = child;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    child.stdout!.on('data', (d: Buffer) => {
      this.gotData = true;
      if (!this.push(d)) child.stdout!.pause();
    });
    child.stdin!.on('error', () => undefined); // ssh gone: reported through 'close'
    child.on('error', (err) => this.destroy(new SshDialError(`cannot run ssh: ${err.message}`, null, '')));
    // The end of ssh's output is passed on only once ssh has exited and its status is known ('close'
    // comes after 'exit' and after stdout ended): an ssh that failed before the engine said a word is
    // reported with its own words, not as a connection the engine closed.
    child.on('close', (code, signal) => {
      if (this.destroyed) return;
      if (code !== 0 && !this.gotData) {
        const words = cleanText(this.stderr.trim().split('\n').filter(Boolean).slice(-2).join('; ')) || (signal ? `killed by ${signal}` : `exit status ${code}`);
        this.destroy(new SshDialError(`ssh ${t.host} ended before the engine answered: ${words}`, code, this.stderr));
      } else this.push(null);
    });
  }

  override _read(): void {
    this.child?.stdout?.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.child?.stdin || this.child.stdin.destroyed) return cb();
    this.child.stdin.write(chunk, () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.child?.stdin?.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    cb(err);
  }

  // What Node's http client and agent ask of a socket.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setTimeout(ms: number, cb?: () => void): this {
    if (cb && ms > 0) {
      const t = setTimeout(cb, ms);
      t.unref();
      this.once('close', () => clearTimeout(t));
    }
    return this;
  }
  /** A pooled, idle connection does not keep the process alive (as a net.Socket's unref()). */
  ref(): this {
    this.child?.ref();
    for (const s of [this.child?.stdin, this.child?.stdout, this.child?.stderr]) (s as unknown as { ref?: () => void })?.ref?.();
    return this;
  }
  unref(): this {
    this.child?.unref();
    for (const s of [this.child?.stdin, this.child?.stdout, this.child?.stderr]) (s as unknown as { unref?: () => void })?.unref?.();
    return this;
  }
}

/** An http.Agent whose connections are ssh processes running `docker system dial-stdio`. */
export class SshAgent extends http.Agent {
  constructor(
    private readonly target: SshTarget,
    private readonly opts: { connectTimeoutS?: number; env?: NodeJS.ProcessEnv } = {},
  ) {
    super({ keepAlive: true, maxSockets: 8 });
  }

  override createConnection(): Duplex {
    return new SshStream(this.target, this.opts);
  }
}
