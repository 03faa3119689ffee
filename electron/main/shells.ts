/**
 * The window's live shells, kept in main: each has an id the renderer uses for input, resize and
 * close, and every one is closed (its container removed) when the renderer asks, when the router is
 * disposed, and before the app quits (closeAll). No Electron import here: the Chromium harness
 * runs the same code.
 */
import { randomUUID } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { ShellOpenRequest } from '../../shared/ipc/contract';
import type { ShellDiagnosis } from '../../shared/shell';
import type { Status } from '../../shared/status';
import type { ShellSession } from '../container/shell';
import { IpcRequestError, serialiseError } from './errors';
import type { Emit } from './router';

/** What opens a shell: the Docker gateway's connection and the engine module (electron/container/shell.ts). */
export interface ShellOpener {
  openShell(
    req: ShellOpenRequest,
    status: Status,
    hooks: { onOutput: (data: Buffer) => void; signal: AbortSignal },
  ): Promise<ShellSession>;
}

export interface ShellTable {
  open(req: ShellOpenRequest): { shellId: string };
  input(shellId: string, data: string): boolean;
  resize(shellId: string, cols: number, rows: number): Promise<boolean>;
  close(shellId: string): Promise<boolean>;
  /** Close every shell and wait until their containers are removed (app quit). */
  closeAll(): Promise<void>;
  readonly size: number;
}

export const MAX_SHELLS = 8;
/** Output waits this long for more before it is sent, unless this much has gathered. */
const OUTPUT_DELAY_MS = 8;
const OUTPUT_BATCH = 64 * 1024;

interface Live {
  ctl: AbortController;
  session?: ShellSession;
  /** Settles when the shell is over and its container removed. */
  done: Promise<void>;
}

export function createShellTable(deps: { opener: ShellOpener; emit: Emit; status: () => Status; newId?: () => string; max?: number }): ShellTable {
  const newId = deps.newId ?? randomUUID;
  const max = deps.max ?? MAX_SHELLS;
  const live = new Map<string, Live>();

  const get = (shellId: string): Live => {
    const s = live.get(shellId);
    if (!s) throw new IpcRequestError('not-found', 'this shell has ended', 'Open a new one.');
    return s;
  };

  return {
    get size() {
      return live.size;
    },

    open(req) {
      if (live.size >= max) throw new IpcRequestError('busy', `${max} shells are open`, 'Close one first.');
      const shellId = newId();
      const ctl = new AbortController();
      const decoder = new StringDecoder('utf8');
      // Output is coalesced for a few milliseconds (a burst is one event, not hundreds).
      let pending = '';
      let timer: NodeJS.Timeout | undefined;
      const flush = () => {
        clearTimeout(timer);
        timer = undefined;
        if (pending) deps.emit('shellOutput', { shellId, data: pending });
        pending = '';
      };
      const entry: Live = { ctl, done: Promise.resolve() };
      live.set(shellId, entry);
      entry.done = (async () => {
        try {
          const session = await deps.opener.openShell(req, deps.status(), {
            signal: ctl.signal,
            onOutput: (data) => {
              pending += decoder.write(data);
              if (pending.length >= OUTPUT_BATCH) flush();
              else timer ??= setTimeout(flush, OUTPUT_DELAY_MS);
            },
          });
          entry.session = session;
          if (ctl.signal.aborted) void session.close();
          deps.emit('shellOpened', {
            shellId,
            containerId: session.containerId,
            platform: session.platform,
            imagePlatform: session.imagePlatform,
            command: session.choice.command,
            why: session.choice.why,
          });
          const exit = await session.exited;
          pending += decoder.end();
          flush();
          deps.emit('shellExit', {
            shellId,
            exitCode: exit.exitCode,
            ...(exit.diagnosis ? { diagnosis: exit.diagnosis } : {}),
            ...(exit.error ? { error: { code: 'connection-lost', message: exit.error } } : {}),
          });
        } catch (err) {
          const diagnosis = (err as { diagnosis?: ShellDiagnosis }).diagnosis;
          deps.emit('shellExit', { shellId, exitCode: null, ...(diagnosis ? { diagnosis } : { error: serialiseError(err) }) });
        } finally {
          flush();
          live.delete(shellId);
        }
      })();
      return { shellId };
    },

    input(shellId, data) {
      const s = get(shellId);
      if (!s.session) return false;
      s.session.write(data);
      return true;
    },

    async resize(shellId, cols, rows) {
      const s = get(shellId);
      if (!s.session) return false;
      await s.session.resize(cols, rows);
      return true;
    },

    async close(shellId) {
      const s = live.get(shellId);
      if (!s) return false;
      s.ctl.abort();
      if (s.session) await s.session.close();
      await s.done;
      return true;
    },

    async closeAll() {
      await Promise.all(
        [...live.values()].map(async (s) => {
          s.ctl.abort();
          if (s.session) await s.session.close();
          await s.done;
        }),
      );
    },
  };
}
