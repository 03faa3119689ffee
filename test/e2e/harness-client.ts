/**
 * Runs in the test page before the app (bundled to an IIFE by harness.ts): builds `window.archway`
 * with the SAME createApi() the preload uses, over Playwright's exposeBinding instead of Electron
 * IPC. Events arrive through `__archwayDeliver`, which the harness calls from Node.
 */
import { createApi, type Transport } from '../../shared/ipc/api';

type Listener = (payload: unknown) => void;

declare global {
  interface Window {
    __archwayInvoke?: (channel: string, payload: unknown) => Promise<unknown>;
    __archwayDeliver?: (channel: string, payload: unknown) => void;
  }
}

const listeners = new Map<string, Set<Listener>>();


const transport: Transport = {
  invoke: (channel, payload) => window.__archwayInvoke!(channel, payload),
  on: (channel, listener) => {
    let set = listeners.get(channel);
    if (!set) listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  },
};

Object.defineProperty(window, '__archwayDeliver', {
  value: (channel: string, payload: unknown) => {
    for (const l of listeners.get(channel) ?? []) l(payload);
  },
});
Object.defineProperty(window, 'archway', { value: createApi(transport), enumerable: true });
