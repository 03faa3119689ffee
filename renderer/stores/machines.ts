/**
 * The Machines view's state: the fleet matrix (docker contexts as hosts), the baseline, a "make this
 * host like that one" plan waiting for confirmation, and a probe on every host. Loaded only when
 * the view asks: the local view never waits for other hosts.
 */
import type { FleetMatrix } from '../../shared/fleet';
import type { ArchwayApi } from '../../shared/ipc/api';
import { toIpcError } from '../../shared/ipc/api';
import type { FleetApplyView, FleetPlanView, FleetProbeView, IpcErrorShape } from '../../shared/ipc/contract';
import { createStore } from './store';

export interface MachinesState {
  matrix: FleetMatrix | null;
  loading: boolean;
  error?: IpcErrorShape;
  baseline?: string;
  plan: { loading: boolean; view?: FleetPlanView; applying?: boolean; result?: FleetApplyView; error?: IpcErrorShape } | null;
  probe: { image: string; platform: string; running: boolean; results: FleetProbeView[]; error?: IpcErrorShape };
}

export const INITIAL_MACHINES: MachinesState = { matrix: null, loading: false, plan: null, probe: { image: '', platform: 'linux/arm64', running: false, results: [] } };

export const machinesStore = createStore<MachinesState>(INITIAL_MACHINES);

/** Ask every host (each within its bound); the matrix replaces the old one when all have answered or timed out. */
export async function refreshMachines(api: ArchwayApi, baseline = machinesStore.get().baseline): Promise<void> {
  machinesStore.set((s) => ({ ...s, loading: true, baseline }));
  try {
    const matrix = await api.getFleet(baseline ? { baseline } : undefined);
    machinesStore.set((s) => ({ ...s, matrix, loading: false, error: undefined }));
  } catch (err) {
    machinesStore.set((s) => ({ ...s, loading: false, error: toIpcError(err) }));
  }
}

export function setBaseline(api: ArchwayApi, baseline: string | undefined): Promise<void> {
  return refreshMachines(api, baseline);
}

/** Plan "make `target` like `model`": the planner's dry run on the target, shown before anything changes. */
export async function planMatch(api: ArchwayApi, target: string, model: string): Promise<void> {
  machinesStore.set((s) => ({ ...s, plan: { loading: true } }));
  try {
    const view = await api.planFleetMatch({ target, model });
    machinesStore.set((s) => ({ ...s, plan: { loading: false, view } }));
  } catch (err) {
    machinesStore.set((s) => ({ ...s, plan: { loading: false, error: toIpcError(err) } }));
  }
}

export async function applyMatch(api: ArchwayApi): Promise<void> {
  const p = machinesStore.get().plan?.view;
  if (!p) return;
  machinesStore.set((s) => ({ ...s, plan: s.plan ? { ...s.plan, applying: true } : s.plan }));
  try {
    const result = await api.applyFleetPlan({ planId: p.planId });
    machinesStore.set((s) => ({ ...s, plan: s.plan ? { ...s.plan, applying: false, result } : s.plan }));
  } catch (err) {
    machinesStore.set((s) => ({ ...s, plan: s.plan ? { ...s.plan, applying: false, error: toIpcError(err) } : s.plan }));
  }
  await refreshMachines(api);
}

export function closePlan(): void {
  machinesStore.set((s) => ({ ...s, plan: null }));
}

export function setProbeInput(patch: Partial<Pick<MachinesState['probe'], 'image' | 'platform'>>): void {
  machinesStore.set((s) => ({ ...s, probe: { ...s.probe, ...patch } }));
}

/** One foreign image on every host at once. */
export async function probeEveryHost(api: ArchwayApi): Promise<void> {
  const { image, platform } = machinesStore.get().probe;
  machinesStore.set((s) => ({ ...s, probe: { ...s.probe, running: true, results: [], error: undefined } }));
  try {
    const results = await api.probeFleet({ image, platform });
    machinesStore.set((s) => ({ ...s, probe: { ...s.probe, running: false, results } }));
  } catch (err) {
    machinesStore.set((s) => ({ ...s, probe: { ...s.probe, running: false, error: toIpcError(err) } }));
  }
}
