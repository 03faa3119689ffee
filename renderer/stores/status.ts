/** The binfmt_misc status as main last read it (start-up, live updates, after every apply), or why it could not be read. */
import type { ArchwayApi } from '../../shared/ipc/api';
import { toIpcError } from '../../shared/ipc/api';
import type { IpcErrorShape } from '../../shared/ipc/contract';
import type { Status } from '../../shared/status';
import { createStore, useStore } from './store';

export interface StatusState {
  status: Status | null;
  error: IpcErrorShape | null;
  /** Counts status changes pushed by main (the Activity view re-reads the audit log on each). */
  changes: number;
}

export const statusStore = createStore<StatusState>({ status: null, error: null, changes: 0 });

export function setStatus(status: Status): void {
  statusStore.set((s) => ({ status, error: null, changes: s.changes + 1 }));
}

/** Read it now (after an apply). */
export async function refreshStatus(api: ArchwayApi): Promise<void> {
  try {
    setStatus(await api.getStatus());
  } catch (e) {
    statusStore.set((s) => ({ ...s, error: toIpcError(e) }));
  }
}

/** At start, then every change main reports. */
export function connectStatus(api: ArchwayApi): () => void {
  let alive = true;
  api.getStatus().then(
    (s) => alive && statusStore.set((st) => ({ ...st, status: s, error: null })),
    (e: unknown) => alive && statusStore.set((st) => ({ ...st, error: toIpcError(e) })),
  );
  const off = api.onStatusChanged((s) => setStatus(s));
  return () => {
    alive = false;
    off();
  };
}

export const useStatus = () => useStore(statusStore, (s) => s.status);
export const useStatusError = () => useStore(statusStore, (s) => s.error);
export const useStatusChanges = () => useStore(statusStore, (s) => s.changes);
