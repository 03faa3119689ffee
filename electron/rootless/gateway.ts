/**
 * The window's way to rootless engines (issue 10): the same report, engine and re-apply the CLI
 * uses (report.ts, target.ts, keep.ts), for the router (electron/main/router.ts).
 */
import type { ApplyView } from '../../shared/ipc/contract';
import type { ScopeView } from '../../shared/rootless';
import { Engine } from '../engine';
import { reapply } from './keep';
import { scopeReport } from './report';
import { engineFor, requireNamespace, type RootlessEngine } from './target';
import { ROOTLESS_SCOPES, type RootlessScope } from './detect';

export class RootlessGateway {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** Every rootless engine, running or not (the scope switch offers each). */
  scopes(): ScopeView[] {
    const host = new Engine().status();
    return ROOTLESS_SCOPES.map((s) => scopeReport(s, host, this.env));
  }

  async engine(scope: RootlessScope): Promise<RootlessEngine> {
    return engineFor(await requireNamespace(scope, { start: true, env: this.env }), this.env);
  }

  async reapply(scope: RootlessScope): Promise<ApplyView> {
    const r = await reapply(scope, this.env);
    const results = r.responses.flatMap((x) => x.results);
    const err = r.responses.find((x) => x.error)?.error;
    return { ok: r.ok, results, repairs: r.responses.flatMap((x) => x.repairs ?? []), ...(err ? { error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } } : {}), exitCode: r.ok ? 0 : 1 };
  }
}
