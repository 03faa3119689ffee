/**
 * Many engine hosts at once: resolve the docker contexts named (or all of them), reach each within a
 * time bound — all concurrently, so a host that hangs or refuses costs the others nothing — and read
 * each one's status (remote.ts) into the fleet matrix (shared/fleet.ts); or apply one install to each.
 * The CLI (`archway fleet`) and the window's Machines view both call these functions.
 */
import { buildMatrix, fleetRow, hostEmulatorVersion, type FleetHost, type FleetMatrix, type FleetReach } from '../../shared/fleet';
import type { OpResult } from '../../shared/helper-protocol';
import type { Status } from '../../shared/status';
import { connect, hostFacts, type Connection } from '../container/endpoint';
import { describeEndpoint, listContexts, namedContextEndpoint, type Endpoint } from '../container/endpoint-plan';
import { ContainerEngineError, toContainerEngineError } from '../container/errors';
import type { RegistrarImage, SessionOptions } from '../container/register';
import { installRemote, readRemote, remoteStatus } from './remote';

/** Default time a host gets to answer (connect + version + info), in ms. */
export const DEFAULT_REACH_MS = 10_000;

export interface FleetTarget {
  /** The context name (the host's id in the matrix). */
  name: string;
  endpoint?: Endpoint;
  /** Why it cannot even be tried (unknown context, unreadable meta.json). */
  problem?: ContainerEngineError;
}

/** The contexts to ask: those named, else every context `docker context ls` would list. */
export function fleetTargets(names: readonly string[] | undefined, env: NodeJS.ProcessEnv = process.env): FleetTarget[] {
  const f = hostFacts(env);
  const list = names && names.length ? [...new Set(names)] : listContexts(f).map((c) => c.name);
  return list.map((name) => {
    try {
      return { name, endpoint: namedContextEndpoint(f, name) };
    } catch (err) {
      return { name, problem: toContainerEngineError(err, { endpoint: name, kind: 'unix' }) };
    }
  });
}

/** The matrix's word for why a host (an engine, or a Kubernetes cluster) did not answer. */
export function reachOf(err: { code: string; message: string }): FleetReach {
  if (err.code === 'timeout' || err.code === 'cancelled') return 'timeout';
  if (err.code === 'daemon-not-running' || /ECONNREFUSED|Connection refused/.test(err.message)) return 'refused';
  if (err.code === 'unreachable' || err.code === 'bad-endpoint') return 'unreachable';
  return 'error';
}

export interface Reached {
  target: FleetTarget;
  conn?: Connection;
  error?: ContainerEngineError;
  reach: FleetReach;
  ms: number;
}

/** Connect to one target within `boundMs` (never longer, whatever the host does). */
export async function reach(target: FleetTarget, boundMs: number, env: NodeJS.ProcessEnv = process.env): Promise<Reached> {
  const t0 = Date.now();
  if (!target.endpoint) return { target, error: target.problem!, reach: 'unreachable', ms: 0 };
  const endpoint = target.endpoint;
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stop.abort();
      reject(new ContainerEngineError('timeout', `${describeEndpoint(endpoint)} did not answer within ${Math.round(boundMs / 100) / 10} s`, 'Check that the host is up and its engine answers (`docker --context NAME version`).'));
    }, boundMs);
  });
  const attempt = connect({ endpoint, env, timeoutMs: boundMs, signal: stop.signal });
  try {
    const conn = await Promise.race([attempt, bound]);
    return { target, conn, reach: 'ok', ms: Date.now() - t0 };
  } catch (err) {
    // A connection that completes after the bound is closed, not leaked.
    attempt.then((c) => c.close(), () => undefined);
    const e = toContainerEngineError(err, { endpoint: describeEndpoint(endpoint), kind: endpoint.kind });
    return { target, error: e, reach: reachOf(e), ms: Date.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

export interface FleetOptions {
  /** Context names; all contexts when empty. */
  contexts?: readonly string[];
  boundMs?: number;
  /** The registration helper image (default: the pinned busybox). */
  registrar?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /**
   * The Kubernetes cluster of the current kubeconfig context as rows too (one per node): `true`
   * always (no cluster configured is then a row saying so), `'auto'` only when a kubeconfig exists
   * (none: no cluster section and no delay). Asked concurrently with the contexts, within the same bound.
   */
  kube?: boolean | 'auto';
  /** The namespace of Archway's DaemonSets (default archway-binfmt). */
  kubeNamespace?: string;
}

function sessionFor(conn: Connection, opts: FleetOptions): SessionOptions {
  const registrar: RegistrarImage | undefined = opts.registrar ? { image: { ref: opts.registrar, platform: `linux/${conn.info.arch}` } } : undefined;
  return { ...(registrar ? { registrar } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
}

function errorOf(e: ContainerEngineError): FleetHost['error'] {
  return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
}

/** A host's status through its engine, and its matrix row. */
export async function hostStatus(target: FleetTarget, opts: FleetOptions = {}): Promise<{ host: FleetHost; status?: Status }> {
  const t0 = Date.now();
  const r = await reach(target, opts.boundMs ?? DEFAULT_REACH_MS, opts.env);
  const endpoint = target.endpoint ? describeEndpoint(target.endpoint) : '';
  const base = { id: target.name, name: target.name, kind: 'docker-context' as const, endpoint };
  if (!r.conn) return { host: { ...base, reach: r.reach, error: errorOf(r.error!), cells: [], ms: r.ms } };
  try {
    const read = await readRemote(r.conn, sessionFor(r.conn, opts));
    const status = remoteStatus(read);
    const version = read.qemuVersion ?? hostEmulatorVersion(status);
    return {
      host: { ...base, reach: 'ok', machine: status.hostMachine, mounted: status.mount.mounted, ...(version ? { emulatorVersion: version } : {}), cells: fleetRow(status), ms: Date.now() - t0 },
      status,
    };
  } catch (err) {
    const e = toContainerEngineError(err, { endpoint, kind: target.endpoint!.kind, doing: 'reading binfmt_misc through the engine' });
    return { host: { ...base, reach: 'error', machine: r.conn.info.hostMachine, error: errorOf(e), cells: [] } };
  } finally {
    r.conn.close();
  }
}

/**
 * The cluster's nodes as matrix rows (shared/kube/result.ts makes them), within `boundMs`: a cluster
 * that hangs or refuses is one `kubernetes-cluster` row saying so, and its requests are ended.
 */
export async function kubeHosts(opts: { boundMs?: number; namespace?: string; env?: NodeJS.ProcessEnv } = {}): Promise<FleetHost[]> {
  const boundMs = opts.boundMs ?? DEFAULT_REACH_MS;
  const t0 = Date.now();
  const { kubeconfigSource } = await import('../kube/config');
  let context = 'kubernetes';
  let endpoint = kubeconfigSource(opts.env) ?? '';
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stop.abort();
      reject({ code: 'timeout', message: `the cluster of context "${context}" did not answer within ${Math.round(boundMs / 100) / 10} s`, hint: 'Check the context (kubectl config current-context) and that the API server is reachable.' });
    }, boundMs);
  });
  const attempt = import('../kube/cluster').then(({ kubeStatus }) =>
    kubeStatus({
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      signal: stop.signal,
      onConnect: (ctx, server) => ((context = ctx), (endpoint = server)),
    }),
  );
  attempt.catch(() => undefined); // settled after the bound: already reported
  try {
    return await Promise.race([attempt, bound]);
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown; hint?: unknown };
    const error = { code: typeof e.code === 'string' ? e.code : 'unreachable', message: String(e.message ?? err), ...(typeof e.hint === 'string' ? { hint: e.hint } : {}) };
    const { kubeClusterHost } = await import('../../shared/kube/result');
    return [kubeClusterHost(context, endpoint, reachOf(error), error, Date.now() - t0)];
  } finally {
    clearTimeout(timer);
  }
}

/** Is the cluster asked? One place for the CLI's `--kube` and the window's automatic section. */
async function wantsKube(opts: FleetOptions): Promise<boolean> {
  if (opts.kube === true) return true;
  if (opts.kube !== 'auto') return false;
  return (await import('../kube/config')).kubeconfigSource(opts.env) !== undefined;
}

/** Every host's status, concurrently, as one matrix (the cluster's nodes too when asked). */
export async function fleetStatus(opts: FleetOptions & { baseline?: string } = {}): Promise<FleetMatrix> {
  const kube = await wantsKube(opts);
  const targets = fleetTargets(opts.contexts, opts.env);
  const [hosts, nodes] = await Promise.all([
    Promise.all(targets.map(async (t) => (await hostStatus(t, opts)).host)),
    kube ? kubeHosts({ ...(opts.boundMs ? { boundMs: opts.boundMs } : {}), ...(opts.kubeNamespace ? { namespace: opts.kubeNamespace } : {}), ...(opts.env ? { env: opts.env } : {}) }) : Promise.resolve([]),
  ]);
  return buildMatrix([...hosts, ...nodes], opts.baseline);
}

export interface HostInstallResult {
  host: string;
  endpoint: string;
  reach: FleetReach;
  ok: boolean;
  /** The planner's decision per architecture on that host. */
  planned: OpResult[];
  /** What the engine did. */
  changed: { name: string; message: string; changed: boolean }[];
  error?: FleetHost['error'];
}

/** One install planned and applied on many hosts at once; one host's failure never stops another's. */
export async function fleetInstall(archs: readonly string[], opts: FleetOptions & { dryRun?: boolean; flags?: string; allowSetuid?: boolean } = {}): Promise<HostInstallResult[]> {
  const targets = fleetTargets(opts.contexts, opts.env);
  return Promise.all(
    targets.map(async (t): Promise<HostInstallResult> => {
      const endpoint = t.endpoint ? describeEndpoint(t.endpoint) : '';
      const r = await reach(t, opts.boundMs ?? DEFAULT_REACH_MS, opts.env);
      if (!r.conn) return { host: t.name, endpoint, reach: r.reach, ok: false, planned: [], changed: [], error: errorOf(r.error!) };
      try {
        const out = await installRemote(r.conn, archs, { ...sessionFor(r.conn, opts), ...(opts.dryRun ? { dryRun: true } : {}), ...(opts.flags ? { flags: opts.flags } : {}), ...(opts.allowSetuid ? { allowSetuid: true } : {}) });
        const refused = out.planned.find((p) => !p.ok);
        return {
          host: t.name,
          endpoint,
          reach: 'ok',
          ok: !refused,
          planned: out.planned,
          changed: out.outcomes.map((o) => ({ name: o.name, message: o.message, changed: o.changed })),
          ...(refused?.error ? { error: { code: refused.error.code, message: refused.error.message, ...(refused.error.hint ? { hint: refused.error.hint } : {}) } } : {}),
        };
      } catch (err) {
        const e = toContainerEngineError(err, { endpoint, kind: t.endpoint!.kind, doing: 'registering through the engine' });
        return { host: t.name, endpoint, reach: 'ok', ok: false, planned: [], changed: [], error: errorOf(e) };
      } finally {
        r.conn.close();
      }
    }),
  );
}
