/**
 * `archway watch`: re-read the status every interval and print what happened to the handlers as
 * JSON lines — the same events, decided by the same function (shared/handler-events.ts), that the
 * window gets as its `handlerEvents` IPC event, each marked `notable` when the desktop app would
 * notify about it (shared/notifications.ts). Stops on SIGINT/SIGTERM or when stdout closes,
 * leaving no timer or listener behind.
 */
import { handlerEvents } from '../../shared/handler-events';
import { isNotable } from '../../shared/notifications';
import type { Status } from '../../shared/status';
import { EXIT, type ExitCode } from './exit-codes';

export const WATCH_INTERVAL = { defaultSeconds: 2, minSeconds: 0.2, maxSeconds: 3600 } as const;

/** `--interval SECONDS` → milliseconds; undefined when it is not a number within the bounds. */
export function parseInterval(text: string | undefined): number | undefined {
  if (text === undefined) return WATCH_INTERVAL.defaultSeconds * 1000;
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  const s = Number(text);
  return s >= WATCH_INTERVAL.minSeconds && s <= WATCH_INTERVAL.maxSeconds ? Math.round(s * 1000) : undefined;
}

export interface WatchDeps {
  readStatus: () => Status;
  /** One JSON line at a time (with its newline). */
  write: (line: string) => void;
  /** Problems reading the status, for people. */
  warn: (message: string) => void;
  intervalMs: number;
  failOnVanish: boolean;
  /** Aborted on SIGINT/SIGTERM or when stdout closed: stop (exit 0). */
  signal: AbortSignal;
  now?: () => string;
  /** After the first reading (the baseline): tell a person (stderr) that watching has begun. */
  started?: (baseline: Status) => void;
}

/** Resolves after `ms`, or at once when `signal` aborts; the timer and the listener are gone either way. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

export async function watch(deps: WatchDeps): Promise<ExitCode> {
  const now = deps.now ?? (() => new Date().toISOString());
  let last: Status | undefined;
  let lastError: string | undefined;
  while (!deps.signal.aborted) {
    let s: Status | undefined;
    try {
      s = deps.readStatus();
      lastError = undefined;
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      // Once per distinct problem, not every interval.
      if (message !== lastError) deps.warn(`archway watch: could not read the handlers: ${message} (still watching)`);
      lastError = message;
    }
    if (s) {
      const events = handlerEvents(last, s, now());
      if (!last) deps.started?.(s);
      last = s;
      for (const e of events) {
        if (deps.signal.aborted) break;
        // `notable`: what the desktop app notifies about (the same decision, shared/notifications.ts).
        deps.write(`${JSON.stringify({ ...e, notable: isNotable(e) })}\n`);
      }
      if (deps.failOnVanish && events.some((e) => e.event === 'vanished')) return EXIT.failed;
    }
    await pause(deps.intervalMs, deps.signal);
  }
  return EXIT.ok;
}

/** SIGINT and SIGTERM abort `controller` while `run` runs; the handlers are removed afterwards. */
export async function untilSignalled<T>(controller: AbortController, run: () => Promise<T>): Promise<T> {
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await run();
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}
