/**
 * `archway shell --platform P IMAGE [--network NET] [--pull POLICY] [-- CMD…]` — an interactive
 * shell in a container of that platform, as `docker run --rm -it --platform P` gives one: the
 * terminal in raw mode, its size followed (SIGWINCH), the container removed however it ends, and
 * the shell's exit status as the command's. When the shell cannot start, Archway's diagnosis (the
 * probe classifier's) says why and what to do.
 *
 * The container's TTY stream goes to this terminal unfiltered, as docker's does (shared/shell.ts
 * says why); Archway's own lines go through main()'s sanitised stderr.
 */
import type { ReadStream, WriteStream } from 'node:tty';
import { platformRecord, PlatformError } from '../../shared/probe';
import { NETWORK_NAME } from '../../shared/shell';
import type { Status } from '../../shared/status';
import { connect, type Connection } from '../container/endpoint';
import { ContainerEngineError } from '../container/errors';
import type { PullPolicy } from '../container/images';
import { reapLeftovers } from '../container/reap';
import { openShell, ShellError, type ShellExit, type ShellSession } from '../container/shell';
import { handlerStateFor } from '../../shared/status';
import { EXIT, exitForErrorCode, SHELL_EXIT } from './exit-codes';
import { ArgsUsageError as UsageError, checkPlatformArg, pullPolicy, walkArgs } from './own-args';

export const SHELL_USAGE = `Usage: archway shell --platform P IMAGE [--network NET] [--pull POLICY] [-- CMD…]

Opens an interactive shell in a container of IMAGE for platform P, like docker run --rm -it --platform P.
  --platform P        linux/arm64, linux/arm/v7, s390x…
  --network NET       join this engine network (default: none, loopback only)
  --pull POLICY       missing (default), always, never
Runs CMD, else the image's own command when it is a shell, else /bin/sh (the entrypoint is not run).
Exit status: the shell's own; 2 usage error, 3 engine unavailable, 125 the shell could not start.
`;

export interface ShellArgs {
  platform: string;
  image: string;
  network?: string;
  pull: PullPolicy;
  command?: string[];
  help: boolean;
}

export function parseShellArgs(argv: readonly string[]): ShellArgs {
  const a: ShellArgs = { platform: '', image: '', pull: 'missing', help: false };
  const rest = walkArgs(argv, (flag, take, word) => {
    switch (flag) {
      case '--platform':
        a.platform = take();
        break;
      case '--network': {
        const n = take();
        if (!NETWORK_NAME.test(n)) throw new UsageError(`--network takes a network name like bridge or host, not "${n}"`);
        a.network = n;
        break;
      }
      case '--pull':
        a.pull = pullPolicy(take());
        break;
      case '-h':
      case '--help':
        a.help = true;
        break;
      default:
        if (word.startsWith('-')) throw new UsageError(`unknown option "${word}" (a command to run goes after --)`);
        if (a.image) throw new UsageError(`one image only ("${a.image}", then "${word}"); a command to run goes after --`);
        a.image = word;
    }
  });
  if (rest) a.command = rest;
  if (a.help) return a;
  if (!a.platform) throw new UsageError('--platform is required, e.g. --platform linux/arm64');
  if (!a.image) throw new UsageError('name the image, e.g. archway shell --platform linux/arm64 debian');
  checkPlatformArg(a.platform);
  if (a.command && a.command.length === 0) throw new UsageError('nothing after --: give a command or leave -- out');
  return a;
}

export interface ShellIo {
  /** Archway's own messages (sanitised by main). */
  stderr: (s: string) => void;
  env?: NodeJS.ProcessEnv;
  /** The handler table, to sharpen the diagnosis (no handler vs disabled). */
  status?: () => Status;
  /** Use this connection instead of connecting (tests). */
  connection?: Connection;
  /** The terminal (default: this process's stdin, stdout and stderr). */
  stdin?: NodeJS.ReadableStream & Partial<Pick<ReadStream, 'isTTY' | 'setRawMode'>>;
  stdout?: NodeJS.WritableStream & Partial<Pick<WriteStream, 'isTTY' | 'columns' | 'rows'>>;
  rawStderr?: NodeJS.WritableStream;
}

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
type Sig = keyof typeof SIGNALS;

function say(io: ShellIo, s: string): void {
  io.stderr(s.endsWith('\n') ? s : `${s}\n`);
}

/** Implements `archway shell …`; returns the exit code (the shell's own when it ran). */
export async function runShellCommand(argv: string[], io: ShellIo): Promise<number> {
  let args: ShellArgs;
  try {
    args = parseShellArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      say(io, `archway shell: ${err.message}\n\n${SHELL_USAGE}`);
      return EXIT.usage;
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(SHELL_USAGE);
    return EXIT.ok;
  }
  const stdin = io.stdin ?? process.stdin;
  const stdout = io.stdout ?? process.stdout;
  const rawStderr = io.rawStderr ?? process.stderr;
  const tty = stdin.isTTY === true && stdout.isTTY === true;
  const size = () => (stdout.columns && stdout.rows ? { cols: stdout.columns, rows: stdout.rows } : undefined);

  // Signals: while opening they cancel; once the shell runs they stop it (its container is removed).
  const opening = new AbortController();
  let session: ShellSession | undefined;
  let signalled: Sig | undefined;
  const onSignal = (sig: Sig) => {
    signalled ??= sig;
    opening.abort();
    void session?.close();
  };
  const handlers = (Object.keys(SIGNALS) as Sig[]).map((sig) => [sig, () => onSignal(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  const onWinch = () => {
    const s = size();
    if (s && session) void session.resize(s.cols, s.rows).catch(() => undefined);
  };
  let raw = false;
  const enterRaw = () => {
    if (tty && !raw && stdin.setRawMode) {
      stdin.setRawMode(true);
      raw = true;
    }
  };
  let opened: Connection | undefined;
  try {
    const conn = io.connection ?? (opened = await connect({ ...(io.env ? { env: io.env } : {}), signal: opening.signal }));
    await reapLeftovers(conn, { signal: opening.signal }).catch(() => undefined);
    const rec = platformRecord(args.platform);
    let handler: ReturnType<typeof handlerStateFor>;
    try {
      handler = io.status ? handlerStateFor(io.status(), rec.cpu, conn.info) : undefined;
    } catch {
      handler = undefined;
    }
    const s = size();
    session = await openShell({
      conn,
      platform: rec.platform,
      image: args.image,
      tty,
      pull: args.pull,
      ...(args.command ? { command: args.command } : {}),
      ...(args.network ? { network: args.network } : {}),
      ...(tty && s ? { size: s } : {}),
      ...(handler ? { handler } : {}),
      signal: opening.signal,
      onOutput: (data, stream) => {
        // Raw before the first byte: a shell's first prompt may ask the terminal something (ash asks
        // for the cursor position), and a terminal not yet raw would echo the answer.
        enterRaw();
        (stream === 'stderr' ? rawStderr : stdout).write(data);
      },
      onEvent: (e) => {
        if (e.type === 'phase' && e.phase === 'pulling') say(io, `archway shell: pulling ${args.image} for ${rec.platform}…`);
      },
      onReady: (info) => {
        const other = info.choice.source === 'fallback' ? ' (name another after --)' : '';
        if (tty) say(io, `archway shell: ${rec.platform} (${info.imagePlatform}), ${info.choice.why}${other}; ${args.network ? `network ${args.network}` : 'no network'}; the container is removed when the shell ends.`);
      },
    });
    if (signalled) void session.close();
    const sh = session;
    enterRaw();
    stdin.on('data', (d: Buffer) => sh.write(d));
    stdin.on('end', () => sh.endInput());
    stdin.on('error', () => sh.endInput());
    stdin.resume();
    if (tty) process.on('SIGWINCH', onWinch);
    const exit: ShellExit = await sh.exited;
    if (raw) {
      stdin.setRawMode!(false);
      raw = false;
    }
    if (exit.diagnosis) say(io, `archway shell: ${exit.diagnosis.message}${exit.diagnosis.fix ? `\n  → ${exit.diagnosis.fix}` : ''}`);
    if (signalled) return SHELL_EXIT.signalBase + SIGNALS[signalled];
    // The runtime started the container but the kernel refused the program: the shell never ran.
    if (exit.diagnosis?.status === 'no-handler' || exit.diagnosis?.status === 'wrong-arch') return SHELL_EXIT.notStarted;
    if (exit.exitCode === null) {
      say(io, `archway shell: the shell's container ended without an exit status${exit.error ? `: ${exit.error}` : ''}`);
      return SHELL_EXIT.notStarted;
    }
    return exit.exitCode;
  } catch (err) {
    if (signalled) return SHELL_EXIT.signalBase + SIGNALS[signalled];
    if (err instanceof ShellError) {
      say(io, `archway shell: ${err.diagnosis.message}${err.diagnosis.fix ? `\n  → ${err.diagnosis.fix}` : ''}`);
      return SHELL_EXIT.notStarted;
    }
    if (err instanceof PlatformError) {
      say(io, `archway shell: ${err.message}`);
      return EXIT.usage;
    }
    if (err instanceof ContainerEngineError) {
      say(io, `archway shell: ${err.message}${err.hint ? `\n  → ${err.hint}` : ''}`);
      const code = exitForErrorCode(err.code);
      return code === EXIT.failed ? SHELL_EXIT.notStarted : code;
    }
    throw err;
  } finally {
    if (raw) stdin.setRawMode!(false);
    // Nothing may keep the process alive once the shell is over: no input handle, no idle socket.
    stdin.removeAllListeners('data');
    // (Paused, not destroyed: destroying a TTY stdin makes Node 24 end without its exit status when it leads the session.)
    stdin.pause();
    for (const [sig, h] of handlers) process.removeListener(sig, h);
    process.removeListener('SIGWINCH', onWinch);
    opened?.close();
  }
}
