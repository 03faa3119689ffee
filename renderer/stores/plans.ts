/**
 * The one plan flow every view uses to change something: plan (the helper's own dry run) →
 * the plan dialog → apply (one elevation for the whole batch) → a toast and a fresh status.
 * A view starts it with `startPlan` (an intent) or `startFetchPlan` (emulators to fetch); the
 * dialog (App) reads `plansStore`. While a plan is open, views' actions wait (`usePlanBusy`).
 */
import { useMemo } from 'react';
import type { Intent } from '../../shared/actions';
import type { ArchwayApi } from '../../shared/ipc/api';
import { toIpcError } from '../../shared/ipc/api';
import type { IpcErrorShape, PlanView } from '../../shared/ipc/contract';
import { useApi } from '../api';
import { refreshStatus } from './status';
import { createStore, useStore } from './store';
import { toast } from './toasts';

export interface PlanState {
  plan: PlanView | null;
  loading: boolean;
  applying: boolean;
  error?: IpcErrorShape;
}

export const plansStore = createStore<PlanState | null>(null);

async function open(make: () => Promise<PlanView>): Promise<void> {
  plansStore.set({ plan: null, loading: true, applying: false });
  try {
    const plan = await make();
    plansStore.set({ plan, loading: false, applying: false });
  } catch (e) {
    plansStore.set({ plan: null, loading: false, applying: false, error: toIpcError(e) });
  }
}

/** Plan a change (install, uninstall, enable, …): opens the dialog with the helper's dry run. */
export function startPlan(api: ArchwayApi, intent: Intent): Promise<void> {
  return open(() => api.plan(intent));
}

/** Plan fetching emulators for these CPUs out of the pinned image. */
export function startFetchPlan(api: ArchwayApi, archs: string[]): Promise<void> {
  return open(() => api.planEmulatorFetch({ archs }));
}

/** Plan importing emulators from a saved image or a directory (no engine); no path: main's file dialog. */
export function startImportPlan(api: ArchwayApi, path: string | undefined): Promise<void> {
  return open(() => api.planEmulatorImport(path ? { path } : {}));
}

/** The same plan again with an override the user chose in the dialog (force, take over). */
export function overridePlan(api: ArchwayApi, kind: 'force' | 'takeOver'): Promise<void> | undefined {
  const intent = plansStore.get()?.plan?.intent;
  return intent ? startPlan(api, { ...intent, [kind]: true }) : undefined;
}

export function cancelPlan(api: ArchwayApi): void {
  const p = plansStore.get()?.plan;
  plansStore.set(null);
  // Main frees what it holds for the plan (a fetch's temporary emulators).
  if (p) api.cancelPlan({ planId: p.planId }).catch(() => undefined);
}

export async function applyPlan(api: ArchwayApi): Promise<void> {
  const p = plansStore.get()?.plan;
  if (!p) return;
  plansStore.set({ plan: p, loading: false, applying: true });
  try {
    const r = await api.apply({ planId: p.planId });
    plansStore.set(null);
    const failed = r.results.filter((x) => !x.ok);
    if (r.ok && failed.length === 0) {
      const changed = r.results.filter((x) => x.changed).map((x) => x.message);
      if (p.fetch) {
        const cpus = p.fetch.emulators.map((e) => e.cpu);
        toast({
          tone: 'ok',
          title: `Emulators ${p.fetch.importedFrom ? 'imported' : 'fetched'}: ${cpus.join(', ')}`,
          body: [...changed, "They are in Archway's store: install a handler with the store as its source."].join('\n'),
          action: { label: 'Install from the store', onClick: () => void startPlan(api, { action: 'install', archs: cpus, source: 'store' }) },
        });
      } else toast({ tone: 'ok', title: 'Done', body: changed.length ? changed.join('\n') : 'Nothing needed changing.' });
    } else {
      const err = r.error ?? failed[0]?.error;
      toast({ tone: 'bad', title: 'Not applied', body: [err?.message ?? failed[0]?.message ?? 'the helper refused', err?.hint].filter(Boolean).join('\n') });
    }
  } catch (e) {
    const err = toIpcError(e);
    plansStore.set(null);
    toast({ tone: 'bad', title: 'Not applied', body: [err.message, err.hint].filter(Boolean).join('\n') });
  }
  await refreshStatus(api);
}

export const usePlanState = () => useStore(plansStore);
/** A plan is open or being applied: actions wait. */
export const usePlanBusy = () => useStore(plansStore, (s) => s !== null);

/** For views: start the plan flow with the window's API; `busy` while a plan is open. */
export function usePlanFlow(): { plan: (intent: Intent) => void; fetch: (archs: string[]) => void; importFrom: (path: string | undefined) => void; busy: boolean } {
  const api = useApi();
  const busy = usePlanBusy();
  return useMemo(
    () => ({ plan: (i: Intent) => void startPlan(api, i), fetch: (a: string[]) => void startFetchPlan(api, a), importFrom: (path: string | undefined) => void startImportPlan(api, path), busy }),
    [api, busy],
  );
}
