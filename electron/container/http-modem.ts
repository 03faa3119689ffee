/**
 * The engine's HTTP API over Node's own http/https: unix sockets and tcp (with TLS), one
 * keep-alive pool per connection. Speaks what api.ts asks of a modem (JSON calls, streams,
 * uploads, hijacked connections). ssh:// endpoints use the same class over an agent whose
 * connections are ssh processes (ssh-dial.ts).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import type { DialOptions, Modem } from './api';

export interface HttpModemOptions {
  agent: http.Agent;
  /** unix: the socket path. */
  socketPath?: string;
  /** tcp: host and port (https when the agent is an https.Agent). */
  host?: string;
  port?: number;
  tls?: boolean;
}

/** Query values as the Engine API takes them: objects as JSON, arrays as repeated keys. */
export function queryString(q: Record<string, unknown> | undefined): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q ?? {})) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) params.append(k, String(x));
    else if (v !== null && typeof v === 'object') params.append(k, JSON.stringify(v));
    else params.append(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

function parseBody(buf: Buffer): unknown {
  const text = buf.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return buf;
  }
}

/** An HTTP error with the fields errors.ts reads (statusCode, json, reason: the shape docker-modem used). */
function httpError(statusCode: number, reason: string | boolean | undefined, body: unknown): Error & { statusCode: number; json: unknown; reason?: string } {
  const msg = body && typeof body === 'object' && !Buffer.isBuffer(body) ? ((body as { message?: string }).message ?? JSON.stringify(body)) : Buffer.isBuffer(body) ? body.toString('utf8') : String(body ?? '');
  const why = typeof reason === 'string' ? reason : 'unexpected';
  return Object.assign(new Error(`(HTTP code ${statusCode}) ${why} - ${msg} `), { statusCode, json: body, reason: why });
}

export class HttpModem implements Modem {
  constructor(private readonly o: HttpModemOptions) {}

  dial(opts: DialOptions, cb: (err: unknown, data: unknown) => void): void {
    const query = (opts.options._query ?? {}) as Record<string, unknown>;
    const path = `${opts.path.replace(/\?$/, '')}${queryString(query)}`;
    const headers: http.OutgoingHttpHeaders = {};
    let body: string | undefined;
    let upload: NodeJS.ReadableStream | undefined;
    if (opts.file) {
      upload = typeof opts.file === 'string' ? fs.createReadStream(opts.file) : opts.file;
      headers['Content-Type'] = 'application/x-tar';
      headers['Transfer-Encoding'] = 'chunked';
    } else if (opts.method === 'POST') {
      const json = JSON.stringify(opts.options._body ?? {});
      if (json !== '{}' && json !== '""') {
        body = json;
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = Buffer.byteLength(json);
      }
    }
    if (opts.hijack) {
      headers.Connection = 'Upgrade';
      headers.Upgrade = 'tcp';
    }
    const target = this.o.socketPath ? { socketPath: this.o.socketPath } : { host: this.o.host, port: this.o.port };
    let settled = false;
    const done = (err: unknown, data?: unknown) => {
      if (settled) return;
      settled = true;
      cb(err, data ?? null);
    };
    let req: http.ClientRequest;
    try {
      req = (this.o.tls ? https : http).request({ ...target, path, method: opts.method, headers, agent: this.o.agent, signal: opts.abortSignal });
    } catch (err) {
      done(err);
      return;
    }
    req.on('error', (err) => done(err));
    if (opts.hijack) {
      req.on('upgrade', (_res, socket: Duplex, head: Buffer) => {
        if (head.length > 0) socket.unshift(head);
        done(null, socket);
      });
    }
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (opts.statusCodes[status] !== true) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => done(err));
        res.on('end', () => done(httpError(status, opts.statusCodes[status], parseBody(Buffer.concat(chunks)))));
        return;
      }
      if (opts.isStream) {
        done(null, res);
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => done(err));
      res.on('end', () => done(null, parseBody(Buffer.concat(chunks))));
    });
    if (upload) {
      upload.on('error', (err) => req.destroy(err as Error));
      upload.pipe(req);
    } else {
      req.end(body);
    }
  }
}
