/**
 * The fleet as main uses it (the Machines view): statuses of every docker context (and the nodes of
 * the kubeconfig's cluster, read-only), "make this host
 * like that one" plans, and one probe on every host — all through electron/targets, loaded on first
 * use so the window (and its local view) never waits for them. Every host is asked within a bound.
 */
import { buildMatrix, installsToMatch, type FleetMatrix } from '../../shared/fleet';
import type { FleetApplyView, FleetProbeRequest, FleetProbeView, FleetRequest } from '../../shared/ipc/contract';
import type { OpResult } from '../../shared/helper-protocol';
import { IpcRequestError, serialiseError } from './errors';

export interface FleetGateway {
  status(req: FleetRequest): Promise<FleetMatrix>;
  planMatch(target: string, model: string): Promise<{ endpoint: string; cpus: string[]; planned: OpResult[] }>;
  /** Apply a plan made by planMatch: re-planned on the host, refused if its register strings differ. */
  apply(target: string, cpus: string[], expectRegisters: string[]): Promise<FleetApplyView>;
  probe(req: FleetProbeRequest): Promise<FleetProbeView[]>;
}

export interface FleetGatewayOptions {
  env?: NodeJS.ProcessEnv;
  /** Time each host gets to answer (default 10 s). */
  boundMs?: number;
  /** The registration helper image on the hosts (default: the pinned busybox). */
  registrar?: string;
  /**
   * The Kubernetes cluster of the current kubeconfig context as rows (read-only here: changes go
   * through `archway kube apply`). Default 'auto': only when a kubeconfig exists — none, no section
   * and no delay; a cluster that does not answer is one row, within the same bound as a context.
   */
  kube?: boolean | 'auto';
}

export class ContextFleetGateway implements FleetGateway {
  constructor(private readonly o: FleetGatewayOptions = {}) {}

  private get common() {
    return { ...(this.o.env ? { env: this.o.env } : {}), ...(this.o.boundMs ? { boundMs: this.o.boundMs } : {}), ...(this.o.registrar ? { registrar: this.o.registrar } : {}) };
  }

  async status(req: FleetRequest): Promise<FleetMatrix> {
    const { fleetStatus } = await import('../targets/fleet');
    return fleetStatus({ ...this.common, kube: this.o.kube ?? 'auto', ...(req?.contexts?.length ? { contexts: req.contexts } : {}), ...(req?.baseline ? { baseline: req.baseline } : {}) });
  }

  async planMatch(target: string, model: string): Promise<{ endpoint: string; cpus: string[]; planned: OpResult[] }> {
    if (target === model) throw new IpcRequestError('invalid-request', 'a host is already like itself', 'Pick another host as the model.');
    const { fleetStatus, fleetInstall } = await import('../targets/fleet');
    const m = buildMatrix((await fleetStatus({ ...this.common, contexts: [target, model] })).hosts);
    const t = m.hosts.find((h) => h.id === target)!;
    const mo = m.hosts.find((h) => h.id === model)!;
    for (const h of [t, mo]) if (h.reach !== 'ok') throw new IpcRequestError(h.error?.code ?? 'unreachable', `${h.name}: ${h.error?.message ?? 'did not answer'}`, h.error?.hint);
    const cpus = installsToMatch(t, mo);
    if (cpus.length === 0) return { endpoint: t.endpoint, cpus, planned: [] };
    const [r] = await fleetInstall(cpus, { ...this.common, contexts: [target], dryRun: true });
    if (r!.reach !== 'ok' || (r!.error && r!.planned.length === 0)) throw new IpcRequestError(r!.error?.code ?? 'unreachable', r!.error?.message ?? `${target} did not answer`, r!.error?.hint);
    return { endpoint: r!.endpoint, cpus, planned: r!.planned };
  }

  async apply(target: string, cpus: string[], expectRegisters: string[]): Promise<FleetApplyView> {
    const { reach, fleetTargets, DEFAULT_REACH_MS } = await import('../targets/fleet');
    const { installRemote } = await import('../targets/remote');
    const [t] = fleetTargets([target], this.o.env);
    const r = await reach(t!, this.o.boundMs ?? DEFAULT_REACH_MS, this.o.env);
    if (!r.conn) return { host: target, ok: false, results: [], error: serialiseError(r.error) };
    try {
      const registrar = this.o.registrar ? { registrar: { image: { ref: this.o.registrar, platform: `linux/${r.conn.info.arch}` } } } : {};
      const out = await installRemote(r.conn, cpus, { ...registrar, expectRegisters });
      const refused = out.planned.find((p) => !p.ok);
      return {
        host: target,
        ok: !refused,
        results: out.outcomes.map((x) => ({ name: x.name, message: x.message, changed: x.changed })),
        ...(refused?.error ? { error: { code: refused.error.code, message: refused.error.message, ...(refused.error.hint ? { hint: refused.error.hint } : {}) } } : {}),
      };
    } catch (err) {
      return { host: target, ok: false, results: [], error: serialiseError(err) };
    } finally {
      r.conn.close();
    }
  }

  async probe(req: FleetProbeRequest): Promise<FleetProbeView[]> {
    const { reach, fleetTargets, DEFAULT_REACH_MS } = await import('../targets/fleet');
    const { probe } = await import('../container/probe');
    const targets = fleetTargets(req.contexts, this.o.env);
    return Promise.all(
      targets.map(async (t): Promise<FleetProbeView> => {
        const r = await reach(t, this.o.boundMs ?? DEFAULT_REACH_MS, this.o.env);
        if (!r.conn) return { host: t.name, reach: r.reach, error: serialiseError(r.error) };
        try {
          return { host: t.name, reach: 'ok', result: await probe({ conn: r.conn, platform: req.platform, image: req.image }) };
        } catch (err) {
          return { host: t.name, reach: 'ok', error: serialiseError(err) };
        } finally {
          r.conn.close();
        }
      }),
    );
  }
}
