/**
 * `window.archway`: one function per operation, built from the contract over any transport.
 * The preload builds it over Electron IPC; the Chromium test harness over Playwright's
 * exposeBinding. Pure (no Node, no DOM).
 *
 * Calls resolve with the value or reject with a plain `{ name: 'ArchwayError', code, message, hint }`
 * object: plain data survives contextBridge and structured cloning intact, Error subclasses do not.
 */
import { cleanLines } from '../sanitize';
import {
  EVENT_NAMES,
  EVENTS,
  eventListenerName,
  INVOKE_NAMES,
  INVOKES,
  type EventName,
  type EventPayload,
  type InvokeName,
  type IpcErrorShape,
  type RequestOf,
  type ResponseOf,
} from './contract';

export interface Transport {
  /** Send a request; resolves with the reply envelope. Must not reject for refused requests. */
  invoke(channel: string, payload: unknown): Promise<unknown>;
  /** Subscribe to a main → renderer event; returns the unsubscribe function. */
  on(channel: string, listener: (payload: unknown) => void): () => void;
}

type InvokeFn<K extends InvokeName> = undefined extends RequestOf<K>
  ? (request?: RequestOf<K>) => Promise<ResponseOf<K>>
  : (request: RequestOf<K>) => Promise<ResponseOf<K>>;

export type ArchwayApi = { readonly [K in InvokeName]: InvokeFn<K> } & {
  readonly [K in EventName as `on${Capitalize<K>}`]: (listener: (payload: EventPayload<K>) => void) => () => void;
};

export interface ArchwayErrorObject extends IpcErrorShape {
  name: 'ArchwayError';
}

export function ipcError(shape: IpcErrorShape): ArchwayErrorObject {
  return Object.freeze({ name: 'ArchwayError', code: shape.code, message: shape.message, ...(shape.hint ? { hint: shape.hint } : {}) });
}

/** Whatever a call rejected with → code, message, hint (for showing to a person). */
export function toIpcError(e: unknown): IpcErrorShape {
  // Every error main sends the window passes here: its words (which may quote an engine, a kernel
  // entry or ssh) lose control characters and escape sequences once, for every view that shows them.
  if (e && typeof e === 'object') {
    const o = e as Partial<IpcErrorShape>;
    if (typeof o.message === 'string') {
      return {
        code: typeof o.code === 'string' ? o.code : 'internal',
        message: cleanLines(o.message),
        ...(typeof o.hint === 'string' && o.hint ? { hint: cleanLines(o.hint) } : {}),
      };
    }
  }
  return { code: 'internal', message: cleanLines(String(e)) };
}

function unwrap(channel: string, reply: unknown): unknown {
  if (!reply || typeof reply !== 'object' || typeof (reply as { ok?: unknown }).ok !== 'boolean') {
    throw ipcError({ code: 'bad-reply', message: `no valid reply on ${channel}`, hint: 'Restart Archway; if it persists, report a bug.' });
  }
  const r = reply as { ok: boolean; value?: unknown; error?: unknown };
  if (r.ok) return r.value;
  throw ipcError(toIpcError(r.error));
}

export function createApi(transport: Transport): ArchwayApi {
  const api: Record<string, unknown> = {};
  for (const name of INVOKE_NAMES) {
    const { channel } = INVOKES[name];
    api[name] = async (request?: unknown) => unwrap(channel, await transport.invoke(channel, request));
  }
  for (const name of EVENT_NAMES) {
    const { channel } = EVENTS[name];
    api[eventListenerName(name)] = (listener: (payload: unknown) => void) => {
      if (typeof listener !== 'function') throw ipcError({ code: 'bad-request', message: `${eventListenerName(name)} needs a function` });
      return transport.on(channel, (payload) => listener(payload));
    };
  }
  return Object.freeze(api) as ArchwayApi;
}
