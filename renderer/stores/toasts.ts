/** Toasts: results of actions and notifications from main, in the corner (components/Toasts.tsx shows them). */
import { addToast, type Toast } from '../components/Toasts';
import { createStore, useStore } from './store';

export const toastsStore = createStore<Toast[]>([]);
let nextId = 0;

/** Show a toast; returns its id. Plain confirmations fade, errors and toasts with an action stay (addToast). */
export function toast(t: Omit<Toast, 'id'>): number {
  const id = ++nextId;
  toastsStore.set((ts) => addToast(ts, { ...t, id }));
  return id;
}

export function dismissToast(id: number): void {
  toastsStore.set((ts) => (ts.some((t) => t.id === id) ? ts.filter((t) => t.id !== id) : ts));
}

export const useToasts = () => useStore(toastsStore);
