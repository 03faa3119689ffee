/**
 * A window API for the renderer's tests, built by the same createApi() as the preload over an
 * in-memory transport: every call is recorded (channel name and request), answered by the handler
 * the test gives or left pending (like a main process that has not answered yet), and the test
 * delivers main's events with `emit`.
 */
import { cleanup, render, type RenderResult } from '@testing-library/react';
import type { ReactElement } from 'react';
import { createApi, type ArchwayApi } from '../../shared/ipc/api';
import { EVENTS, INVOKES, type EventName, type EventPayload, type InvokeName, type RequestOf, type ResponseOf } from '../../shared/ipc/contract';
import { ApiContext } from '../api';
import { resetStores } from '../stores/store';

export type Answers = { [K in InvokeName]?: (request: RequestOf<K>) => ResponseOf<K> | Promise<ResponseOf<K>> };

export interface FakeApi {
  api: ArchwayApi;
  /** Every call, in order: `{ name: 'plan', request: {...} }`. */
  calls: { name: InvokeName; request: unknown }[];
  /** The requests of one kind of call. */
  requests<K extends InvokeName>(name: K): RequestOf<K>[];
  emit<K extends EventName>(name: K, payload: EventPayload<K>): void;
}

export function fakeApi(answers: Answers = {}): FakeApi {
  const calls: FakeApi['calls'] = [];
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const byChannel = new Map(Object.entries(INVOKES).map(([name, spec]) => [spec.channel, name as InvokeName]));
  const api = createApi({
    invoke: async (channel, request) => {
      const name = byChannel.get(channel)!;
      calls.push({ name, request });
      const answer = answers[name] as ((r: unknown) => unknown) | undefined;
      if (!answer) return new Promise(() => undefined);
      try {
        return { ok: true, value: await answer(request) };
      } catch (e) {
        return { ok: false, error: e };
      }
    },
    on: (channel, listener) => {
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
  });
  return {
    api,
    calls,
    requests: <K extends InvokeName>(name: K) => calls.filter((c) => c.name === name).map((c) => c.request as RequestOf<K>),
    emit: (name, payload) => {
      for (const l of listeners.get(EVENTS[name].channel) ?? []) l(payload);
    },
  };
}

/** Render with this API in context (set the stores it reads first; cleanupAll resets them). */
export function renderWithApi(ui: ReactElement, fake: FakeApi = fakeApi()): RenderResult & { fake: FakeApi } {
  return { ...render(<ApiContext.Provider value={fake.api}>{ui}</ApiContext.Provider>), fake };
}

/** afterEach: unmount and forget every store's state. */
export function cleanupAll(): void {
  cleanup();
  resetStores();
}
