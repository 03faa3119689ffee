/**
 * An interactive shell in a container of one platform — the one engine path behind `archway shell`
 * and the window's *Open shell*.
 *
 * Resolve the image for the platform (as a probe does: pull when missing, check the image's
 * platform), choose the command (shared/shell.ts: the given argv, the image's own shell, or
 * /bin/sh — checked to exist), create a labelled container with a TTY, stdin open once
 * (StdinOnce: closing our input ends the shell's) and no network unless one is named, attach over
 * the engine's hijacked connection (POST /attach with `Upgrade: tcp`, our own http-modem), start,
 * resize, wait for the exit code, and remove the container — on exit, on close(), and on every
 * failure. When the program cannot run, the probe classifier (shared/probe.ts) says why and what to
 * do: no handler → the install command, wrong architecture → what the image offers.
 *
 * The container's output is handed on as bytes, unfiltered: see shared/shell.ts for what reaches a
 * terminal and why.
 */
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { DockerPlatform } from '../../shared/arch/catalog';
import { classifyProbe, OutputCap, platformRecord, type ClassifyInput, type ProbeEvent } from '../../shared/probe';
import { chooseShell, diagnosisOf, FALLBACK_SHELL, worthDiagnosing, type ShellChoice, type ShellDiagnosis } from '../../shared/shell';
import { call, callHijack, callLong, DEFAULT_CALL_TIMEOUT_MS, type ContainerTarget } from './api';
import { Demuxer } from './demux';
import { ContainerEngineError } from './errors';
import { imagePlatformName, imagePlatforms, resolveImage, type ImageFacts, type PullPolicy } from './images';
import { createTemp, disposeTemp } from './containers';
import { removeContainer } from './reap';

export interface ShellTarget extends ContainerTarget {
  info: { hostMachine: string };
}

export interface ShellOptions {
  conn: ShellTarget;
  /** `linux/arm64`, `arm64`… */
  platform: string;
  image: string;
  /** argv; absent or empty: the image's shell (see chooseShell). */
  command?: readonly string[];
  /** An engine network to join; absent: none (loopback only). */
  network?: string;
  /** A TTY (interactive terminal; stdout and stderr arrive as one stream) or plain pipes. */
  tty: boolean;
  /** The terminal's size, applied as soon as the container runs. */
  size?: { cols: number; rows: number };
  pull?: PullPolicy;
  /** What Archway knows of the handler for this platform's CPU (sharpens no-handler vs wrong-arch). */
  handler?: ClassifyInput['handler'];
  /** The container's output, as it arrives. */
  onOutput: (data: Buffer, stream: 'stdout' | 'stderr') => void;
  /** Pull progress while the image is fetched (the probe's events). */
  onEvent?: (e: ProbeEvent) => void;
  /** Called once the container is ready and about to start (a face can say what runs before any output). */
  onReady?: (info: { choice: ShellChoice; imagePlatform: string; containerId: string }) => void;
  /** Cancels opening (not the running shell: close() ends that). */
  signal?: AbortSignal;
  callTimeoutMs?: number;
}

/** The shell could not start; `diagnosis` says why and what to do (typed fix intent included). */
export class ShellError extends Error {
  constructor(readonly diagnosis: ShellDiagnosis) {
    super(diagnosis.message);
    this.name = 'ShellError';
  }
}

export interface ShellExit {
  /** The shell's exit status; null when it was stopped (close()) or the engine lost it. */
  exitCode: number | null;
  /** Set when the exit has a cause Archway can name and fix (exec format error…). */
  diagnosis?: ShellDiagnosis;
  /** The engine failed while the shell ran (daemon stopped…). */
  error?: string;
}

export interface ShellSession {
  containerId: string;
  platform: string;
  /** The platform the image's configuration records (`linux/arm64/v8`). */
  imagePlatform: string;
  choice: ShellChoice;
  write(data: Uint8Array | string): void;
  /** Close the shell's input (its end-of-file). */
  endInput(): void;
  resize(cols: number, rows: number): Promise<void>;
  /** Settles once the shell ended and its container is removed; never rejects. */
  exited: Promise<ShellExit>;
  /** Stop the shell and remove its container (idempotent); resolves like `exited`. */
  close(): Promise<ShellExit>;
}

/**
 * How long a shell's container may be in use, for the reaper of another Archway process: a shell
 * is open as long as its user wants, so only a gone owner process (same host) or this long lets
 * another Archway remove it.
 */
export const SHELL_LIFETIME_MS = 7 * 24 * 3600_000;
/** The longest a wait for the shell's exit may take (setTimeout's limit, ~24.8 days). */
const FOREVER_MS = 2 ** 31 - 1;
/** After the exit is known, how long the output stream may take to deliver its last bytes. */
const OUTPUT_GRACE_MS = 2_000;
/** Output kept to classify an exit (exec format error is one line). */
const DIAGNOSIS_TAIL = 8 * 1024;

function errorText(err: unknown): string {
  if (err instanceof ContainerEngineError) return err.hint ? `${err.message}. ${err.hint}` : err.message;
  return (err as Error)?.message ?? String(err);
}

/** Classify with the probe's classifier (the one place that knows what an exec failure means). */
function classify(opts: ShellOptions, rec: DockerPlatform, command: readonly string[], extra: Partial<ClassifyInput>) {
  return classifyProbe({
    platform: rec,
    hostMachine: opts.conn.info.hostMachine,
    command,
    exitCode: null,
    stdoutTail: '',
    stderrTail: '',
    ...(opts.handler ? { handler: opts.handler } : {}),
    ...extra,
  });
}

/** Why an image of another platform cannot give this shell, with what it does offer. */
async function wrongPlatform(opts: ShellOptions, rec: DockerPlatform, image: ImageFacts, pullError?: string): Promise<ShellError> {
  const c = classify(opts, rec, opts.command ?? FALLBACK_SHELL, { image: { os: image.os, architecture: image.architecture, ...(image.variant ? { variant: image.variant } : {}) } });
  const offered = await imagePlatforms(opts.conn, opts.image, opts.signal).catch(() => undefined);
  const offers = offered && offered.platforms.length > 0 ? ` ${opts.image} offers ${offered.platforms.join(', ')}${offered.source === 'local' ? ' (the local copy; the registry did not answer)' : ''}.` : '';
  const d = diagnosisOf(c);
  return new ShellError({ ...d, message: `${d.message}.${offers}${pullError ? ` (pulling ${rec.platform}: ${pullError})` : ''}` });
}

/** A network the engine does not have (refused at create by some engines, at start by others). */
function noSuchNetwork(err: unknown, network: string, t: ContainerTarget): ContainerEngineError | undefined {
  if (network === 'none' || !(err instanceof ContainerEngineError) || err.code !== 'not-found' || !/network/i.test(err.message)) return undefined;
  return new ContainerEngineError('invalid-request', `there is no network "${network}" in the engine at ${t.endpointName}`, 'Name one that `docker network ls` lists (e.g. bridge or host), or leave --network out for none.');
}

interface ImageConfig {
  Config?: { Cmd?: string[] | null; Entrypoint?: string[] | null } | null;
}

/** Open a shell. Throws ShellError (cannot run, with the diagnosis), PlatformError, or ContainerEngineError (engine trouble). */
export async function openShell(opts: ShellOptions): Promise<ShellSession> {
  const t = opts.conn;
  const rec = platformRecord(opts.platform);
  const callMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const cancelled = () => new ContainerEngineError('cancelled', 'cancelled while opening the shell');

  // --- the image, for this platform
  let announced = false;
  const r = await resolveImage(t, opts.image, rec, opts.pull ?? 'missing', {
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: (progress) => {
      if (!announced) {
        announced = true;
        opts.onEvent?.({ type: 'phase', platform: rec.platform, phase: 'pulling' });
      }
      opts.onEvent?.({ type: 'pull', platform: rec.platform, image: opts.image, progress });
    },
  });
  if (r.kind === 'pull-failed') throw new ShellError(diagnosisOf(classify(opts, rec, opts.command ?? FALLBACK_SHELL, { errorKind: 'pull-failed', errorMessage: r.message })));
  if (r.kind === 'mismatch') throw await wrongPlatform(opts, rec, r.image, r.pullError);
  const image = r.image;
  if (opts.signal?.aborted) throw cancelled();

  const config = await call<ImageConfig>(t, { method: 'GET', path: `/images/${encodeURIComponent(image.id)}/json`, doing: 'reading the image configuration', timeoutMs: callMs });
  const choice = chooseShell(opts.command, { cmd: config.Config?.Cmd ?? null, entrypoint: config.Config?.Entrypoint ?? null });

  // --- the container (createTemp: labelled for the reaper, removed by name if creating fails)
  const network = opts.network ?? 'none';
  let id: string;
  try {
    id = await createTemp(t, {
      kind: 'shell',
      platform: rec.platform,
      lifetimeMs: SHELL_LIFETIME_MS,
      callTimeoutMs: callMs,
      body: {
        Image: image.id,
        Cmd: choice.command,
        Entrypoint: [],
        Tty: opts.tty,
        OpenStdin: true,
        StdinOnce: true,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        ...(network === 'none' ? { NetworkDisabled: true } : {}),
        HostConfig: {
          NetworkMode: network,
          AutoRemove: false,
          // Engines with API ≥ 1.42 start the TTY at this size; older ones get the resize below.
          ...(opts.tty && opts.size ? { ConsoleSize: [opts.size.rows, opts.size.cols] } : {}),
        },
      },
    });
  } catch (err) {
    throw noSuchNetwork(err, network, t) ?? err;
  }
  let socket: Duplex | undefined;
  const fail = async (err: unknown): Promise<never> => {
    socket?.destroy();
    await disposeTemp(t, id);
    throw err;
  };

  try {
    if (choice.source === 'fallback') {
      // /bin/sh must exist: an image without one (distroless, scratch) gets a sentence, not a runtime error.
      try {
        await call(t, { method: 'HEAD', path: `/containers/${id}/archive`, query: { path: FALLBACK_SHELL[0]! }, doing: `looking for ${FALLBACK_SHELL[0]} in the image`, timeoutMs: callMs });
      } catch (err) {
        if (!(err instanceof ContainerEngineError && err.code === 'not-found')) throw err;
        throw new ShellError({
          status: 'failed',
          message: `${rec.platform}: ${opts.image} has no ${FALLBACK_SHELL[0]}, and its own command is not a shell`,
          fix: `Name the program to run after --, e.g. archway shell --platform ${rec.platform} ${opts.image} -- /busybox/sh`,
        });
      }
    }
    if (opts.signal?.aborted) throw cancelled();

    // --- attach (hijacked, both ways), before start so that no output is lost
    socket = await callHijack(t, {
      method: 'POST',
      path: `/containers/${id}/attach`,
      query: { stream: true, stdin: true, stdout: true, stderr: true },
      doing: 'attaching to the shell container',
      timeoutMs: callMs,
    });
  } catch (err) {
    return fail(err);
  }
  const s = socket;
  const tail = new OutputCap(DIAGNOSIS_TAIL);
  const demux = opts.tty ? undefined : new Demuxer();
  const deliver = (data: Buffer, stream: 'stdout' | 'stderr') => {
    tail.push(data);
    try {
      opts.onOutput(data, stream);
    } catch {
      // a face's bug must not leak the container
    }
  };
  s.on('data', (chunk: Buffer) => {
    if (!demux) return deliver(chunk, 'stdout');
    let pieces;
    try {
      pieces = demux.push(chunk);
    } catch {
      pieces = [{ stream: 'stdout' as const, data: chunk }];
    }
    for (const p of pieces) if (p.stream !== 'stdin') deliver(Buffer.from(p.data), p.stream);
  });
  s.on('error', () => undefined);
  const outputDone = new Promise<void>((resolve) => {
    s.once('end', resolve);
    s.once('close', resolve);
  });

  // --- start; a refused start is what an exec failure looks like on some runtimes
  try {
    opts.onReady?.({ choice, imagePlatform: imagePlatformName(image), containerId: id });
  } catch {
    // a face's bug must not leak the container
  }
  try {
    await call(t, { method: 'POST', path: `/containers/${id}/start`, doing: 'starting the shell container', timeoutMs: callMs });
  } catch (err) {
    const msg = errorText(err);
    const c = classify(opts, rec, choice.command, { errorKind: 'engine-error', errorMessage: msg, image: { os: image.os, architecture: image.architecture, ...(image.variant ? { variant: image.variant } : {}) } });
    if (c.status !== 'engine-error') return fail(new ShellError(diagnosisOf(c)));
    const net = noSuchNetwork(err, network, t);
    if (net) return fail(net);
    if (/executable file not found|no such file or directory/i.test(msg)) {
      return fail(new ShellError({ status: 'failed', message: `${rec.platform}: ${choice.command[0]} cannot run in ${opts.image}: ${msg}`, fix: 'Name a program the image has after --.' }));
    }
    return fail(err);
  }

  const resize = async (cols: number, rows: number): Promise<void> => {
    if (!opts.tty) return;
    await call(t, { method: 'POST', path: `/containers/${id}/resize`, query: { h: rows, w: cols }, doing: 'resizing the shell', timeoutMs: 10_000 });
  };
  if (opts.tty && opts.size) {
    // As the docker CLI does: the first resize can come a moment before the engine has the TTY.
    const { cols, rows } = opts.size;
    void (async () => {
      for (let i = 0; i < 5; i++) {
        try {
          await resize(cols, rows);
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 20 * (i + 1)));
        }
      }
    })();
  }

  // --- wait for the exit, then remove
  const waitCtl = new AbortController();
  let closing = false;
  const exited: Promise<ShellExit> = (async () => {
    let exit: ShellExit;
    try {
      const w = await callLong<{ StatusCode?: number; Error?: { Message?: string } | null }>(t, {
        method: 'POST',
        path: `/containers/${id}/wait`,
        doing: 'waiting for the shell to end',
        timeoutMs: FOREVER_MS,
        signal: waitCtl.signal,
      });
      exit = { exitCode: typeof w.StatusCode === 'number' && !closing ? w.StatusCode : null, ...(w.Error?.Message ? { error: w.Error.Message } : {}) };
    } catch (err) {
      exit = { exitCode: null, ...(closing ? {} : { error: errorText(err) }) };
    }
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([outputDone, new Promise((r) => (grace = setTimeout(r, OUTPUT_GRACE_MS)))]).finally(() => clearTimeout(grace));
    s.destroy();
    await disposeTemp(t, id);
    if (exit.exitCode !== null && exit.exitCode !== 0) {
      const text = new StringDecoder('utf8').end(Buffer.from(tail.tail()));
      const c = classify(opts, rec, choice.command, { exitCode: exit.exitCode, stderrTail: text, stdoutTail: '' });
      if (worthDiagnosing(c)) exit.diagnosis = diagnosisOf(c);
    }
    return exit;
  })();

  let closed: Promise<ShellExit> | undefined;
  return {
    containerId: id,
    platform: rec.platform,
    imagePlatform: imagePlatformName(image),
    choice,
    write: (data) => {
      if (!s.destroyed && s.writable) s.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    },
    endInput: () => {
      if (!s.destroyed) s.end();
    },
    resize,
    exited,
    close: () => {
      closed ??= (async () => {
        closing = true;
        // Force-removal kills the shell; the wait then returns and `exited` finishes the rest.
        await removeContainer(t, id, { timeoutMs: 15_000 }).catch(() => undefined);
        // An engine that does not answer the wait any more: stop waiting for it.
        const stuck = setTimeout(() => waitCtl.abort(), 10_000);
        try {
          return await exited;
        } finally {
          clearTimeout(stuck);
        }
      })();
      return closed;
    },
  };
}
