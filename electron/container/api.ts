/**
 * One way to call the container engine: the HTTP modem's dial (http-modem.ts: unix sockets, TLS, ssh), on the
 * API version negotiated when connecting (endpoint.ts), with a deadline on every call,
 * cancellation, and errors turned into ContainerEngineErrors.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ContainerEngineError, toContainerEngineError } from './errors';

/** What api.ts asks of a modem (one request): http-modem.ts provides it. */
export interface Modem {
  dial(opts: DialOptions, cb: (err: unknown, data: unknown) => void): void;
}

export interface ContainerTarget {
  modem: Modem;
  /** The negotiated API version ("1.41"): every call goes to `/v<version>/…`. Absent: version-less paths (before negotiation). */
  apiVersion?: string;
  /** The version was pinned by DOCKER_API_VERSION (refusals then name the variable). */
  apiPinned?: boolean;
  /** For messages: `unix:///var/run/docker.sock`. */
  endpointName: string;
  kind: 'unix' | 'tcp' | 'ssh';
}

export type Query = Record<string, string | number | boolean | Record<string, unknown> | undefined>;

export interface CallSpec {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'HEAD';
  /** API path without the version prefix, e.g. `/containers/create`. */
  path: string;
  query?: Query;
  body?: unknown;
  /** Upload a file or stream as the request body (application/x-tar). */
  file?: string | NodeJS.ReadableStream;
  /** Deadline for the whole call; for streams, until the response starts. Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** For messages: "creating the container". */
  doing?: string;
}

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

const STATUS_CODES: Record<number, boolean | string> = {
  200: true,
  201: true,
  204: true,
  304: true,
  400: 'bad parameter',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  406: 'not running',
  409: 'conflict',
  500: 'server error',
  501: 'not implemented',
  502: 'bad gateway',
  503: 'unavailable',
};

export function cancelledError(doing?: string): ContainerEngineError {
  return new ContainerEngineError('cancelled', `cancelled${doing ? ` while ${doing}` : ''}`);
}

function timeoutError(t: ContainerTarget, ms: number, doing?: string): ContainerEngineError {
  return new ContainerEngineError(
    'timeout',
    `the engine at ${t.endpointName} did not answer within ${Math.round(ms / 100) / 10} s${doing ? ` while ${doing}` : ''}`,
    'The daemon may be hung or overloaded: check `systemctl status docker` and `docker info`.',
  );
}

export interface DialOptions {
  path: string;
  method: string;
  options: Record<string, unknown>;
  statusCodes: Record<number, boolean | string>;
  abortSignal: AbortSignal;
  isStream?: boolean;
  hijack?: boolean;
  openStdin?: boolean;
  file?: string | NodeJS.ReadableStream;
}

/** One call's deadline, linked to the caller's signal: `signal` aborts on whichever comes first. */
function deadline(spec: CallSpec) {
  const timeoutMs = spec.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const local = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    local.abort();
  }, timeoutMs);
  const onAbort = () => local.abort();
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    timeoutMs,
    signal: local.signal,
    timedOut: () => timedOut,
    stopTimer: () => clearTimeout(timer),
    /** Stop following the caller's signal. */
    unlink: () => spec.signal?.removeEventListener('abort', onAbort),
  };
}

function dial<T>(t: ContainerTarget, spec: CallSpec, extra: Partial<DialOptions>, keepSignal: boolean): Promise<T> {
  if (spec.signal?.aborted) return Promise.reject(cancelledError(spec.doing));
  const d = deadline(spec);
  const modem = t.modem;
  const options: Record<string, unknown> = { _query: spec.query ?? {} };
  if (spec.method === 'POST') options._body = spec.body ?? {};
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      d.stopTimer();
      d.unlink();
      d.signal.removeEventListener('abort', onLocalAbort);
      if (spec.signal?.aborted) return reject(cancelledError(spec.doing));
      if (d.timedOut()) return reject(timeoutError(t, d.timeoutMs, spec.doing));
      reject(toContainerEngineError(err, { endpoint: t.endpointName, kind: t.kind, ...(spec.doing ? { doing: spec.doing } : {}), ...(t.apiPinned ? { apiPinned: true } : {}) }));
    };
    // A modem need not settle a call whose response had started when the connection dies or the
    // signal aborts; the deadline and cancellation are enforced here, whatever it does.
    const onLocalAbort = () => fail(new Error('aborted'));
    d.signal.addEventListener('abort', onLocalAbort, { once: true });
    modem.dial(
      {
        path: `${t.apiVersion ? `/v${t.apiVersion}` : ''}${spec.path}?`,
        method: spec.method,
        options,
        statusCodes: STATUS_CODES,
        abortSignal: d.signal,
        ...(spec.file ? { file: spec.file } : {}),
        ...extra,
      },
      (err, data) => {
        if (err) return fail(err);
        if (settled) {
          (data as { destroy?: () => void } | null)?.destroy?.();
          return;
        }
        settled = true;
        d.stopTimer();
        d.signal.removeEventListener('abort', onLocalAbort);
        if (keepSignal && data && typeof (data as NodeJS.EventEmitter).once === 'function') {
          // The stream now belongs to the caller: stop listening once it closes.
          (data as NodeJS.EventEmitter).once('close', d.unlink);
        } else {
          d.unlink();
        }
        resolve(data as T);
      },
    );
  });
}

/** A JSON (or empty) request. */
export function call<T>(t: ContainerTarget, spec: CallSpec): Promise<T> {
  return dial<T>(t, spec, {}, false);
}

/**
 * A streaming response (pull progress, attach, archive). The deadline covers the start of the
 * response only; aborting `spec.signal` later destroys the stream.
 */
export function callStream(t: ContainerTarget, spec: CallSpec): Promise<IncomingMessage> {
  return dial<IncomingMessage>(t, spec, { isStream: true }, true);
}

/**
 * A JSON request whose answer may take long (wait): read as a stream so that a daemon dying after
 * sending the headers is noticed at once. The deadline covers the whole call.
 */
export async function callLong<T>(t: ContainerTarget, spec: CallSpec): Promise<T> {
  const d = deadline(spec);
  try {
    const res = await callStream(t, { ...spec, signal: d.signal, timeoutMs: d.timeoutMs });
    let text = '';
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString('utf8');
    } catch (err) {
      if (d.signal.aborted) throw new Error('aborted');
      throw new ContainerEngineError(
        'connection-lost',
        `the engine at ${t.endpointName} closed the connection${spec.doing ? ` while ${spec.doing}` : ''} (${(err as Error).message}): the daemon probably stopped or restarted`,
        'Check `systemctl status docker`; Archway removes leftover probe containers when it next connects.',
      );
    }
    if (d.signal.aborted) throw new Error('aborted');
    return (text.trim() ? JSON.parse(text) : {}) as T;
  } catch (err) {
    if (spec.signal?.aborted) throw cancelledError(spec.doing);
    if (d.timedOut()) throw timeoutError(t, d.timeoutMs, spec.doing);
    if (err instanceof ContainerEngineError && err.code === 'cancelled') throw timeoutError(t, d.timeoutMs, spec.doing);
    throw err;
  } finally {
    d.stopTimer();
    d.unlink();
  }
}

/** A hijacked connection with stdin open (exec with input). */
export function callHijack(t: ContainerTarget, spec: CallSpec): Promise<Duplex> {
  return dial<Duplex>(t, spec, { isStream: true, hijack: true, openStdin: true }, true);
}

/** Read a whole stream into memory, refusing more than `maxBytes`. */
export async function readAll(stream: NodeJS.ReadableStream, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      throw new ContainerEngineError('engine-refused', `${what} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Wait until a stream ends or closes (errors count as the end). */
export function streamDone(stream: NodeJS.EventEmitter): Promise<'end' | 'error'> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (how: 'end' | 'error') => {
      if (!settled) {
        settled = true;
        resolve(how);
      }
    };
    stream.once('end', () => done('end'));
    stream.once('close', () => done('end'));
    stream.once('error', () => done('error'));
    stream.once('aborted', () => done('error'));
  });
}
