/**
 * The Architectures view's scope (issue 10): this machine, or one of the user's rootless engines
 * with its own binfmt_misc instance. Holds the choice and the engines' reports (getScopes); plans in
 * a rootless scope carry `intent.scope`, so the one plan → confirm → apply flow serves every scope.
 */
import type { ArchwayApi } from '../../shared/ipc/api';
import type { Scope, ScopeView } from '../../shared/rootless';
import { createStore } from './store';

export interface ScopeState {
  scope: Scope;
  /** Each rootless engine's report; null until first read. */
  views: ScopeView[] | null;
  loading: boolean;
  error?: string;
  /** The last re-apply's outcome, for a person. */
  notice?: string;
}

export const scopeStore = createStore<ScopeState>({ scope: 'host', views: null, loading: false });

export function chooseScope(scope: Scope): void {
  scopeStore.set((s) => ({ ...s, scope, notice: undefined }));
}

export async function loadScopes(api: Pick<ArchwayApi, 'getScopes'>): Promise<void> {
  scopeStore.set((s) => ({ ...s, loading: true }));
  try {
    const views = await api.getScopes();
    scopeStore.set((s) => ({ ...s, views, loading: false, error: undefined }));
  } catch (e) {
    scopeStore.set((s) => ({ ...s, loading: false, error: (e as Error).message }));
  }
}

export async function reapplyScope(api: Pick<ArchwayApi, 'getScopes' | 'reapplyScope'>, scope: Exclude<Scope, 'host'>): Promise<void> {
  try {
    const r = await api.reapplyScope({ scope });
    scopeStore.set((s) => ({ ...s, notice: r.ok ? `Registered again: ${r.results.filter((x) => x.changed).map((x) => x.arch).join(', ') || 'nothing was missing'}` : `Re-apply failed: ${r.error?.message ?? r.results.find((x) => !x.ok)?.message ?? 'unknown error'}` }));
  } catch (e) {
    scopeStore.set((s) => ({ ...s, notice: `Re-apply failed: ${(e as Error).message}` }));
  }
  await loadScopes(api);
}

/** The view of the chosen rootless scope (undefined for the host). */
export function currentView(s: ScopeState): ScopeView | undefined {
  return s.scope === 'host' ? undefined : s.views?.find((v) => v.scope === s.scope);
}
