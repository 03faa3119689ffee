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
import type { HandlerEvent } from '../handler-events';
import type { ArchwayNotification } from '../notifications';

/** A type carried by the contract without a runtime schema (main produces it; nothing to validate). */
export interface Typed<T> {
  readonly __type?: T;
}
const typed = <T>(): Typed<T> => ({});

// ---------------------------------------------------------------------------------------------
// Shapes that exist only at the IPC boundary

export const VIEWS = ['architectures', 'test-run', 'engine', 'activity'] as const;
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
  /** `repo:tag@sha256:…` the emulators come from. */
  image: string;
  emulators: FetchedEmulatorView[];
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

export const RunIdSchema = z.strictObject({ runId: z.string().check(z.regex(/^[a-z0-9-]{8,64}$/)) });
export const PrefsPatchSchema = z.strictObject({ lastView: z.optional(z.enum(VIEWS)) });

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
  getPrefs: invoke('archway:prefs-get', none, typed<Prefs>()),
  setPrefs: invoke('archway:prefs-set', PrefsPatchSchema, typed<Prefs>()),
} as const;

/** Main → renderer. */
export const EVENTS = {
  statusChanged: { channel: 'archway:status-changed', payload: typed<Status>() },
  containerEngineChanged: { channel: 'archway:container-engine-changed', payload: typed<ContainerEngineView>() },
  probeEvent: { channel: 'archway:probe-event', payload: typed<ProbeEventMessage>() },
  probeDone: { channel: 'archway:probe-done', payload: typed<ProbeDoneMessage>() },
  /** What happened to handlers since the last reading (vanished, appeared, changed, broken…): shared/handler-events.ts, as `archway watch` prints it. */
  handlerEvents: { channel: 'archway:handler-events', payload: typed<HandlerEvent[]>() },
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
