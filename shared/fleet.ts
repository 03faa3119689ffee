/**
 * The fleet matrix: hosts × platforms, one cell per (host, CPU), computed from each host's Status
 * (the same model, from the same planner functions, as this machine's). Any source of hosts fills
 * it the same way: Docker contexts (electron/targets/fleet.ts, `fleetRow(status)`) and Kubernetes
 * nodes (`kind: 'kubernetes-node'`, id `node/<name>`, one FleetHost per node, made by kubeNodeRow in
 * shared/kube/result.ts from each node's result line; a cluster that did not answer is one
 * `kubernetes-cluster` row). The CLI tables (`archway fleet status`, `archway kube status`), `--json`
 * and the window's Machines view all read this one model. Pure.
 */
import { CATALOG_CPUS, DOCKER_PLATFORMS, type Cpu } from './arch/catalog';
import type { ArchState, Status } from './status';

/** What a cell says: the status model's state per architecture. */
export type FleetCellState = ArchState;

export interface FleetCell {
  cpu: Cpu;
  state: FleetCellState;
  /** The winning handler registers with C: setuid foreign programs run QEMU as root (SETUID_RISK). */
  cRisk: boolean;
  /** The handler that serves this CPU on that host. */
  handler?: string;
  /** Its interpreter. */
  interpreter?: string;
  /** The host's own words when the cell is not what was asked (a Kubernetes node's conflict detail, why it has no result yet). */
  note?: string;
}

/**
 * How a host answered: `ok`; for a Kubernetes node whose cluster answered but whose pod has printed
 * no result yet, `pending` (its pod exists) or `unscheduled` (no pod on it: no DaemonSet for its
 * architecture, or taints) — its row holds what is known (its native CPUs); else why it is not in
 * the matrix (within the time bound).
 */
export type FleetReach = 'ok' | 'pending' | 'unscheduled' | 'timeout' | 'refused' | 'unreachable' | 'error';

/** The host (or its cluster) answered: its cells are facts. Else it is listed with why, without cells. */
export function answered(reach: FleetReach): boolean {
  return reach === 'ok' || reach === 'pending' || reach === 'unscheduled';
}

/** One short phrase per reach, for tables and the window (the same words everywhere). */
export const REACH_WORD: Record<FleetReach, string> = {
  ok: 'answered',
  pending: 'pending',
  unscheduled: 'no pod',
  timeout: 'no answer',
  refused: 'refused',
  unreachable: 'unreachable',
  error: 'error',
};

export interface FleetHost {
  /** Unique in the matrix: the context name, `node/<name>` for Kubernetes nodes, `cluster/<context>` for a cluster that did not answer. */
  id: string;
  /** What people read: the context, node or kubeconfig context name. */
  name: string;
  kind: 'docker-context' | 'kubernetes-node' | 'kubernetes-cluster';
  /** Where it was reached (`ssh://builder-1`, `unix:///var/run/docker.sock`, `kube:<kubeconfig context>`). */
  endpoint: string;
  reach: FleetReach;
  /** Why it did not answer / what failed (sanitised for display by the face). */
  error?: { code: string; message: string; hint?: string };
  /** `uname -m` of the host, when it answered. */
  machine?: string;
  /** A Kubernetes node's `kubernetes.io/arch` label. */
  nodeArch?: string;
  /** The QEMU version the host offers (distribution emulator), when known. */
  emulatorVersion?: string;
  /** binfmt_misc mounted on that host. */
  mounted?: boolean;
  cells: FleetCell[];
  /** How long asking it took, in ms. */
  ms?: number;
}

export interface FleetDifference {
  host: string;
  cpu: Cpu;
  baseline: FleetCellState;
  here: FleetCellState;
}

export interface FleetMatrix {
  /** The CPUs shown, in catalog order. */
  cpus: Cpu[];
  hosts: FleetHost[];
  baseline?: string;
  differences: FleetDifference[];
}

/** A host's row, from its status: one cell per catalog CPU. */
export function fleetRow(st: Status): FleetCell[] {
  return st.archs.map((a) => {
    const h = a.winner ? st.handlers.find((x) => x.name === a.winner) : undefined;
    const cRisk = !!h && h.enabled && /C/.test(h.rule.flags);
    return { cpu: a.cpu, state: a.state, cRisk, ...(a.winner ? { handler: a.winner } : {}), ...(h ? { interpreter: h.rule.interpreter } : {}) };
  });
}

/** The emulator version a host offers (the first available distro emulator's). */
export function hostEmulatorVersion(st: Status): string | undefined {
  for (const a of st.archs) for (const e of a.available) if (e.version) return e.version;
  return undefined;
}

/** A cell that runs foreign programs (or natively) — what "like that host" means per CPU. */
export function cellRuns(s: FleetCellState): boolean {
  return s === 'native' || s === 'ready';
}

/** Cells whose state differs from the baseline host's (hosts that did not answer are not compared). */
export function differencesFrom(hosts: readonly FleetHost[], baselineId: string): FleetDifference[] {
  const base = hosts.find((h) => h.id === baselineId);
  if (!base || base.reach !== 'ok') return [];
  const byCpu = new Map(base.cells.map((c) => [c.cpu, c]));
  const out: FleetDifference[] = [];
  for (const h of hosts) {
    if (h.id === baselineId || h.reach !== 'ok') continue;
    for (const c of h.cells) {
      const b = byCpu.get(c.cpu);
      if (b && b.state !== c.state) out.push({ host: h.id, cpu: c.cpu, baseline: b.state, here: c.state });
    }
  }
  return out;
}

/** The CPUs worth a column: those with a Docker platform, and any other some host has a handler for. */
export function shownCpus(hosts: readonly FleetHost[]): Cpu[] {
  const interesting = new Set<Cpu>(DOCKER_PLATFORMS.map((p) => p.cpu));
  for (const h of hosts) for (const c of h.cells) if (c.state !== 'missing' && c.state !== 'native') interesting.add(c.cpu);
  return CATALOG_CPUS.filter((c) => interesting.has(c));
}

export function buildMatrix(hosts: FleetHost[], baseline?: string): FleetMatrix {
  return { cpus: shownCpus(hosts), hosts, ...(baseline ? { baseline } : {}), differences: baseline ? differencesFrom(hosts, baseline) : [] };
}

/**
 * "Make this host like that one": the CPUs that run on `model` but not on `target` (native on the
 * target needs nothing). Only installs: Archway never removes another host's handlers to match.
 */
export function installsToMatch(target: FleetHost, model: FleetHost): Cpu[] {
  const here = new Map(target.cells.map((c) => [c.cpu, c.state]));
  return model.cells.filter((c) => c.state === 'ready' && !cellRuns(here.get(c.cpu) ?? 'missing')).map((c) => c.cpu);
}

/** One short word per cell state, for tables (the same words everywhere). */
export const CELL_WORD: Record<FleetCellState, string> = {
  native: 'native',
  ready: 'ready',
  disabled: 'disabled',
  missing: '-',
  broken: 'BROKEN',
  conflict: 'conflict',
};
