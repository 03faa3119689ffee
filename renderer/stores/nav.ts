/** Navigation: the view shown (remembered across starts through prefs) and the views opened once, which stay mounted. */
import type { ArchwayApi } from '../../shared/ipc/api';
import type { View } from '../../shared/ipc/contract';
import { createStore, useStore } from './store';

export interface NavState {
  /** null until the remembered view is known. */
  view: View | null;
  /** Views opened at least once (a view that keeps working while hidden stays mounted: Test run). */
  visited: readonly View[];
}

export const navStore = createStore<NavState>({ view: null, visited: [] });

function show(v: View): void {
  navStore.set((s) => (s.view === v ? s : { view: v, visited: s.visited.includes(v) ? s.visited : [...s.visited, v] }));
}

/** Go to a view and remember it. */
export function go(api: ArchwayApi, v: View): void {
  show(v);
  api.setPrefs({ lastView: v }).catch(() => undefined);
}

/** At start: the last view, unless the user already went somewhere. */
export function loadNav(api: ArchwayApi): () => void {
  let alive = true;
  const first = (v: View) => alive && navStore.get().view === null && show(v);
  api.getPrefs().then((p) => first(p.lastView), () => first('architectures'));
  return () => {
    alive = false;
  };
}

export const useView = () => useStore(navStore, (s) => s.view);
export const useVisited = (v: View) => useStore(navStore, (s) => s.visited.includes(v));
