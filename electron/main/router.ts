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
import type { ExtractedEmulator } from '../container/emulator-image';
import { describePin } from '../container/pins';
import type {
  ApplyView,
  AppInfo,
  AuditView,
  EmulatorFetchRequest,
  EmulatorFetchView,
  EmulatorImportRequest,
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
import type { ScopeView } from '../../shared/rootless';
import type { ContainerEngineOffer } from '../../shared/probe';
import type { Plan } from '../engine';
import type { HelperRun } from '../engine/elevate';
import type { AuditEntry } from '../engine/audit';
import type { ProbeGateway } from './docker';
import { IpcRequestError, serialiseError } from './errors';
import type { PrefsStore } from './state';
import type { FleetGateway } from './fleet';
import type { FleetApplyView, FleetPlanView, FleetProbeRequest, FleetProbeView, FleetRequest } from '../../shared/ipc/contract';
import type { FleetMatrix } from '../../shared/fleet';
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

/** Rootless engines (issue 10): electron/rootless/gateway.ts. */
export interface RootlessGatewayLike {
  scopes(): ScopeView[];
  /** The engine face of one rootless engine (plans and applies as the user, no elevation). */
  engine(scope: 'podman' | 'docker'): Promise<Pick<EngineLike, 'plan' | 'apply'>>;
  reapply(scope: 'podman' | 'docker'): Promise<ApplyView>;
}

export type Emit = <K extends EventName>(name: K, payload: EventPayload<K>) => void;

export interface RouterDeps {
  engine: EngineLike;
  docker: ProbeGateway;
  prefs: PrefsStore;
  emit: Emit;
  app: AppInfo;
  /** The Machines view's hosts (docker contexts); absent: the view says it is unavailable. */
  fleet?: FleetGateway;
  rootless?: RootlessGatewayLike;
  /** The desktop's open-file dialog (Electron main supplies it; absent in the Chromium harness). */
  chooseImportPath?: () => Promise<string | undefined>;
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
    /** Who applies it: a rootless engine's plan is applied by that engine (default: the host's). */
    apply?: (request: HelperRequest) => Promise<HelperRun>;
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

  const fleetPlans = new Map<string, { target: string; cpus: string[]; registers: string[]; expires: number }>();
  const fleet = (): FleetGateway => {
    if (!deps.fleet) throw new IpcRequestError('unavailable', 'this window has no access to other hosts', 'Use `archway fleet status`.');
    return deps.fleet;
  };
  const rootless = (): RootlessGatewayLike => {
    if (!deps.rootless) throw new IpcRequestError('unavailable', 'this window cannot reach rootless engines', 'Use `archway install ARCH --scope podman` in a terminal.');
    return deps.rootless;
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

  /**
   * A fetch's or an import's store-add batch as a plan: the helper's own dry run, the request bound
   * to it (the helper refuses any difference), the temporary copies held until apply or cancel.
   */
  const storePlan = async (
    prepared: { request: HelperRequest; emulators: readonly ExtractedEmulator[]; dispose(): Promise<void> },
    about: Omit<EmulatorFetchView, 'emulators'>,
  ): Promise<PlanView> => {
    try {
      const preview = await deps.engine.preview(prepared.request);
      const request = bindToPlan(prepared.request, preview);
      const planId = keep(request, () => prepared.dispose());
      return {
        planId,
        intent: null,
        fetch: {
          ...about,
          emulators: prepared.emulators.map((e) => ({
            cpu: e.cpu,
            emulator: e.emulator,
            size: e.size,
            sha256: e.sha256,
            ...(e.provenance.qemuVersion ? { qemuVersion: e.provenance.qemuVersion } : {}),
            image: e.provenance.image,
            ...(e.provenance.digest ? { digest: e.provenance.digest } : {}),
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
  };

  const handlers = {
    appInfo: async (): Promise<AppInfo> => deps.app,

    getStatus: async (): Promise<Status> => deps.engine.status(),

    plan: async (intent: Intent): Promise<PlanView> => {
      const engine = intent.scope ? await rootless().engine(intent.scope) : deps.engine;
      const plan = await engine.plan(intent);
      const planId = keep(plan.request);
      if (intent.scope) plans.get(planId)!.apply = (r) => engine.apply(r);
      const refused = plan.preview ? plan.preview.results.filter((r) => !r.ok) : [];
      return { planId, intent, request: plan.request, preview: plan.preview, skipped: plan.skipped, elevation: plan.elevation, refused };
    },

    planEmulatorFetch: async ({ archs }: EmulatorFetchRequest): Promise<PlanView> => {
      const prepared = await deps.docker.prepareEmulators(archs);
      return storePlan(prepared, { archs, image: describePin(prepared.pin), ...(prepared.route ? { route: prepared.route } : {}) });
    },

    planEmulatorImport: async ({ path, archs }: EmulatorImportRequest): Promise<PlanView> => {
      const file = path ?? (deps.chooseImportPath ? await deps.chooseImportPath() : undefined);
      if (!file) {
        throw new IpcRequestError(
          'invalid-request',
          path === undefined && !deps.chooseImportPath ? 'no file dialog here: type the path of the archive or directory' : 'no file was chosen',
          'Choose a `docker save` archive, an OCI layout, or a directory of qemu-* programs.',
        );
      }
      // Loaded on demand; the same preparation as `archway emulators import` (no engine contacted).
      const { prepareEmulatorImport } = await import('../container/fetch');
      const prepared = await prepareEmulatorImport(file, { ...(archs?.length ? { archs } : {}) });
      return storePlan(prepared, {
        archs: prepared.emulators.map((e) => e.cpu),
        image: prepared.image ? `${prepared.image}${prepared.digest ? `@${prepared.digest}` : ''}` : '',
        importedFrom: file,
      });
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
        const run = await (plan.apply ?? ((r: HelperRequest) => deps.engine.apply(r)))(plan.request);
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

    // --- fleet (Machines view): every call is bounded per host and never touches the local view's state
    getFleet: async (req?: FleetRequest): Promise<FleetMatrix> => fleet().status(req),

    planFleetMatch: async ({ target, model }: { target: string; model: string }): Promise<FleetPlanView> => {
      const p = await fleet().planMatch(target, model);
      for (const [id, f] of fleetPlans) if (f.expires <= now()) fleetPlans.delete(id);
      while (fleetPlans.size >= MAX_PLANS) fleetPlans.delete(fleetPlans.keys().next().value!);
      const planId = newId();
      fleetPlans.set(planId, { target, cpus: p.cpus, registers: p.planned.filter((r) => r.ok && r.changed && r.register).map((r) => r.register!), expires: now() + ttl });
      return { planId, target, model, endpoint: p.endpoint, cpus: p.cpus, planned: p.planned };
    },

    applyFleetPlan: async ({ planId }: { planId: string }): Promise<FleetApplyView> => {
      const p = fleetPlans.get(planId);
      fleetPlans.delete(planId);
      if (!p || p.expires <= now()) throw new IpcRequestError('plan-expired', 'this plan is no longer valid (already applied, or too old)', 'Click the action again to see a fresh plan.');
      if (p.cpus.length === 0) return { host: p.target, ok: true, results: [] };
      return fleet().apply(p.target, p.cpus, p.registers);
    },

    probeFleet: async (req: FleetProbeRequest): Promise<FleetProbeView[]> => fleet().probe(req),

    // --- Shells (issue 12): electron/main/shells.ts keeps them; their containers go when closed or on quit.
    openShell: async (req: ShellOpenRequest): Promise<{ shellId: string }> => shells.open(req),
    shellInput: async ({ shellId, data }: { shellId: string; data: string }): Promise<{ written: boolean }> => ({ written: shells.input(shellId, data) }),
    resizeShell: async ({ shellId, cols, rows }: { shellId: string; cols: number; rows: number }): Promise<{ resized: boolean }> => ({ resized: await shells.resize(shellId, cols, rows) }),
    closeShell: async ({ shellId }: { shellId: string }): Promise<{ closed: boolean }> => ({ closed: await shells.close(shellId) }),

    getPrefs: async (): Promise<Prefs> => deps.prefs.get(),

    setPrefs: async (patch: Partial<Prefs>): Promise<Prefs> => deps.prefs.set(patch),

    getScopes: async (): Promise<ScopeView[]> => (deps.rootless ? deps.rootless.scopes() : []),

    reapplyScope: async ({ scope }: { scope: 'podman' | 'docker' }): Promise<ApplyView> => {
      if (applying) throw new IpcRequestError('busy', 'another change is being applied', 'Wait for it to finish, then try again.');
      applying = true;
      try {
        return await rootless().reapply(scope);
      } finally {
        applying = false;
        refreshStatus();
      }
    },
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
