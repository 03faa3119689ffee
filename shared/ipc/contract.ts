/**
 * The desktop app's one IPC contract: every request the renderer may make, what it gets back, and
 * every event main sends. Pure (no Node, no DOM). Main validates every request against these
 * schemas before anything runs; responses and events are produced by main itself and are typed
 * here (their shapes are the engine's own models).
 *
 * Both transports are built from this table by `createApi` (shared/ipc/api.ts): Electron IPC in
 * the preload, Playwright's exposeBinding in the Chromium test harness.
 */
import * as z from 'zod/mini';
import { IntentSchema, type Intent } from '../actions';
import type { HelperRequest, HelperResponse, OpResult } from '../helper-protocol';
import type { ContainerEngineInfo, ContainerEngineOffer, ProbeEvent, ProbeResult } from '../probe';
import type { Status } from '../status';
import type { ScopeView } from '../rootless';
import type { HandlerEvent } from '../handler-events';
import type { FleetMatrix, FleetReach } from '../fleet';
import { MAX_COLS, MAX_ROWS, NETWORK_NAME, type ShellDiagnosis } from '../shell';
import type { ArchwayNotification } from '../notifications';

/** A type carried by the contract without a runtime schema (main produces it; nothing to validate). */
export interface Typed<T> {
  readonly __type?: T;
}
const typed = <T>(): Typed<T> => ({});

// ---------------------------------------------------------------------------------------------
// Shapes that exist only at the IPC boundary

export const VIEWS = ['architectures', 'test-run', 'engine', 'activity', 'machines'] as const;
export type View = (typeof VIEWS)[number];

export interface PlanView {
  /** Hand this back to `apply`: main runs exactly the request it showed, once. */
  planId: string;
  /** What was asked for; null for an emulator fetch (see `fetch`). */
  intent: Intent | null;
  /** Set when this plan stores emulators fetched from a container image. */
  fetch?: EmulatorFetchView;
  request: HelperRequest | null;
  /** The helper's own dry run: register strings, files, refusals. */
  preview: HelperResponse | null;
  skipped: { arch: string; why: string }[];
  /** 'pkexec': a password prompt comes next; 'direct': already root. */
  elevation: 'direct' | 'pkexec';
  /** Operations the preview refused (apply would fail on them). */
  refused: OpResult[];
}

/** One emulator copied out of the image, waiting in main's private temporary directory. */
export interface FetchedEmulatorView {
  cpu: string;
  /** `qemu-aarch64` */
  emulator: string;
  size: number;
  /** The digest the helper will store and nothing else (it hashes what it reads and compares). */
  sha256: string;
  /** Reported by the extracting process (read from the file's bytes), not verified. */
  qemuVersion?: string;
  /** Reported provenance: `docker.io/tonistiigi/binfmt:qemu-v9.2.2` and the digest it was pulled by. */
  image: string;
  digest?: string;
  /** All of the above as the one sentence every face shows: "reported: from IMAGE@DIGEST, QEMU x.y". */
  reported: string;
}

export interface EmulatorFetchView {
  archs: string[];
  /** `repo:tag@sha256:…` the emulators come from (an import: what the archive names, or '' for a directory). */
  image: string;
  emulators: FetchedEmulatorView[];
  /** Set for `emulators import`: the file or directory read (no engine involved). */
  importedFrom?: string;
  /** A fetch: where the engine pulls from (its registry-mirrors for Docker Hub, or the registry the reference names). */
  route?: string;
}

export interface ApplyView {
  ok: boolean;
  results: OpResult[];
  repairs: string[];
  error?: IpcErrorShape;
  exitCode: number | null;
}

export interface AuditView {
  time: string;
  uid: number;
  op: string;
  arch?: string;
  name?: string;
  ok: boolean;
  message: string;
  before?: string | null;
  after?: string | null;
  files?: string[];
}

export type ContainerEngineView =
  | { state: 'connected'; info: ContainerEngineInfo; checkedAt: number }
  | { state: 'absent'; error: IpcErrorShape; checkedAt: number };

export interface ProbeStarted {
  runId: string;
}

export interface ProbeEventMessage {
  runId: string;
  event: ProbeEvent;
}

export interface ProbeDoneMessage {
  runId: string;
  results: ProbeResult[];
  error?: IpcErrorShape;
  durationMs: number;
}

export interface Prefs {
  lastView: View;
}

export interface AppInfo {
  version: string;
  /** 'electron' in the app, 'harness' under the Chromium test harness. */
  shell: string;
}

/** What a failed call carries across any transport: a code, a sentence, and what to do. */
export interface IpcErrorShape {
  code: string;
  message: string;
  hint?: string;
}

/** Every reply is an envelope: transports never throw across the boundary. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: IpcErrorShape };

// ---------------------------------------------------------------------------------------------
// Request schemas (bounded; unknown fields refused)

const none = z.optional(z.undefined());

export const PlanIdSchema = z.strictObject({ planId: z.string().check(z.regex(/^[a-z0-9-]{8,64}$/)) });
export const AuditRequestSchema = z.optional(z.strictObject({ limit: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(1000))) }));
export const ContainerEngineRequestSchema = z.optional(z.strictObject({ refresh: z.optional(z.boolean()) }));
/** Choose the engine Archway uses: a NAME from listContainerEngines, or `default` to forget the choice. */
export const ContainerEngineChoiceSchema = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[a-z0-9-]+$/, 'an engine name looks like podman-rootless')),
});

/** Image references as Docker accepts them (name[:tag][@digest]) or an image ID. */
const imageRef = z.string().check(
  z.minLength(1),
  z.maxLength(512),
  z.regex(/^[A-Za-z0-9][A-Za-z0-9._\-/:@+]*$/, 'an image is a reference like busybox, docker.io/library/alpine:3.20 or sha256:…'),
);
const platformName = z.string().check(z.minLength(1), z.maxLength(40), z.regex(/^[a-z0-9_/.-]+$/, 'a platform looks like linux/arm64'));

export const ProbeRequestSchema = z.strictObject({
  image: imageRef,
  platforms: z.array(platformName).check(z.minLength(1), z.maxLength(16)),
  /** argv; empty or absent = `uname -m`. */
  command: z.optional(z.array(z.string().check(z.maxLength(4096))).check(z.maxLength(64))),
  timeoutMs: z.optional(z.number().check(z.int(), z.minimum(1000), z.maximum(600_000))),
});
export type ProbeRequest = z.infer<typeof ProbeRequestSchema>;

/** Which emulators to fetch: architecture names as Archway resolves them (`arm64`, `linux/s390x`), or `all`. */
export const EmulatorFetchRequestSchema = z.strictObject({
  archs: z
    .array(z.string().check(z.minLength(1), z.maxLength(40), z.regex(/^[A-Za-z0-9_./-]+$/, 'an architecture looks like arm64 or linux/s390x')))
    .check(z.minLength(1), z.maxLength(32)),
});
export type EmulatorFetchRequest = z.infer<typeof EmulatorFetchRequestSchema>;

export const ScopeRequestSchema = z.strictObject({ scope: z.enum(['podman', 'docker']) });

// --- emulators (import; `use` goes through `plan` with an Intent) ---------------------------------
/**
 * Import emulators without an engine: a `docker save` / OCI archive or directory, or a directory of
 * qemu-* programs. Without `path`, main asks with the desktop's file dialog (Electron only; the
 * Chromium harness has none and answers that a path is needed).
 */
export const EmulatorImportRequestSchema = z.strictObject({
  path: z.optional(z.string().check(z.minLength(1), z.maxLength(4096), z.regex(/^\/[^\0]*$/, 'give an absolute path'))),
  archs: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(40), z.regex(/^[A-Za-z0-9_./-]+$/, 'an architecture looks like arm64 or linux/s390x'))).check(z.maxLength(32))),
});
export type EmulatorImportRequest = z.infer<typeof EmulatorImportRequestSchema>;

// --- Shells (issue 12): an interactive shell in a container of one platform (electron/container/shell.ts)
const shellId = z.string().check(z.regex(/^[a-z0-9-]{8,64}$/));
const cols = z.number().check(z.int(), z.minimum(2), z.maximum(MAX_COLS));
const rows = z.number().check(z.int(), z.minimum(1), z.maximum(MAX_ROWS));
export const ShellOpenRequestSchema = z.strictObject({
  image: imageRef,
  platform: platformName,
  /** argv; absent or empty: the image's shell (shared/shell.ts chooseShell). */
  command: z.optional(z.array(z.string().check(z.maxLength(4096))).check(z.maxLength(64))),
  /** An engine network to join; absent: none. */
  network: z.optional(z.string().check(z.regex(NETWORK_NAME, 'a network is a name like bridge or host'))),
  cols,
  rows,
});
export type ShellOpenRequest = z.infer<typeof ShellOpenRequestSchema>;
export const ShellIdSchema = z.strictObject({ shellId });
/** Keystrokes and pastes (xterm.js onData), as text; at most 64 KiB per call. */
export const ShellInputSchema = z.strictObject({ shellId, data: z.string().check(z.maxLength(65_536)) });
export const ShellResizeSchema = z.strictObject({ shellId, cols, rows });

/** The shell runs: what it is (sent once, after `openShell` answered with its id). */
export interface ShellOpenedMessage {
  shellId: string;
  containerId: string;
  platform: string;
  /** The platform the image records (linux/arm64/v8). */
  imagePlatform: string;
  command: string[];
  /** Why this command (the image's shell, or /bin/sh because…). */
  why: string;
}
/** Output of the shell's TTY, decoded as UTF-8 (a character split between chunks is kept for the next). Not sanitised: see shared/shell.ts. */
export interface ShellOutputMessage {
  shellId: string;
  data: string;
}
/** The shell ended (or never started) and its container is removed. */
export interface ShellExitMessage {
  shellId: string;
  exitCode: number | null;
  /** Why it could not run, with the fix (no handler → install, another platform → what the image offers). */
  diagnosis?: ShellDiagnosis;
  error?: IpcErrorShape;
}

export const RunIdSchema = z.strictObject({ runId: z.string().check(z.regex(/^[a-z0-9-]{8,64}$/)) });
export const PrefsPatchSchema = z.strictObject({ lastView: z.optional(z.enum(VIEWS)) });

// ---------------------------------------------------------------------------------------------
// Fleet (the Machines view): docker contexts as hosts; shapes in shared/fleet.ts

const contextName = z.string().check(z.minLength(1), z.maxLength(128), z.regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/, 'a docker context name looks like builder-1'));
export const FleetRequestSchema = z.optional(
  z.strictObject({ contexts: z.optional(z.array(contextName).check(z.maxLength(64))), baseline: z.optional(contextName) }),
);
export type FleetRequest = z.infer<typeof FleetRequestSchema>;
/** "Make `target` like `model`": plan the installs `model` has and `target` lacks. */
export const FleetMatchSchema = z.strictObject({ target: contextName, model: contextName });
export const FleetProbeSchema = z.strictObject({ image: imageRef, platform: platformName, contexts: z.optional(z.array(contextName).check(z.maxLength(64))) });
export type FleetProbeRequest = z.infer<typeof FleetProbeSchema>;

export interface FleetPlanView {
  /** Hand this back to `applyFleetPlan`: main re-plans on the host and refuses if anything differs. */
  planId: string;
  target: string;
  model: string;
  endpoint: string;
  cpus: string[];
  /** The planner's dry run on the target host: register strings, refusals. */
  planned: OpResult[];
}

export interface FleetApplyView {
  host: string;
  ok: boolean;
  results: { name: string; message: string; changed: boolean }[];
  error?: IpcErrorShape;
}

export interface FleetProbeView {
  host: string;
  reach: FleetReach;
  result?: ProbeResult;
  error?: IpcErrorShape;
}

// ---------------------------------------------------------------------------------------------
// The table

export interface InvokeSpec<S extends z.ZodMiniType, Res> {
  channel: string;
  request: S;
  response: Typed<Res>;
}

function invoke<S extends z.ZodMiniType, Res>(channel: string, request: S, response: Typed<Res>): InvokeSpec<S, Res> {
  return { channel, request, response };
}

/** Renderer → main: one function each on `window.archway`. */
export const INVOKES = {
  appInfo: invoke('archway:app-info', none, typed<AppInfo>()),
  getStatus: invoke('archway:status', none, typed<Status>()),
  /** Plan a change: the helper's own dry run. Nothing changes. */
  plan: invoke('archway:plan', IntentSchema, typed<PlanView>()),
  /**
   * Plan an emulator fetch: main copies the emulators out of the pinned image (through the engine)
   * into a private temporary directory and returns the helper's dry run of storing them. Apply it
   * with `apply`; `cancelPlan` (or expiry) removes the temporary copies.
   */
  planEmulatorFetch: invoke('archway:plan-emulator-fetch', EmulatorFetchRequestSchema, typed<PlanView>()),
  /** Plan an emulator import (no engine): main reads the file into a private temporary directory; apply / cancel as a fetch. */
  planEmulatorImport: invoke('archway:plan-emulator-import', EmulatorImportRequestSchema, typed<PlanView>()),
  /** Forget a plan that will not be applied (frees what main holds for it). */
  cancelPlan: invoke('archway:plan-cancel', PlanIdSchema, typed<{ cancelled: boolean }>()),
  /** Carry out a plan made before (one elevation for the whole batch). */
  apply: invoke('archway:apply', PlanIdSchema, typed<ApplyView>()),
  getAudit: invoke('archway:audit', AuditRequestSchema, typed<AuditView[]>()),
  getContainerEngine: invoke('archway:container-engine', ContainerEngineRequestSchema, typed<ContainerEngineView>()),
  /** The container engines on this machine (as `archway engines` lists them). */
  listContainerEngines: invoke('archway:container-engines', none, typed<ContainerEngineOffer[]>()),
  /** Remember the engine to use (as `archway engines use NAME`); answers with the engine now in use. */
  chooseContainerEngine: invoke('archway:container-engine-choose', ContainerEngineChoiceSchema, typed<ContainerEngineView>()),
  startProbe: invoke('archway:probe-start', ProbeRequestSchema, typed<ProbeStarted>()),
  cancelProbe: invoke('archway:probe-cancel', RunIdSchema, typed<{ cancelled: boolean }>()),
  /** Every docker context's binfmt_misc through its engine, asked at once, each within a bound (`archway fleet status`). */
  getFleet: invoke('archway:fleet', FleetRequestSchema, typed<FleetMatrix>()),
  planFleetMatch: invoke('archway:fleet-plan-match', FleetMatchSchema, typed<FleetPlanView>()),
  applyFleetPlan: invoke('archway:fleet-apply', PlanIdSchema, typed<FleetApplyView>()),
  /** One foreign image on every host (or those named), at once. */
  probeFleet: invoke('archway:fleet-probe', FleetProbeSchema, typed<FleetProbeView[]>()),
  // --- Shells (issue 12): open answers at once with an id; shellOpened, shellOutput and shellExit follow.
  openShell: invoke('archway:shell-open', ShellOpenRequestSchema, typed<{ shellId: string }>()),
  shellInput: invoke('archway:shell-input', ShellInputSchema, typed<{ written: boolean }>()),
  resizeShell: invoke('archway:shell-resize', ShellResizeSchema, typed<{ resized: boolean }>()),
  /** Stop the shell (or its opening) and remove its container. */
  closeShell: invoke('archway:shell-close', ShellIdSchema, typed<{ closed: boolean }>()),
  getPrefs: invoke('archway:prefs-get', none, typed<Prefs>()),
  setPrefs: invoke('archway:prefs-set', PrefsPatchSchema, typed<Prefs>()),
  // Rootless engines (issue 10): `plan` with intent.scope plans in an engine's own instance (no password).
  /** The current user's rootless engines: their instances, what their containers use, what is gone. */
  getScopes: invoke('archway:scopes', none, typed<ScopeView[]>()),
  /** Register again what the user asked for in an engine whose namespace restarted (as `archway rootless reapply`). */
  reapplyScope: invoke('archway:scope-reapply', ScopeRequestSchema, typed<ApplyView>()),
} as const;

/** Main → renderer. */
export const EVENTS = {
  statusChanged: { channel: 'archway:status-changed', payload: typed<Status>() },
  containerEngineChanged: { channel: 'archway:container-engine-changed', payload: typed<ContainerEngineView>() },
  probeEvent: { channel: 'archway:probe-event', payload: typed<ProbeEventMessage>() },
  probeDone: { channel: 'archway:probe-done', payload: typed<ProbeDoneMessage>() },
  /** What happened to handlers since the last reading (vanished, appeared, changed, broken…): shared/handler-events.ts, as `archway watch` prints it. */
  handlerEvents: { channel: 'archway:handler-events', payload: typed<HandlerEvent[]>() },
  // --- Shells (issue 12)
  shellOpened: { channel: 'archway:shell-opened', payload: typed<ShellOpenedMessage>() },
  shellOutput: { channel: 'archway:shell-output', payload: typed<ShellOutputMessage>() },
  shellExit: { channel: 'archway:shell-exit', payload: typed<ShellExitMessage>() },
  /** Something worth telling a person (shared/notifications.ts decides): a handler vanished or broke, a background test run finished. Also shown as a desktop notification. */
  notification: { channel: 'archway:notification', payload: typed<ArchwayNotification>() },
} as const;

export type Invokes = typeof INVOKES;
export type InvokeName = keyof Invokes;
export type EventName = keyof typeof EVENTS;
export type RequestOf<K extends InvokeName> = z.input<Invokes[K]['request']>;
export type ResponseOf<K extends InvokeName> = Invokes[K]['response'] extends Typed<infer Res> ? Res : never;
export type EventPayload<K extends EventName> = (typeof EVENTS)[K]['payload'] extends Typed<infer P> ? P : never;

export const INVOKE_NAMES = Object.keys(INVOKES) as InvokeName[];
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];

/** `archway:plan` → `plan`; undefined for channels outside the contract. */
export function invokeByChannel(channel: string): InvokeName | undefined {
  return INVOKE_NAMES.find((k) => INVOKES[k].channel === channel);
}

export function eventListenerName<K extends EventName>(k: K): `on${Capitalize<K>}` {
  return `on${k[0]!.toUpperCase()}${k.slice(1)}` as `on${Capitalize<K>}`;
}

export type { Intent };
