/**
 * Temporary containers (labelled for the reaper, always removed) and exec into them with
 * demultiplexed, bounded output.
 */
import { randomBytes } from 'node:crypto';
import { call, callHijack, callStream, DEFAULT_CALL_TIMEOUT_MS, streamDone, type ContainerTarget } from './api';
import { Demuxer } from './demux';
import { ContainerEngineError } from './errors';
import { activeContainers, removeContainer, tempLabels, type TempKind } from './reap';

export interface TempSpec {
  kind: TempKind;
  /** `linux/amd64`: passed to create so the engine checks the image. */
  platform?: string;
  /** The create body (Image, Cmd, HostConfig…); labels are added. */
  body: Record<string, unknown>;
  /** How long the container may be needed; after that the reaper may remove it. */
  lifetimeMs: number;
  callTimeoutMs?: number;
}

/** Create a labelled container; on any failure nothing is left behind. Returns its ID (tracked as active). */
export async function createTemp(t: ContainerTarget, spec: TempSpec): Promise<string> {
  const name = `archway-${spec.kind}-${randomBytes(5).toString('hex')}`;
  const callMs = spec.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const labels = { ...((spec.body.Labels as Record<string, string> | undefined) ?? {}), ...tempLabels(spec.kind, Date.now() + spec.lifetimeMs + 2 * callMs) };
  try {
    const r = await call<{ Id: string }>(t, {
      method: 'POST',
      path: '/containers/create',
      query: { name, ...(spec.platform ? { platform: spec.platform } : {}) },
      body: { ...spec.body, Labels: labels },
      doing: `creating a ${spec.kind} container`,
      timeoutMs: callMs,
    });
    activeContainers.add(r.Id);
    return r.Id;
  } catch (err) {
    await removeContainer(t, name, { timeoutMs: 5_000 }).catch(() => undefined);
    throw err;
  }
}

/** Remove a temporary container (errors are swallowed: the reaper gets what this misses). */
export async function disposeTemp(t: ContainerTarget, id: string): Promise<void> {
  try {
    await removeContainer(t, id, { timeoutMs: 15_000 });
  } catch {
    // left for reapLeftovers()
  } finally {
    activeContainers.delete(id);
  }
}

export async function withTemp<T>(t: ContainerTarget, spec: TempSpec, fn: (id: string) => Promise<T>): Promise<T> {
  const id = await createTemp(t, spec);
  try {
    return await fn(id);
  } finally {
    await disposeTemp(t, id);
  }
}

export interface ExecResult {
  exitCode: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

export interface ExecOptions {
  /** Written to the process's stdin in one piece, then stdin is closed. */
  stdin?: string | Uint8Array;
  timeoutMs?: number;
  /** Output beyond this many bytes per stream is an error (default 1 MiB). */
  maxOutput?: number;
  signal?: AbortSignal;
}

/** Run a command (argv, no shell) in a running container and collect its output and exit code. */
export async function execIn(t: ContainerTarget, id: string, cmd: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const max = opts.maxOutput ?? 1 << 20;
  const withStdin = opts.stdin !== undefined;
  const doing = `running ${cmd[0] ?? ''} in a helper container`;
  const created = await call<{ Id: string }>(t, {
    method: 'POST',
    path: `/containers/${id}/exec`,
    body: { AttachStdin: withStdin, AttachStdout: true, AttachStderr: true, Tty: false, Cmd: [...cmd], User: '0' },
    doing,
    timeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const local = new AbortController();
  const timer = setTimeout(() => local.abort(), timeoutMs);
  const onAbort = () => local.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const spec = { method: 'POST' as const, path: `/exec/${created.Id}/start`, body: { Detach: false, Tty: false }, doing, timeoutMs, signal: local.signal };
    const stream = withStdin ? await callHijack(t, spec) : await callStream(t, spec);
    const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const sizes = { stdout: 0, stderr: 0 };
    const demux = new Demuxer();
    let overflow = false;
    const done = streamDone(stream as unknown as NodeJS.EventEmitter);
    stream.on('data', (chunk: Buffer) => {
      for (const p of demux.push(chunk)) {
        if (p.stream === 'stdin') continue;
        sizes[p.stream] += p.data.length;
        if (sizes[p.stream] > max) {
          overflow = true;
          (stream as unknown as { destroy(): void }).destroy();
          return;
        }
        chunks[p.stream].push(Buffer.from(p.data));
      }
    });
    stream.on('error', () => undefined);
    if (withStdin) {
      const w = stream as unknown as NodeJS.WritableStream;
      w.write(typeof opts.stdin === 'string' ? Buffer.from(opts.stdin) : Buffer.from(opts.stdin!));
      w.end();
    }
    await done;
    if (local.signal.aborted) {
      if (opts.signal?.aborted) throw new ContainerEngineError('cancelled', `cancelled while ${doing}`);
      throw new ContainerEngineError('timeout', `no answer within ${Math.round(timeoutMs / 1000)} s while ${doing}`);
    }
    if (overflow) throw new ContainerEngineError('engine-refused', `${cmd.join(' ')} printed more than ${max} bytes`);
    // The stream can end a moment before the engine records the exit code.
    let info: { ExitCode?: number | null; Running?: boolean } = {};
    for (let i = 0; i < 40; i++) {
      info = await call<{ ExitCode?: number | null; Running?: boolean }>(t, { method: 'GET', path: `/exec/${created.Id}/json`, doing, timeoutMs: 10_000 });
      if (!info.Running) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return { exitCode: typeof info.ExitCode === 'number' && !info.Running ? info.ExitCode : null, stdout: Buffer.concat(chunks.stdout), stderr: Buffer.concat(chunks.stderr) };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
