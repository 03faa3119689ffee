/**
 * The per-node result the Kubernetes registration program prints: ONE JSON line on stdout of the
 * init container (`kubectl logs -n NS POD -c register`), schema `archway.dev/binfmt-node-result/v1`:
 *
 *   {"schema":"archway.dev/binfmt-node-result/v1","node":"worker-1","action":"install",
 *    "entries":[{"name":"qemu-aarch64","result":"registered"},
 *               {"name":"qemu-s390x","result":"conflict","detail":"…","current":"enabled\ninterpreter …"}],
 *    "ok":false}
 *
 * result, install:   registered | present (identical, left alone) | enabled (identical but disabled:
 *                    enabled again) | replaced (differed; --replace) | conflict (differs, left alone) | failed
 * result, uninstall: removed | absent | different (not ours, left alone) | failed
 * detail: why (failed, conflict, different); current: the kernel's text of the entry found.
 * ok: every entry ended as asked (the init container exits 0 exactly then).
 *
 * And the nodes × platforms rows `archway kube status`, `archway fleet status --kube` and the Machines
 * view show: each node is a host of the one fleet matrix (shared/fleet.ts; id `node/<name>`, kind
 * `kubernetes-node`), made here and nowhere else. Pure.
 */
import * as z from 'zod/mini';
import { CATALOG_CPUS, catalogEntry, DOCKER_PLATFORMS, nativeCpus, type Cpu } from '../arch/catalog';
import type { FleetCell, FleetHost, FleetReach } from '../fleet';

export const NODE_RESULT_SCHEMA = 'archway.dev/binfmt-node-result/v1';

export const INSTALL_RESULTS = ['registered', 'present', 'enabled', 'replaced', 'conflict', 'failed'] as const;
export const UNINSTALL_RESULTS = ['removed', 'absent', 'different', 'failed'] as const;

const Entry = z.strictObject({
  name: z.string(),
  result: z.enum([...new Set([...INSTALL_RESULTS, ...UNINSTALL_RESULTS])] as [string, ...string[]]),
  detail: z.optional(z.string()),
  current: z.optional(z.string()),
});
const NodeResultSchema = z.strictObject({
  schema: z.literal(NODE_RESULT_SCHEMA),
  node: z.string(),
  action: z.enum(['install', 'uninstall']),
  entries: z.array(Entry),
  ok: z.boolean(),
});
export type NodeResult = z.infer<typeof NodeResultSchema>;
export type NodeResultEntry = z.infer<typeof Entry>;

/** The result line in a container's log (the last line that parses as one), or undefined. */
export function parseNodeResult(log: string): NodeResult | undefined {
  const lines = log.split('\n').filter((l) => l.trim() !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const r = NodeResultSchema.safeParse(JSON.parse(lines[i]!));
      if (r.success) return r.data;
    } catch {
      // not JSON: some other line
    }
  }
  return undefined;
}

/** A node's row: a fleet host of kind `kubernetes-node` (id `node/<name>`, `nodeArch` its kubernetes.io/arch). */
export type KubeNodeRow = FleetHost;

/** What `kube status` knows about one node: its arch, and its install pod's state and log, if any. */
export interface KubeNodeFacts {
  name: string;
  nodeArch: string;
  /** Entries the DaemonSet for this node's arch registers (its annotation), and their flags. */
  expected?: { names: readonly string[]; flags: string };
  pod?: { name: string; phase: string; log?: string; waiting?: string };
}

function cpuOfHandler(name: string): Cpu | undefined {
  const m = /^qemu-(.+)$/.exec(name);
  return m ? catalogEntry(m[1]!)?.cpu : undefined;
}

const READY = new Set(['registered', 'present', 'enabled', 'replaced']);

/**
 * One node's row: native cells for what the node runs itself (from its kubernetes.io/arch), and for
 * each CPU of `cpus` (those the DaemonSets register) what its result line says. CPUs no DaemonSet
 * names for this node get no cell: Archway has not read that node's table, so it claims nothing about them.
 * `endpoint` says where the node was reached (`kube:<kubeconfig context>`).
 */
export function kubeNodeRow(f: KubeNodeFacts, cpus: readonly Cpu[], endpoint = ''): FleetHost {
  const p = DOCKER_PLATFORMS.find((x) => x.architecture === f.nodeArch);
  const machine = p?.unameM[0];
  const native = new Set<Cpu>(p ? [p.cpu, ...nativeCpus(machine!).filter((n) => n.native === 'yes').map((n) => n.cpu)] : []);
  const result = f.pod?.log !== undefined ? parseNodeResult(f.pod.log) : undefined;
  const byCpu = new Map<Cpu, NodeResultEntry>();
  for (const e of result?.action === 'install' ? result.entries : []) {
    const cpu = cpuOfHandler(e.name);
    if (cpu) byCpu.set(cpu, e);
  }
  const expected = new Set((f.expected?.names ?? []).map(cpuOfHandler).filter((c): c is Cpu => !!c));
  const pendingWhy = !f.pod ? 'no pod on this node (no DaemonSet for its architecture, or not scheduled: taints need --toleration)' : f.pod.waiting ?? `pod ${f.pod.phase.toLowerCase()}, no result yet`;
  // A CPU neither native, nor in this node's result, nor registered by its DaemonSet: unknown, no cell.
  const shown = new Set<Cpu>([...native, ...cpus.filter((c) => byCpu.has(c) || expected.has(c))]);
  const cells = CATALOG_CPUS.filter((cpu) => shown.has(cpu)).map((cpu): FleetCell => {
    const cRisk = expected.has(cpu) && (f.expected?.flags.includes('C') ?? false);
    if (native.has(cpu)) return { cpu, state: 'native', cRisk: false };
    const e = byCpu.get(cpu);
    if (e) {
      if (READY.has(e.result)) return { cpu, state: 'ready', cRisk, handler: e.name };
      return { cpu, state: e.result === 'conflict' ? 'conflict' : 'broken', cRisk: false, handler: e.name, ...(e.detail ? { note: e.detail } : {}) };
    }
    return { cpu, state: 'missing', cRisk: false, ...(expected.has(cpu) ? { note: pendingWhy } : {}) };
  });
  const reach: FleetReach = result ? 'ok' : f.pod ? 'pending' : 'unscheduled';
  return {
    id: `node/${f.name}`,
    name: f.name,
    kind: 'kubernetes-node',
    endpoint,
    reach,
    ...(result ? {} : { error: { code: reach, message: pendingWhy } }),
    ...(machine ? { machine } : {}),
    nodeArch: f.nodeArch,
    cells,
  };
}

/** The row that stands for a whole cluster that did not answer (within the bound): no cells. */
export function kubeClusterHost(context: string, endpoint: string, reach: FleetReach, error: NonNullable<FleetHost['error']>, ms?: number): FleetHost {
  return { id: `cluster/${context}`, name: context, kind: 'kubernetes-cluster', endpoint, reach, error, cells: [], ...(ms !== undefined ? { ms } : {}) };
}
