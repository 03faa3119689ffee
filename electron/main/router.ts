/**
 * Channel → engine call. Transport-agnostic: Electron IPC (ipc.ts) and the Chromium test harness
 * both call these handlers, after ipc.ts's wrapper has checked the sender and validated the
 * request against the contract. No Electron import here.
 *
 * Plans are kept in main: `plan` returns an id, `apply` runs exactly the helper request that was
 * previewed under that id, once. The renderer can never hand main a helper request of its own.
 */
import { randomUUID } from 'node:crypto';
import type { Intent } from '../../shared/actions';
import { bindToPlan, type HelperRequest, type HelperResponse } from '../../shared/helper-protocol';
import { describeReported } from '../../shared/provenance';
import type {
  ApplyView,
  AppInfo,
  AuditView,
  EmulatorFetchRequest,
  ContainerEngineView,
  EventName,
  EventPayload,
  InvokeName,
  PlanView,
  Prefs,
  ProbeRequest,
  ResponseOf,
  ShellOpenRequest,
} from '../../shared/ipc/contract';
import type { Status } from '../../shared/status';
import type { ContainerEngineOffer } from '../../shared/probe';
import type { Plan } from '../engine';
import type { HelperRun } from '../engine/elevate';
import type { AuditEntry } from '../engine/audit';
import type { ProbeGateway } from './docker';
import { IpcRequestError, serialiseError } from './errors';
import type { PrefsStore } from './state';
import { createShellTable } from './shells';

/** The engine as the router uses it (electron/engine's Engine satisfies it). */
export interface EngineLike {
  status(): Status;
  plan(intent: Intent): Promise<Plan>;
  /** The helper's own dry run of a request main built itself (emulator fetch). */
  preview(request: HelperRequest): Promise<HelperResponse>;
  elevation(): 'direct' | 'pkexec';
  apply(request: HelperRequest): Promise<HelperRun>;
  audit(limit?: number): AuditEntry[];
}

export type Emit = <K extends EventName>(name: K, payload: EventPayload<K>) => void;

export interface RouterDeps {
  engine: EngineLike;
  docker: ProbeGateway;
  prefs: PrefsStore;
  emit: Emit;
  app: AppInfo;
  /** How long a plan may wait for its confirmation (default 15 min). */
  planTtlMs?: number;
  now?: () => number;
  newId?: () => string;
}

/** Handlers receive requests already validated against the contract. */
export type Handlers = { [K in InvokeName]: (request: never) => Promise<ResponseOf<K>> };

export interface Router {
  handlers: Handlers;
  /** Re-read the status and tell every view (after an apply; the live poller calls it too). */
  refreshStatus(): Status;
  /** Cancel running probes and forget plans (removing what they hold, e.g. fetched emulators); close shells. */
  dispose(): void;
  /** dispose(), then wait until every shell's container is removed (before the app quits). */
  shutdown(): Promise<void>;
}

const MAX_PLANS = 32;
const MAX_RUNS = 4;

export function createRouter(deps: RouterDeps): Router {
  const now = deps.now ?? Date.now;
  const newId = deps.newId ?? randomUUID;
  const ttl = deps.planTtlMs ?? 15 * 60_000;
  interface Kept {
    request: HelperRequest | null;
    expires: number;
    /** Frees what the plan holds (an emulator fetch's temporary directory). */
    release?: () => Promise<void>;
    timer?: NodeJS.Timeout;
  }
  const plans = new Map<string, Kept>();
  const runs = new Map<string, AbortController>();
  let applying = false;

  const release = (p: Kept | undefined): Promise<void> => {
    if (!p) return Promise.resolve();
    clearTimeout(p.timer);
    return p.release ? p.release().catch(() => undefined) : Promise.resolve();
  };
  /** Remove a plan from the table (it is not released: the caller decides when). */
  const take = (planId: string): Kept | undefined => {
    const p = plans.get(planId);
    plans.delete(planId);
    if (p) clearTimeout(p.timer);
    return p;
  };
  const keep = (request: HelperRequest | null, free?: () => Promise<void>): string => {
    for (const [id, p] of plans) if (p.expires <= now()) void release(take(id));
    while (plans.size >= MAX_PLANS) void release(take(plans.keys().next().value!));
    const planId = newId();
    const kept: Kept = { request, expires: now() + ttl };
    if (free) {
      kept.release = free;
      // Held resources go when the plan expires, even if nobody asks again.
      kept.timer = setTimeout(() => {
        if (plans.get(planId) === kept) void release(take(planId));
      }, ttl);
      kept.timer.unref?.();
    }
    plans.set(planId, kept);
    return planId;
  };

  const shells = createShellTable({
    opener: {
      openShell: (req, status, hooks) => {
        if (!deps.docker.openShell) throw new IpcRequestError('unavailable', 'this window cannot open shells', 'Use `archway shell`.');
        return deps.docker.openShell(req, status, hooks);
      },
    },
    emit: deps.emit,
    status: () => deps.engine.status(),
  });

  const refreshStatus = (): Status => {
    const s = deps.engine.status();
    deps.emit('statusChanged', s);
    return s;
  };

  const handlers = {
    appInfo: async (): Promise<AppInfo> => deps.app,

    getStatus: async (): Promise<Status> => deps.engine.status(),

    plan: async (intent: Intent): Promise<PlanView> => {
      const plan = await deps.engine.plan(intent);
      const planId = keep(plan.request);
      const refused = plan.preview ? plan.preview.results.filter((r) => !r.ok) : [];
      return { planId, intent, request: plan.request, preview: plan.preview, skipped: plan.skipped, elevation: plan.elevation, refused };
    },

    planEmulatorFetch: async ({ archs }: EmulatorFetchRequest): Promise<PlanView> => {
      const prepared = await deps.docker.prepareEmulators(archs);
      try {
        const preview = await deps.engine.preview(prepared.request);
        // What is applied is bound to what this preview showed: the helper refuses any difference.
        const request = bindToPlan(prepared.request, preview);
        const planId = keep(request, () => prepared.dispose());
        const image = `${prepared.pin.repo}:${prepared.pin.tag}@${prepared.pin.digest}`;
        return {
          planId,
          intent: null,
          fetch: {
            archs,
            image,
            emulators: prepared.emulators.map((e) => ({
              cpu: e.cpu,
              emulator: e.emulator,
              size: e.size,
              sha256: e.sha256,
              ...(e.provenance.qemuVersion ? { qemuVersion: e.provenance.qemuVersion } : {}),
              image: e.provenance.image,
              digest: e.provenance.digest,
              reported: describeReported(e.provenance),
            })),
          },
          request,
          preview,
          skipped: [],
          elevation: deps.engine.elevation(),
          refused: preview.results.filter((r) => !r.ok),
        };
      } catch (err) {
        await prepared.dispose();
        throw err;
      }
    },

    cancelPlan: async ({ planId }: { planId: string }): Promise<{ cancelled: boolean }> => {
      const plan = take(planId);
      await release(plan);
      return { cancelled: !!plan };
    },

    apply: async ({ planId }: { planId: string }): Promise<ApplyView> => {
      const plan = take(planId);
      if (!plan || plan.expires <= now()) {
        await release(plan);
        throw new IpcRequestError('plan-expired', 'this plan is no longer valid (already applied, or too old)', 'Click the action again to see a fresh plan.');
      }
      if (!plan.request) return { ok: true, results: [], repairs: [], exitCode: null };
      if (applying) {
        await release(plan);
        throw new IpcRequestError('busy', 'another change is being applied', 'Wait for it to finish, then try again.');
      }
      applying = true;
      try {
        const run = await deps.engine.apply(plan.request);
        const r = run.response;
        return {
          ok: r.ok,
          results: r.results,
          repairs: r.repairs ?? [],
          ...(r.error ? { error: serialiseError(r.error) } : {}),
          exitCode: run.exitCode,
        };
      } finally {
        applying = false;
        await release(plan);
        // Whatever happened, every view re-renders from what the kernel now says.
        refreshStatus();
      }
    },

    getAudit: async (req?: { limit?: number }): Promise<AuditView[]> => deps.engine.audit(req?.limit ?? 200),

    getContainerEngine: async (req?: { refresh?: boolean }): Promise<ContainerEngineView> => deps.docker.view(req?.refresh ?? false),

    listContainerEngines: async (): Promise<ContainerEngineOffer[]> => (deps.docker.listEngines ? deps.docker.listEngines() : []),

    chooseContainerEngine: async ({ name }: { name: string }): Promise<ContainerEngineView> => {
      if (!deps.docker.chooseEngine) throw new IpcRequestError('unavailable', 'this window cannot choose a container engine', 'Use `archway engines use NAME`.');
      return deps.docker.chooseEngine(name);
    },

    startProbe: async (req: ProbeRequest): Promise<{ runId: string }> => {
      if (runs.size >= MAX_RUNS) throw new IpcRequestError('busy', `${MAX_RUNS} test runs are already going`, 'Cancel one or wait for it to finish.');
      const runId = newId();
      const ctl = new AbortController();
      runs.set(runId, ctl);
      const started = now();
      const status = deps.engine.status();
      void deps.docker
        .run(req, status, (event) => deps.emit('probeEvent', { runId, event }), ctl.signal)
        .then(
          (results) => deps.emit('probeDone', { runId, results, durationMs: now() - started }),
          (err: unknown) => deps.emit('probeDone', { runId, results: [], error: serialiseError(err), durationMs: now() - started }),
        )
        .finally(() => runs.delete(runId));
      return { runId };
    },

    cancelProbe: async ({ runId }: { runId: string }): Promise<{ cancelled: boolean }> => {
      const ctl = runs.get(runId);
      if (!ctl) return { cancelled: false };
      ctl.abort();
      return { cancelled: true };
    },

    // --- Shells (issue 12): electron/main/shells.ts keeps them; their containers go when closed or on quit.
    openShell: async (req: ShellOpenRequest): Promise<{ shellId: string }> => shells.open(req),
    shellInput: async ({ shellId, data }: { shellId: string; data: string }): Promise<{ written: boolean }> => ({ written: shells.input(shellId, data) }),
    resizeShell: async ({ shellId, cols, rows }: { shellId: string; cols: number; rows: number }): Promise<{ resized: boolean }> => ({ resized: await shells.resize(shellId, cols, rows) }),
    closeShell: async ({ shellId }: { shellId: string }): Promise<{ closed: boolean }> => ({ closed: await shells.close(shellId) }),

    getPrefs: async (): Promise<Prefs> => deps.prefs.get(),

    setPrefs: async (patch: Partial<Prefs>): Promise<Prefs> => deps.prefs.set(patch),
  } satisfies { [K in InvokeName]: (request: never) => Promise<ResponseOf<K>> };

  function dispose(): void {
    for (const c of runs.values()) c.abort();
    for (const id of [...plans.keys()]) void release(take(id));
    void shells.closeAll();
  }

  return {
    handlers,
    refreshStatus,
    dispose,
    async shutdown() {
      dispose();
      await shells.closeAll();
    },
  };
}
