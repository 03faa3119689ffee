/**
 * Every contract channel goes through ONE wrapper: check who is asking (the sender's frame), check
 * the channel exists, validate the payload against the contract's schema, call the router, and
 * turn any outcome into an envelope `{ ok, value } | { ok: false, error: { code, message, hint } }`.
 * Nothing reaches the router unvalidated; nothing throws across the boundary.
 *
 * Transport-agnostic: `createDispatcher` is what Electron's ipcMain (registerIpc below) and the
 * Chromium test harness (exposeBinding) both call. Electron is only a type here.
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import * as z from 'zod/mini';
import { EVENTS, INVOKE_NAMES, INVOKES, invokeByChannel, type Envelope, type EventName, type EventPayload } from '../../shared/ipc/contract';
import { serialiseError } from './errors';
import type { Emit, Router } from './router';

/** Who sent a request: the frame's URL and whether it is the window's top frame. */
export interface SenderInfo {
  url: string;
  isMainFrame: boolean;
}

export type SenderCheck = (sender: SenderInfo | null) => boolean;

export type Dispatch = (sender: SenderInfo | null, channel: string, payload: unknown, extraArgs?: number) => Promise<Envelope<unknown>>;

export interface DispatcherOptions {
  /** Called for every refused request (untrusted sender, unknown channel, invalid payload). */
  onRefused?: (why: { code: string; channel: string; sender: SenderInfo | null; message: string }) => void;
}

function refuse(code: string, message: string, hint?: string): Envelope<never> {
  return { ok: false, error: { code, message, ...(hint ? { hint } : {}) } };
}

export function createDispatcher(router: Router, isTrusted: SenderCheck, opts: DispatcherOptions = {}): Dispatch {
  return async (sender, channel, payload, extraArgs = 0) => {
    const refused = (code: string, message: string, hint?: string) => {
      opts.onRefused?.({ code, channel, sender, message });
      return refuse(code, message, hint);
    };
    if (!isTrusted(sender)) {
      return refused('untrusted-sender', `refused ${channel}: the request did not come from Archway's own window`);
    }
    const name = invokeByChannel(channel);
    if (!name) return refused('unknown-channel', `no such operation: ${channel}`);
    if (extraArgs > 0) return refused('invalid-request', `${name}: takes one argument`);
    const parsed = INVOKES[name].request.safeParse(payload);
    if (!parsed.success) {
      return refused('invalid-request', `${name}: ${z.prettifyError(parsed.error).replace(/\n+/g, '; ')}`, 'This is a bug in Archway\'s window: please report it.');
    }
    try {
      const handler = router.handlers[name] as (req: unknown) => Promise<unknown>;
      return { ok: true, value: await handler(parsed.data) };
    } catch (err) {
      return { ok: false, error: serialiseError(err) };
    }
  };
}

/** The sender of an Electron IPC message, from its frame (null when the frame is gone). */
export function electronSender(event: Pick<IpcMainInvokeEvent, 'senderFrame'>): SenderInfo | null {
  const f = event.senderFrame;
  if (!f) return null;
  return { url: f.url, isMainFrame: f.parent === null };
}

/** Register every contract channel on ipcMain through the dispatcher; returns the undo. */
export function registerIpc(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, dispatch: Dispatch): () => void {
  for (const name of INVOKE_NAMES) {
    const { channel } = INVOKES[name];
    ipcMain.handle(channel, (event, payload: unknown, ...rest: unknown[]) => dispatch(electronSender(event), channel, payload, rest.length));
  }
  return () => {
    for (const name of INVOKE_NAMES) ipcMain.removeHandler(INVOKES[name].channel);
  };
}

/** Main → renderer events over any `send(channel, payload)`. */
export function eventEmitter(send: (channel: string, payload: unknown) => void): Emit {
  return <K extends EventName>(name: K, payload: EventPayload<K>) => send(EVENTS[name].channel, payload);
}
