/**
 * One small store per domain of the window (status, container engine, plans, runs, shells,
 * notifications, machines, …): a value, a setter and a React hook that re-renders only the views
 * that read it. `App.tsx` composes views; each view reads the store of what it shows.
 */
import { useSyncExternalStore } from 'react';

export interface Store<T> {
  get(): T;
  /** Replace the value (or derive it from the current one); listeners run once per change. */
  set(next: T | ((current: T) => T)): void;
  subscribe(listener: () => void): () => void;
  /** Back to the initial value (tests: every store starts fresh with resetStores()). */
  reset(): void;
}

const all = new Set<Store<unknown>>();

/** Every store back to its initial value (between tests; the window never needs it). */
export function resetStores(): void {
  for (const s of all) s.reset();
}

export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<() => void>();
  const store: Store<T> = {
    get: () => value,
    set(next) {
      const v = typeof next === 'function' ? (next as (c: T) => T)(value) : next;
      if (Object.is(v, value)) return;
      value = v;
      for (const l of [...listeners]) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reset() {
      store.set(initial);
    },
  };
  all.add(store as Store<unknown>);
  return store;
}

/** Read a store (or a slice of it: keep `select` cheap and return stable values) in a component. */
export function useStore<T, S = T>(store: Store<T>, select: (v: T) => S = (v) => v as unknown as S): S {
  return useSyncExternalStore(store.subscribe, () => select(store.get()), () => select(store.get()));
}
