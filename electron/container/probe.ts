/**
 * Probe runs: one image on one platform (`probe`), or on many at once (`probeMatrix`).
 *
 * A probe resolves the image for the platform (pulling it when needed, with progress events),
 * verifies the image's platform, creates a container with `platform` and no network, attaches,
 * starts, waits with a timeout, and always removes the container. Output is demultiplexed, streamed
 * live up to a budget, and kept (tail only) in bounded buffers. Every outcome is classified by
 * shared/probe.ts; probe() itself never throws for engine or registry failures.
 */
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { DockerPlatform } from '../../shared/arch/catalog';
import {
  classifyProbe,
  rootlessScopeOf,
  imageMatchesPlatform,
  DEFAULT_LIVE_OUTPUT_LIMIT,
  DEFAULT_OUTPUT_CAP,
  DEFAULT_PROBE_COMMAND,
  DEFAULT_PROBE_TIMEOUT_MS,
  MAX_MATRIX_CONCURRENCY,
  OutputCap,
  platformRecord,
  type ClassifyInput,
  type ContainerEngineInfo,
  type ProbeErrorKind,
  type ProbeEvent,
  type ProbeResult,
} from '../../shared/probe';
import { call, callLong, callStream, DEFAULT_CALL_TIMEOUT_MS, streamDone, type ContainerTarget } from './api';
import { Demuxer } from './demux';
import { ContainerEngineError } from './errors';
import { imagePlatforms, inspectImage, isImageId, memoryImageCache, resolveImage, tagImage, type ImageFacts, type PlatformImageCache, type PullPolicy } from './images';
import { activeContainers, removeContainer, tempLabels } from './reap';

export interface ProbeTarget extends ContainerTarget {
  info: Pick<ContainerEngineInfo, 'hostMachine' | 'imageStore'> & Partial<Pick<ContainerEngineInfo, 'rootless' | 'name' | 'endpoint'>>;
}

export interface ProbeOptions {
  conn: ProbeTarget;
  /** `linux/arm64`, `linux/arm/v7`, or a short name (`arm64`). */
  platform: string;
  image: string;
  /** Default `uname -m` (with the image's entrypoint cleared, so the answer is the kernel's). */
  command?: readonly string[];
  /** How long the container may run (default 60 s). */
  timeoutMs?: number;
  pull?: PullPolicy;
  /** Bytes kept per stream (default 64 KiB). */
  outputCapBytes?: number;
  /** Bytes forwarded live as events per stream (default 16 KiB). */
  liveOutputBytes?: number;
  /** Per engine call (default 30 s). */
  callTimeoutMs?: number;
  /** Run this image (already resolved for the platform, e.g. by probeMatrix). */
  resolved?: { image: ImageFacts; pulled: boolean };
  /** What Archway knows of the handler for this platform (sharpens no-handler vs wrong-arch). */
  handler?: ClassifyInput['handler'];
}

export type ProbeListener = (event: ProbeEvent) => void;

interface RunOutcome {
  exitCode: number | null;
  errorKind?: ProbeErrorKind;
  errorMessage?: string;
  note?: string;
}

function slug(platform: string): string {
  return platform.replace(/[^a-z0-9]+/gi, '-');
}

function safeEmit(onEvent: ProbeListener, e: ProbeEvent): void {
  try {
    onEvent(e);
  } catch {
    // A listener's bug must not break the probe (or leak its container).
  }
}

function isDefault(command: readonly string[]): boolean {
  return command.length === DEFAULT_PROBE_COMMAND.length && command.every((c, i) => c === DEFAULT_PROBE_COMMAND[i]);
}

function errorText(err: unknown): string {
  if (err instanceof ContainerEngineError) return err.hint ? `${err.message}. ${err.hint}` : err.message;
  return (err as Error)?.message ?? String(err);
}

/** Run one probe. Resolves with a classified result in every case except a malformed platform name. */
export async function probe(opts: ProbeOptions, onEvent: ProbeListener = () => {}, signal?: AbortSignal): Promise<ProbeResult> {
  const rec = platformRecord(opts.platform);
  const started = Date.now();
  const emit = (e: ProbeEvent) => safeEmit(onEvent, e);
  let resolved = opts.resolved;
  if (!resolved) {
    const r = await resolveFor(opts, rec, emit, signal);
    if ('outcome' in r) return finish(opts, rec, started, emit, r.outcome, r.image, false);
    resolved = r;
  }
  return runResolved(opts, rec, resolved, started, emit, signal);
}

type Resolved = { image: ImageFacts; pulled: boolean } | { outcome: RunOutcome; image?: ImageFacts };

/** Resolve the image for one platform, turning every failure into an outcome. */
async function resolveFor(
  opts: Omit<ProbeOptions, 'platform'>,
  rec: DockerPlatform,
  emit: (e: ProbeEvent) => void,
  signal?: AbortSignal,
  cache?: { indexDigest: string; cache: PlatformImageCache },
): Promise<Resolved> {
  if (signal?.aborted) return { outcome: { exitCode: null, errorKind: 'cancelled' } };
  emit({ type: 'phase', platform: rec.platform, phase: 'resolving' });
  let announced = false;
  try {
    const r = await resolveImage(opts.conn, opts.image, rec, opts.pull ?? 'missing', {
      ...(signal ? { signal } : {}),
      ...(cache ?? {}),
      onProgress: (progress) => {
        if (!announced) {
          announced = true;
          emit({ type: 'phase', platform: rec.platform, phase: 'pulling' });
        }
        emit({ type: 'pull', platform: rec.platform, image: opts.image, progress });
      },
    });
    if (r.kind === 'pull-failed') return { outcome: { exitCode: null, errorKind: 'pull-failed', errorMessage: r.message } };
    if (r.kind === 'mismatch') {
      return { image: r.image, outcome: { exitCode: null, ...(r.pullError ? { note: `pulling ${rec.platform} failed: ${r.pullError}` } : {}) } };
    }
    return { image: r.image, pulled: r.pulled };
  } catch (err) {
    const cancelled = signal?.aborted || (err instanceof ContainerEngineError && err.code === 'cancelled');
    return { outcome: cancelled ? { exitCode: null, errorKind: 'cancelled' } : { exitCode: null, errorKind: 'engine-error', errorMessage: errorText(err) } };
  }
}

/** Run a probe whose image is known; the image's platform is checked first. */
async function runResolved(
  opts: Omit<ProbeOptions, 'platform'>,
  rec: DockerPlatform,
  resolved: { image: ImageFacts; pulled: boolean },
  started: number,
  emit: (e: ProbeEvent) => void,
  signal?: AbortSignal,
): Promise<ProbeResult> {
  const command = commandOf(opts);
  const cap = opts.outputCapBytes ?? DEFAULT_OUTPUT_CAP;
  const out = { stdout: new OutputCap(cap), stderr: new OutputCap(cap) };
  let outcome: RunOutcome = { exitCode: null };
  if (signal?.aborted) outcome = { exitCode: null, errorKind: 'cancelled' };
  else if (matches(rec, resolved.image)) {
    try {
      outcome = await runContainer(opts, rec, resolved.image, command, out, emit, opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS, signal);
    } catch (err) {
      outcome = signal?.aborted ? { exitCode: null, errorKind: 'cancelled' } : { exitCode: null, errorKind: 'engine-error', errorMessage: errorText(err) };
    }
  }
  return finish(opts, rec, started, emit, outcome, resolved.image, resolved.pulled, out);
}

function commandOf(opts: { command?: readonly string[] }): string[] {
  return opts.command && opts.command.length > 0 ? [...opts.command] : [...DEFAULT_PROBE_COMMAND];
}

/** Classify, build the result, emit it. */
function finish(
  opts: Omit<ProbeOptions, 'platform'>,
  rec: DockerPlatform,
  started: number,
  emit: (e: ProbeEvent) => void,
  outcome: RunOutcome,
  image: ImageFacts | undefined,
  pulled: boolean,
  out?: { stdout: OutputCap; stderr: OutputCap },
): ProbeResult {
  const command = commandOf(opts);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const cls = classifyProbe({
    platform: rec,
    hostMachine: opts.conn.info.hostMachine,
    command,
    exitCode: outcome.exitCode,
    stdoutTail: out?.stdout.text() ?? '',
    stderrTail: out?.stderr.text() ?? '',
    ...(outcome.errorKind ? { errorKind: outcome.errorKind } : {}),
    ...(outcome.errorMessage ? { errorMessage: outcome.errorMessage } : {}),
    ...(image ? { image: { os: image.os, architecture: image.architecture, ...(image.variant ? { variant: image.variant } : {}) } } : {}),
    ...(opts.handler ? { handler: opts.handler } : {}),
    ...(rootlessScopeOf(opts.conn.info) ? { scope: rootlessScopeOf(opts.conn.info)! } : {}),
    timeoutMs,
  });
  const note = [cls.note, outcome.note].filter(Boolean).join('; ');
  const empty = { text: '', totalBytes: 0, droppedBytes: 0 };
  const result: ProbeResult = {
    platform: rec.platform,
    image: opts.image,
    ...(image ? { imageId: image.id, imagePlatform: `${image.os}/${image.architecture}${image.variant ? `/${image.variant}` : ''}` } : {}),
    command,
    status: cls.status,
    message: cls.message,
    ...(cls.fix ? { fix: cls.fix } : {}),
    ...(cls.intent ? { intent: cls.intent } : {}),
    ...(cls.risk ? { risk: cls.risk } : {}),
    ...(note ? { note } : {}),
    expected: cls.expected,
    ...(cls.observed !== undefined ? { observed: cls.observed } : {}),
    exitCode: outcome.exitCode,
    stdout: out ? out.stdout.captured() : empty,
    stderr: out ? out.stderr.captured() : empty,
    durationMs: Date.now() - started,
    pulled,
  };
  emit({ type: 'result', result });
  return result;
}

function matches(rec: DockerPlatform, image: ImageFacts): boolean {
  return imageMatchesPlatform(rec, image);
}

async function runContainer(
  opts: Omit<ProbeOptions, 'platform'>,
  rec: DockerPlatform,
  image: ImageFacts,
  command: string[],
  out: { stdout: OutputCap; stderr: OutputCap },
  emit: (e: ProbeEvent) => void,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<RunOutcome> {
  const t = opts.conn;
  const callMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const name = `archway-probe-${slug(rec.platform)}-${randomBytes(4).toString('hex')}`;
  emit({ type: 'phase', platform: rec.platform, phase: 'creating' });
  // Not cancellable mid-call: a create aborted after the engine acted would leave a container
  // whose ID we never learn. It is bounded by callMs instead, and removed by name on failure.
  let id: string;
  try {
    const created = await call<{ Id: string }>(t, {
      method: 'POST',
      path: '/containers/create',
      query: { name, platform: rec.platform },
      body: {
        Image: image.id,
        Cmd: command,
        // With the network disabled the container still gets its own, empty network namespace
        // (loopback only, like NetworkMode none), and Docker skips its libnetwork prestart hook —
        // a re-exec of dockerd per container that is about half the cost of starting one.
        NetworkDisabled: true,
        ...(isDefault(command) ? { Entrypoint: [] } : {}),
        Labels: tempLabels('probe', Date.now() + timeoutMs + 2 * callMs),
        AttachStdin: false,
        AttachStdout: true,
        AttachStderr: true,
        OpenStdin: false,
        Tty: false,
        HostConfig: { NetworkMode: 'none', LogConfig: { Type: 'none', Config: {} }, AutoRemove: false },
      },
      doing: 'creating the probe container',
      timeoutMs: callMs,
    });
    id = created.Id;
  } catch (err) {
    await removeContainer(t, name, { timeoutMs: 5_000 }).catch(() => undefined);
    throw err;
  }
  activeContainers.add(id);
  const run = new AbortController();
  let stopKind: ProbeErrorKind | undefined;
  let timer: NodeJS.Timeout | undefined;
  let hardStop: NodeJS.Timeout | undefined;
  const kill = () => void call(t, { method: 'POST', path: `/containers/${id}/kill`, doing: 'stopping the probe container', timeoutMs: 10_000 }).catch(() => undefined);
  const stop = (kind: ProbeErrorKind) => {
    if (stopKind) return;
    stopKind = kind;
    kill();
    // If the engine does not report the exit soon after the kill, stop waiting for it.
    hardStop = setTimeout(() => run.abort(), 15_000);
  };
  const onAbort = () => stop('cancelled');
  try {
    if (signal?.aborted) return { exitCode: null, errorKind: 'cancelled' };
    signal?.addEventListener('abort', onAbort, { once: true });

    const attached = await callStream(t, {
      method: 'POST',
      path: `/containers/${id}/attach`,
      query: { stream: true, stdout: true, stderr: true },
      doing: 'attaching to the probe container',
      timeoutMs: callMs,
      signal: run.signal,
    });
    const reading = readOutput(attached, out, emit, rec.platform, opts.liveOutputBytes ?? DEFAULT_LIVE_OUTPUT_LIMIT);

    emit({ type: 'phase', platform: rec.platform, phase: 'running' });
    if (stopKind) return { exitCode: null, errorKind: stopKind };
    await call(t, { method: 'POST', path: `/containers/${id}/start`, doing: 'starting the probe container', timeoutMs: callMs });
    // Stopped while starting: the first kill may have come before there was anything to kill.
    if (stopKind) kill();
    timer = setTimeout(() => stop('timeout'), timeoutMs);
    if (signal?.aborted) stop('cancelled');

    let exitCode: number | null = null;
    let errorMessage: string | undefined;
    try {
      const w = await callLong<{ StatusCode?: number; Error?: { Message?: string } | null }>(t, {
        method: 'POST',
        path: `/containers/${id}/wait`,
        doing: 'waiting for the probe container',
        timeoutMs: timeoutMs + 30_000,
        signal: run.signal,
      });
      if (typeof w.StatusCode !== 'number') {
        throw new ContainerEngineError('connection-lost', `the engine at ${t.endpointName} ended the wait without an exit code: the daemon probably stopped`);
      }
      exitCode = w.StatusCode;
      if (w.Error?.Message) errorMessage = w.Error.Message;
    } catch (err) {
      if (stopKind) return { exitCode: null, errorKind: stopKind };
      throw err;
    }
    // The exit is known; give the output stream a moment to deliver its last bytes.
    // (The grace timer is cleared as soon as the output is in: a pending timer would keep a CLI
    // process alive for its whole length after the result is printed.)
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([reading, new Promise((r) => (grace = setTimeout(r, OUTPUT_GRACE_MS)))]).finally(() => clearTimeout(grace));
    if (stopKind) return { exitCode, errorKind: stopKind };
    return { exitCode, ...(errorMessage ? { errorMessage } : {}) };
  } catch (err) {
    if (stopKind) return { exitCode: null, errorKind: stopKind };
    const msg = errorText(err);
    // A refused start (older runtimes report "exec format error" here) is classified from its words.
    return { exitCode: null, errorKind: 'engine-error', errorMessage: msg };
  } finally {
    clearTimeout(timer);
    clearTimeout(hardStop);
    signal?.removeEventListener('abort', onAbort);
    run.abort();
    emit({ type: 'phase', platform: rec.platform, phase: 'removing' });
    await removeContainer(t, id, { timeoutMs: 15_000 }).catch(() => undefined);
    activeContainers.delete(id);
  }
}

/** After the exit is known, how long the attach stream may take to deliver its last bytes. */
const OUTPUT_GRACE_MS = 5_000;

/** Demultiplex the attach stream into the output caps, forwarding a bounded amount live. */
async function readOutput(
  stream: NodeJS.ReadableStream,
  out: { stdout: OutputCap; stderr: OutputCap },
  emit: (e: ProbeEvent) => void,
  platform: string,
  liveLimit: number,
): Promise<void> {
  const demux = new Demuxer();
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  const live = { stdout: 0, stderr: 0 };
  const done = streamDone(stream as unknown as NodeJS.EventEmitter);
  stream.on('data', (chunk: Buffer) => {
    let pieces;
    try {
      pieces = demux.push(chunk);
    } catch {
      pieces = [{ stream: 'stdout' as const, data: chunk }];
    }
    for (const p of pieces) {
      if (p.stream === 'stdin') continue;
      out[p.stream].push(p.data);
      if (live[p.stream] < liveLimit) {
        const room = liveLimit - live[p.stream];
        const part = p.data.length > room ? p.data.subarray(0, room) : p.data;
        live[p.stream] += part.length;
        const text = decoders[p.stream].write(Buffer.from(part.buffer, part.byteOffset, part.length));
        if (text) emit({ type: 'output', platform, stream: p.stream, text });
        if (live[p.stream] >= liveLimit) emit({ type: 'output-limited', platform, stream: p.stream, limitBytes: liveLimit });
      }
    }
  });
  stream.on('error', () => undefined);
  await done;
}

// ---------------------------------------------------------------------------------------------
// Matrix

export interface MatrixOptions extends Omit<ProbeOptions, 'platform' | 'resolved'> {
  platforms: readonly string[];
  /** Probes running at once (default: the number of platforms, at most 8). */
  concurrency?: number;
  /** Put the image's tag back on the image it named before the matrix pulled other platforms (default true). */
  restoreTag?: boolean;
  /** Ask the registry which platforms the image offers and report them first (default true). */
  listPlatforms?: boolean;
  /** Per-platform image IDs remembered across runs (default: one cache per process). */
  imageCache?: PlatformImageCache;
}

const processCache = memoryImageCache();

/** A small counting semaphore. */
function limiter(n: number) {
  let running = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running < n) running++;
    else await new Promise<void>((r) => queue.push(r)); // the finishing task hands its slot over
    try {
      return await fn();
    } finally {
      const next = queue.shift();
      if (next) next();
      else running--;
    }
  };
}

/**
 * One image over many platforms. Each platform's image is resolved first, one at a time (in the
 * classic store a tag holds one platform, so parallel `docker run --platform` races), recording its
 * image ID; containers are then created by ID, concurrently, while later platforms still resolve.
 * Results stream as `result` events as they finish; the returned array follows `platforms`.
 */
export async function probeMatrix(opts: MatrixOptions, onEvent: ProbeListener = () => {}, signal?: AbortSignal): Promise<ProbeResult[]> {
  const recs: DockerPlatform[] = [];
  for (const p of opts.platforms) {
    const rec = platformRecord(p);
    if (!recs.some((r) => r.platform === rec.platform)) recs.push(rec);
  }
  if (recs.length === 0) throw new ContainerEngineError('invalid-request', 'no platform to probe: give at least one, e.g. --platform linux/arm64');
  const t = opts.conn;
  const emit = (e: ProbeEvent) => safeEmit(onEvent, e);
  const limit = limiter(Math.max(1, Math.min(opts.concurrency ?? Math.min(recs.length, MAX_MATRIX_CONCURRENCY), 64)));
  const { platforms: _p, concurrency: _c, restoreTag, listPlatforms, imageCache, ...single } = opts;
  void _p;
  void _c;
  let indexDigest: string | undefined;

  let original: ImageFacts | undefined;
  const byId = isImageId(opts.image);
  try {
    if (!byId && listPlatforms !== false && !signal?.aborted) {
      const offered = await imagePlatforms(t, opts.image, signal).catch(() => undefined);
      if (offered) emit({ type: 'platforms', image: opts.image, platforms: offered.platforms, source: offered.source });
      indexDigest = offered?.digest;
    }
    if (!byId) original = await inspectImage(t, opts.image, signal).catch(() => undefined);
  } catch {
    // Engine trouble shows up in every probe's result below.
  }

  const results = new Map<string, Promise<ProbeResult>>();
  for (const rec of recs) {
    const started = Date.now();
    // Resolution is sequential (see above); running is concurrent and overlaps later resolutions.
    const r = await resolveFor(single, rec, emit, signal, indexDigest ? { indexDigest, cache: imageCache ?? processCache } : undefined);
    if ('outcome' in r) results.set(rec.platform, Promise.resolve(finish(single, rec, started, emit, r.outcome, r.image, false)));
    else results.set(rec.platform, limit(() => runResolved(single, rec, r, started, emit, signal)));
  }
  const settled = await Promise.all(recs.map((r) => results.get(r.platform)!));

  if (restoreTag !== false && original && t.info.imageStore === 'classic') {
    const now = await inspectImage(t, opts.image).catch(() => undefined);
    if (now && now.id !== original.id) await tagImage(t, original.id, opts.image).catch(() => undefined);
  }
  return settled;
}
