// A version gate in front of a real engine: a loopback HTTP proxy on a unix socket that answers
// /_ping and /version as an engine of other API versions would (Docker 29: ApiVersion 1.52,
// MinAPIVersion 1.44) and refuses versioned paths outside that range with the daemon's own
// HTTP 400 words. Accepted calls are forwarded to the real engine, their version prefix rewritten
// to one the real engine speaks. No Docker 29 daemon can run here (no network for its packages):
// this reproduces exactly its refusal, in front of the real dockerd, so probes really run.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareApiVersions } from '../../electron/container/api-version';

export interface GateOptions {
  /** The real engine's socket. */
  upstream: string;
  /** What the gate says it speaks, newest and oldest. */
  apiVersion: string;
  minApiVersion: string;
  /** What it says its engine version is (default "29.0.0"). */
  engineVersion?: string;
  /** The version accepted calls are forwarded with (the real engine's). */
  upstreamApiVersion: string;
}

export interface Gate {
  socket: string;
  /** Every request path the gate saw, in order. */
  paths: string[];
  /** Paths it refused with HTTP 400. */
  refused: string[];
  stop(): Promise<void>;
}

const VERSIONED = /^\/v(\d+\.\d+)(\/.*)$/;

function upstreamJson(socket: string, p: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: socket, path: p, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body) as Record<string, unknown>);
          } catch (err) {
            reject(err as Error);
          }
        });
      })
      .on('error', reject);
  });
}

export async function startVersionGate(o: GateOptions): Promise<Gate> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'archway-gate-'));
  const socket = path.join(dir, 'gate.sock');
  const paths: string[] = [];
  const refused: string[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    paths.push(`${req.method} ${url}`);
    const m = VERSIONED.exec(url);
    const version = m?.[1];
    const rest = m ? m[2]! : url;
    const bare = rest.split('?')[0]!;
    const headers = { 'API-Version': o.apiVersion, 'Content-Type': 'application/json', Server: `Docker/${o.engineVersion ?? '29.0.0'} (linux)` };
    if (version && compareApiVersions(version, o.minApiVersion) < 0) {
      refused.push(url);
      res.writeHead(400, headers);
      res.end(JSON.stringify({ message: `client version ${version} is too old. Minimum supported API version is ${o.minApiVersion}, please upgrade your client to a newer version` }));
      return;
    }
    if (version && compareApiVersions(version, o.apiVersion) > 0) {
      refused.push(url);
      res.writeHead(400, headers);
      res.end(JSON.stringify({ message: `client version ${version} is too new. Maximum supported API version is ${o.apiVersion}` }));
      return;
    }
    if (bare === '/_ping') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
      return;
    }
    if (bare === '/version') {
      void upstreamJson(o.upstream, '/version').then(
        (v) => {
          res.writeHead(200, headers);
          res.end(JSON.stringify({ ...v, Version: o.engineVersion ?? '29.0.0', ApiVersion: o.apiVersion, MinAPIVersion: o.minApiVersion }));
        },
        (err: Error) => {
          res.writeHead(500, headers);
          res.end(JSON.stringify({ message: err.message }));
        },
      );
      return;
    }
    const forwardPath = version ? `/v${o.upstreamApiVersion}${rest}` : url;
    const up = http.request({ socketPath: o.upstream, path: forwardPath, method: req.method, headers: req.headers, agent: false }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, { ...ures.headers, 'api-version': o.apiVersion });
      res.flushHeaders();
      ures.pipe(res);
    });
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, headers);
      res.end(JSON.stringify({ message: err.message }));
    });
    req.pipe(up);
    res.on('close', () => up.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    socket,
    paths,
    refused,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
