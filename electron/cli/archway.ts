/** The CLI's main script (dist/cli/archway.cjs), run by the loader (dist/cli/loader.cjs: electron/cli/loader.ts). */
import { fstatSync, writeSync } from 'node:fs';
import { lazyBuiltin } from '../engine/lazy-builtin';
import { main } from './main';

const tty = lazyBuiltin<typeof import('node:tty')>('node:tty');

// The terminal boundary is main()'s Out (term.ts terminalSafe, built on shared/sanitize): whatever
// the CLI prints for a person passes there, so no untrusted control character reaches the terminal.

/**
 * Writes to fd 1 or 2. A terminal gets Node's stream as before (its width is read there). A pipe or
 * a file gets plain write(2) calls: creating process.stdout for a pipe loads Node's whole net/stream
 * stack (≈4 ms of `archway status`). On any error (a full non-blocking pipe, EPIPE, a closed fd)
 * the rest goes to Node's stream, which handles it exactly as before, and so does all later output.
 */
/**
 * isatty(3), asked of node:tty (which loads net and streams) only for a character device that may
 * be one: Linux's memory devices (major 1: /dev/null, /dev/zero, /dev/full) never are, and
 * `archway status >/dev/null` in a script should not pay for the terminal stack.
 */
function isTerminal(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice() || Math.floor(st.rdev / 256) % 4096 === 1) return false;
  } catch {
    return false;
  }
  return tty().isatty(fd);
}

/**
 * Set when a write to stdout finds the reader gone (EPIPE); later output is dropped. The AbortSignal
 * is made only when a command asks for it (a watch): loading AbortController cost every command
 * 0.2–0.3 ms of start-up.
 */
class Closed {
  closed = false;
  #controller?: AbortController;
  close(): void {
    this.closed = true;
    this.#controller?.abort();
  }
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.closed) this.#controller.abort();
    return this.#controller.signal;
  }
}
const stdoutClosed = new Closed();

function output(fd: 1 | 2, stream: () => NodeJS.WriteStream, closed?: Closed): { write: (s: string) => void; facts: { isTTY: boolean; columns?: number } } {
  if (isTerminal(fd)) {
    const s = stream();
    // A terminal that went away (EIO, EPIPE): stop instead of crashing on an unhandled 'error'.
    if (closed) s.on('error', () => closed.close());
    return { write: (t) => void s.write(t), facts: { isTTY: s.isTTY === true, ...(s.columns ? { columns: s.columns } : {}) } };
  }
  let fallback: NodeJS.WriteStream | undefined;
  const write = (t: string): void => {
    if (closed?.closed) return;
    if (fallback) {
      fallback.write(t);
      return;
    }
    let buf = Buffer.from(t, 'utf8');
    try {
      while (buf.length > 0) buf = buf.subarray(writeSync(fd, buf));
    } catch (e) {
      if (closed && (e as NodeJS.ErrnoException).code === 'EPIPE') {
        closed.close();
        return;
      }
      fallback = stream();
      if (closed) fallback.on('error', () => closed.close());
      fallback.write(buf);
    }
  };
  return { write, facts: { isTTY: false } };
}

/**
 * process.stdout and process.stderr as anything makes them (output() for a terminal or after a
 * failed write(2), the shell command, a library's console): watched so that the early exit below
 * never cuts writes still in flight (a pipe's are asynchronous in Node). Undefined when this Node
 * defines them otherwise: then no early exit.
 */
function watchStdio(): NodeJS.WriteStream[] | undefined {
  const made: NodeJS.WriteStream[] = [];
  for (const name of ['stdout', 'stderr'] as const) {
    const d = Object.getOwnPropertyDescriptor(process, name);
    if (!d?.get || !d.configurable) return undefined;
    const get = d.get;
    Object.defineProperty(process, name, {
      ...d,
      get() {
        const s = get.call(process) as NodeJS.WriteStream;
        if (!made.includes(s)) made.push(s);
        return s;
      },
    });
  }
  return made;
}

const stdio = watchStdio();

/**
 * The command's work is done: the process ends now, instead of after Node tears its heap down
 * (≈1 ms of every `archway status`), unless a stdio stream still holds unwritten output. Checked
 * from setImmediate, after what the command's last step left to process.nextTick and promises (a
 * warning, an unhandled rejection, which then still ends the process with its own status).
 * ARCHWAY_EXIT=natural leaves the end to Node, as without this: a timer, socket or agent left
 * behind then shows as a delay (test/docker/cli-exit.test.ts measures exactly that).
 */
function exitWhenDone(code: number): void {
  process.exitCode = code;
  if (process.env.ARCHWAY_EXIT === 'natural' || !stdio) return;
  setImmediate(() => {
    if (!stdio.some((s) => s.writableLength > 0)) process.exit();
  });
}

const out = output(1, () => process.stdout, stdoutClosed);
const err = output(2, () => process.stderr);

main(process.argv.slice(2), {
  stdout: out.write,
  stderr: err.write,
  env: process.env,
  stdoutTTY: out.facts,
  stderrTTY: err.facts,
  get stdoutClosed() {
    return stdoutClosed.signal;
  },
}).then(
  (code) => exitWhenDone(code),
  (e: unknown) => {
    err.write(`archway: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
