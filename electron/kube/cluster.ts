/**
 * `archway kube status|apply|delete` through the cluster API (@kubernetes/client-node, loaded only
 * here), with the current kubeconfig context — KUBECONFIG, else ~/.kube/config, else the in-cluster
 * service account. apply sends exactly what `archway export kubernetes` writes (server-side apply,
 * field manager "archway"); status reads each node's one JSON result line from its pod's log;
 * delete re-plans the uninstall DaemonSet from the request each install DaemonSet records.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { CATALOG, type Cpu } from '../../shared/arch/catalog';
import { ArchwayError } from '../../shared/helper-protocol';
import {
  KUBE_APP,
  KUBE_DEFAULT_NAMESPACE,
  KUBE_ENTRIES_ANNOTATION,
  KUBE_REQUEST_ANNOTATION,
  kubernetesManifests,
  planKubernetes,
  type KubeExportRequest,
} from '../../shared/kube/manifests';
import { kubeNodeRow, parseNodeResult, type KubeNodeFacts, type KubeNodeRow, type NodeResult } from '../../shared/kube/result';
import { cleanText } from '../../shared/sanitize';
import { kubeconfigSource } from './config';
import { exportKubernetes } from './export';
import { validateManifests } from './validate';

/** A cluster problem with an error code the exit-code table knows (unreachable → 3). */
export class KubeError extends Error {
  override readonly name = 'KubeError';
  constructor(
    readonly code: 'unreachable' | 'not-found' | 'timeout' | 'engine-refused',
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export { kubeconfigSource };

type K8s = typeof import('@kubernetes/client-node');

interface Cluster {
  k8s: K8s;
  objects: import('@kubernetes/client-node').KubernetesObjectApi;
  core: import('@kubernetes/client-node').CoreV1Api;
  context: string;
  /** The API server's address (for the fleet matrix's endpoint column). */
  server: string;
}

/** The API client needs Node.js 22 (its undici); the headless package for Node 18 leaves it out. */
export const KUBE_CLIENT_MIN_NODE = 22;

async function loadClient(): Promise<K8s> {
  const unavailable = (why: string) =>
    new KubeError(
      'unreachable',
      `this Archway cannot talk to a cluster: ${why}`,
      'Write the manifests and apply them with kubectl: archway export kubernetes ARCH… --image REF@sha256:… -o FILE && kubectl apply -f FILE',
    );
  const major = Number(process.versions.node.split('.')[0]);
  if (major < KUBE_CLIENT_MIN_NODE) throw unavailable(`its Kubernetes API client (@kubernetes/client-node) needs Node.js ${KUBE_CLIENT_MIN_NODE} or newer, and this is Node.js ${process.versions.node}`);
  try {
    return await import('@kubernetes/client-node');
  } catch (err) {
    // ERR_MODULE_NOT_FOUND from an ES module's import(); MODULE_NOT_FOUND when the CLI's scripts
    // (CommonJS, electron/cli/loader.ts) load it with require().
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw unavailable('this package does not include the Kubernetes API client (@kubernetes/client-node)');
    throw unavailable(`loading the Kubernetes API client failed: ${(err as Error).message}`);
  }
}

/** Connect with the current kubeconfig context; every request carries `signal` (a bound that ends them). */
async function connect(opts: { signal?: AbortSignal } = {}): Promise<Cluster> {
  const source = kubeconfigSource();
  if (!source) {
    throw new KubeError('unreachable', 'no Kubernetes cluster is configured: no KUBECONFIG, no ~/.kube/config, not inside a cluster', 'Point KUBECONFIG at your cluster\'s kubeconfig, or use `archway export kubernetes … -o FILE` and apply the file yourself.');
  }
  const k8s = await loadClient();
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (err) {
    throw new KubeError('unreachable', `cannot read the kubeconfig (${source}): ${(err as Error).message}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeError('unreachable', `the kubeconfig (${source}) has no current context`, 'Choose one: kubectl config use-context NAME');
  const signal = opts.signal;
  if (signal) {
    // Both API clients authenticate every request through the KubeConfig: that is where a request gets its signal.
    const auth = kc.applySecurityAuthentication.bind(kc);
    kc.applySecurityAuthentication = async (ctx) => {
      await auth(ctx);
      ctx.setSignal(signal);
    };
  }
  return { k8s, objects: k8s.KubernetesObjectApi.makeApiClient(kc), core: kc.makeApiClient(k8s.CoreV1Api), context: kc.getCurrentContext(), server: cluster.server };
}

/** Network and API errors, said plainly (the cluster's own words are untrusted text). */
function clusterError(c: Cluster, err: unknown, doing: string): Error {
  if (err instanceof KubeError || err instanceof ArchwayError) return err;
  const e = err as Error;
  // The network error's code sits somewhere down the cause chain (undici wraps it in "fetch failed").
  let net: string | undefined;
  for (let x: unknown = err, i = 0; x && i < 6 && !net; x = (x as { cause?: unknown }).cause, i++) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && /^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN|UND_ERR_\w+|CERT_\w+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_\w+)$/.test(code)) net = code;
  }
  if (net || /fetch failed/.test(String(e.message))) {
    return new KubeError('unreachable', `the cluster of context "${c.context}" does not answer${net ? ` (${net})` : ''} while ${doing}`, 'Check the context (kubectl config current-context) and that the API server is reachable.');
  }
  return new KubeError('engine-refused', `the cluster refused ${doing}: ${cleanText(String(e.message ?? err)).slice(0, 500)}`);
}

const SELECT = (component: 'register' | 'unregister') => `app.kubernetes.io/name=${KUBE_APP},app.kubernetes.io/component=${component}`;

async function list<T extends KubernetesObject>(c: Cluster, apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<T[]> {
  try {
    const r = await c.objects.list<T>(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
    return r.items;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return [];
    throw clusterError(c, err, `listing ${kind}s`);
  }
}

interface PodLike extends KubernetesObject {
  spec?: { nodeName?: string };
  status?: { phase?: string; initContainerStatuses?: { name: string; state?: { terminated?: unknown; waiting?: { reason?: string; message?: string } }; lastState?: { terminated?: unknown } }[] };
}
interface NodeLike extends KubernetesObject {
  metadata?: KubernetesObject['metadata'];
}

/** Every node's facts for one component's pods (its result log when its init container has run). */
async function nodeFacts(c: Cluster, namespace: string, component: 'register' | 'unregister'): Promise<KubeNodeFacts[]> {
  const nodes = await list<NodeLike>(c, 'v1', 'Node');
  const sets = await list<KubernetesObject>(c, 'apps/v1', 'DaemonSet', namespace, SELECT(component));
  const pods = await list<PodLike>(c, 'v1', 'Pod', namespace, SELECT(component));
  const expected = new Map<string, { names: string[]; flags: string }>();
  for (const ds of sets) {
    const a = ds.metadata?.annotations ?? {};
    const arch = ds.metadata?.labels?.['archway.dev/node-arch'];
    if (arch) expected.set(arch, { names: (a[KUBE_ENTRIES_ANNOTATION] ?? '').split(',').filter(Boolean), flags: a['archway.dev/flags'] ?? '' });
  }
  const newest = new Map<string, PodLike>();
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (!n) continue;
    const cur = newest.get(n);
    if (!cur || String(p.metadata?.creationTimestamp ?? '') > String(cur.metadata?.creationTimestamp ?? '')) newest.set(n, p);
  }
  const out: KubeNodeFacts[] = [];
  for (const node of nodes) {
    const name = node.metadata?.name ?? '?';
    const nodeArch = node.metadata?.labels?.['kubernetes.io/arch'] ?? '?';
    const pod = newest.get(name);
    let facts: KubeNodeFacts['pod'];
    if (pod) {
      const init = pod.status?.initContainerStatuses?.find((s) => s.name === component);
      const ran = !!init?.state?.terminated || !!init?.lastState?.terminated;
      let log: string | undefined;
      if (ran) {
        try {
          log = await c.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace, container: component, limitBytes: 65536 });
        } catch (err) {
          throw clusterError(c, err, `reading the log of ${pod.metadata?.name}`);
        }
      }
      const w = init?.state?.waiting;
      facts = { name: pod.metadata?.name ?? '?', phase: pod.status?.phase ?? 'Unknown', ...(log !== undefined ? { log } : {}), ...(w?.reason ? { waiting: cleanText(`${w.reason}${w.message ? `: ${w.message}` : ''}`) } : {}) };
    }
    const exp = expected.get(nodeArch);
    out.push({ name, nodeArch, ...(exp ? { expected: exp } : {}), ...(facts ? { pod: facts } : {}) });
  }
  return out;
}

function shownCpus(facts: readonly KubeNodeFacts[]): Cpu[] {
  const names = new Set(facts.flatMap((f) => f.expected?.names ?? []));
  return [...new Set(CATALOG.filter((e) => names.has(e.handlerName)).map((e) => e.cpu))];
}

/** Where a node was reached, in the fleet matrix's endpoint column. */
const endpointOf = (c: Cluster) => `kube:${c.context}`;

/**
 * nodes × platforms from each node's result line, as fleet hosts. `onConnect` hears the context
 * before the first request (so a bound that ends them can name it); `signal` ends every request.
 */
export async function kubeStatus(opts: { namespace?: string; signal?: AbortSignal; onConnect?: (context: string, server: string) => void } = {}): Promise<KubeNodeRow[]> {
  const c = await connect(opts.signal ? { signal: opts.signal } : {});
  opts.onConnect?.(c.context, c.server);
  const facts = await nodeFacts(c, opts.namespace ?? KUBE_DEFAULT_NAMESPACE, 'register');
  const cpus = shownCpus(facts);
  return facts.map((f) => kubeNodeRow(f, cpus, endpointOf(c)));
}

async function applyAll(c: Cluster, docs: readonly Record<string, unknown>[]): Promise<void> {
  for (const d of docs) {
    try {
      await c.objects.patch(d as KubernetesObject, undefined, undefined, 'archway', true, c.k8s.PatchStrategy.ServerSideApply);
    } catch (err) {
      throw clusterError(c, err, `applying ${String(d.kind)} ${String((d.metadata as { name?: string }).name)}`);
    }
  }
}

/** Wait until every pod of the component on a node that should run one has printed its result. */
async function waitForResults(c: Cluster, namespace: string, component: 'register' | 'unregister', nodeArchs: ReadonlySet<string>, timeoutMs: number, progress: (m: string) => void): Promise<KubeNodeFacts[]> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const facts = await nodeFacts(c, namespace, component);
    const due = facts.filter((f) => nodeArchs.has(f.nodeArch));
    const waiting = due.filter((f) => !(f.pod?.log !== undefined && parseNodeResult(f.pod.log)));
    const line = `${due.length - waiting.length} of ${due.length} nodes have a result`;
    if (line !== last) progress(`archway: ${line}`);
    last = line;
    if (waiting.length === 0 || Date.now() > deadline) return facts;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

export async function kubeApply(req: KubeExportRequest, opts: { timeoutMs: number; progress: (m: string) => void }): Promise<{ rows: KubeNodeRow[]; ok: boolean }> {
  const r = await exportKubernetes(req);
  const c = await connect();
  opts.progress(`archway: applying ${r.documents.length} documents to context "${c.context}" (namespace ${r.plan.namespace})`);
  await applyAll(c, r.documents.map((d) => d.value as Record<string, unknown>));
  const facts = await waitForResults(c, r.plan.namespace, 'register', new Set(r.plan.nodeArchs.map((n) => n.nodeArch)), opts.timeoutMs, opts.progress);
  const cpus = shownCpus(facts);
  const rows = facts.map((f) => kubeNodeRow(f, cpus, endpointOf(c)));
  const ok = rows.every((row) => row.cells.every((cell) => cell.state === 'ready' || cell.state === 'native' || (cell.state === 'missing' && !cell.note)));
  return { rows, ok };
}

export interface KubeDeleteResult {
  ok: boolean;
  nodes: { node: string; result?: NodeResult; pending?: string }[];
  lines: string[];
}

export async function kubeDelete(opts: { namespace?: string; timeoutMs: number; progress: (m: string) => void }): Promise<KubeDeleteResult> {
  const namespace = opts.namespace ?? KUBE_DEFAULT_NAMESPACE;
  const c = await connect();
  const installed = await list<KubernetesObject>(c, 'apps/v1', 'DaemonSet', namespace, SELECT('register'));
  if (installed.length === 0) {
    throw new KubeError('not-found', `no Archway DaemonSet in namespace ${namespace} of context "${c.context}"`, 'Nothing to remove (or name the namespace with --namespace).');
  }
  // The uninstall DaemonSets, re-planned from the request each install DaemonSet records.
  const uninstall: Record<string, unknown>[] = [];
  for (const ds of installed) {
    const raw = ds.metadata?.annotations?.[KUBE_REQUEST_ANNOTATION];
    if (!raw) throw new KubeError('engine-refused', `${ds.metadata?.name} has no ${KUBE_REQUEST_ANNOTATION} annotation: it was not made by this Archway`);
    const plan = planKubernetes(JSON.parse(raw) as KubeExportRequest);
    uninstall.push(...kubernetesManifests(plan, 'uninstall').map((d) => d.value as Record<string, unknown>).filter((d) => d.kind === 'DaemonSet'));
  }
  await validateManifests(uninstall);
  for (const ds of installed) {
    opts.progress(`archway: deleting DaemonSet ${ds.metadata?.name}`);
    // List items carry no apiVersion/kind: name the object fully.
    await c.objects.delete({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: ds.metadata?.name, namespace } }).catch((err: unknown) => {
      throw clusterError(c, err, `deleting ${ds.metadata?.name}`);
    });
  }
  await applyAll(c, uninstall);
  const archs = new Set(uninstall.map((d) => ((d.metadata as { labels: Record<string, string> }).labels['archway.dev/node-arch'] ?? '')));
  const facts = await waitForResults(c, namespace, 'unregister', archs, opts.timeoutMs, opts.progress);
  const nodes = facts
    .filter((f) => archs.has(f.nodeArch))
    .map((f): KubeDeleteResult['nodes'][number] => {
      const result = f.pod?.log !== undefined ? parseNodeResult(f.pod.log) : undefined;
      return { node: f.name, ...(result ? { result } : { pending: f.pod?.waiting ?? (f.pod ? `pod ${f.pod.phase}` : 'no pod scheduled') }) };
    });
  const ok = nodes.every((n) => n.result?.ok === true);
  const lines = nodes.map((n) => (n.result ? `${n.node}: ${n.result.entries.map((e) => `${e.name} ${e.result}${e.detail ? ` (${e.detail})` : ''}`).join(', ')}` : `${n.node}: no result (${n.pending})`));
  if (!ok) {
    // Kept so its pods' logs can be read and it finishes once the nodes are fixed.
    lines.push(`The uninstall DaemonSets stay in namespace ${namespace}: kubectl logs -n ${namespace} -l app.kubernetes.io/component=unregister -c unregister --prefix; delete the namespace when every node is done.`);
    return { ok, nodes, lines };
  }
  for (const d of uninstall) await c.objects.delete(d as KubernetesObject).catch(() => undefined);
  // The namespace goes only when Archway made it (its label says so), never someone's own.
  const ns = await c.objects.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }).catch(() => undefined);
  if (ns?.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'archway') await c.objects.delete(ns).catch(() => undefined);
  return { ok, nodes, lines };
}
