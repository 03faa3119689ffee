/**
 * Each rootless engine of the current user as every face shows it: running or not, its own
 * binfmt_misc instance or not, its instance's status (an empty, unmounted table when it has none),
 * what its containers use per architecture and why (shared/rootless.ts), and what the user asked for
 * that is gone. Reading only.
 */
import { SCOPE_LABEL, engineUses, type ScopeView } from '../../shared/rootless';
import type { Cpu } from '../../shared/arch/catalog';
import type { Status } from '../../shared/status';
import { findNamespace, instanceState, isNamespace, ROOTLESS_SCOPES, type RootlessScope } from './detect';
import { wanted } from './keep';
import { engineFor } from './target';

export type ScopeReport = ScopeView;

export function scopeReport(scope: RootlessScope, host: Status | null, env: NodeJS.ProcessEnv = process.env): ScopeReport {
  const found = findNamespace(scope, env);
  const missing = wanted(scope, env).missing.map((h) => h.cpu);
  const label = SCOPE_LABEL[scope];
  if (!isNamespace(found)) return { scope, label, running: false, instance: 'none', uses: [], missing, why: found.why };
  const instance = instanceState(found.pid);
  const status = engineFor({ ns: found, state: instance }, env).status();
  const uses = engineUses(scope, host, instance === 'own' ? status : null, instance, missing as Cpu[]);
  return { scope, label, running: true, pid: found.pid, instance, status, uses, missing };
}

/** Reports of the rootless engines worth showing: running, or with something asked for. */
export function reports(host: Status | null, env: NodeJS.ProcessEnv = process.env): ScopeReport[] {
  return ROOTLESS_SCOPES.map((s) => scopeReport(s, host, env)).filter((r) => r.running || r.missing.length > 0);
}
