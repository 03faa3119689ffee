/** The container engine Archway talks to (or why there is none), as main last checked it. */
import type { ArchwayApi } from '../../shared/ipc/api';
import type { ContainerEngineView } from '../../shared/ipc/contract';
import type { ContainerEngineOffer } from '../../shared/probe';
import { createStore, useStore } from './store';

export const engineStore = createStore<ContainerEngineView | null>(null);

/** Check again now (the Engine view's button). */
export async function refreshEngine(api: ArchwayApi): Promise<void> {
  engineStore.set(await api.getContainerEngine({ refresh: true }));
}

/** The engines on this machine (as `archway engines`). */
export const listEngines = (api: ArchwayApi): Promise<ContainerEngineOffer[]> => api.listContainerEngines();

/** Remember one (as `archway engines use NAME`); the view shows the engine now in use. */
export async function chooseEngine(api: ArchwayApi, name: string): Promise<void> {
  engineStore.set(await api.chooseContainerEngine({ name }));
}

export function connectEngine(api: ArchwayApi): () => void {
  let alive = true;
  api.getContainerEngine().then((v) => alive && engineStore.set(v), () => undefined);
  const off = api.onContainerEngineChanged((v) => engineStore.set(v));
  return () => {
    alive = false;
    off();
  };
}

export const useEngine = () => useStore(engineStore);
