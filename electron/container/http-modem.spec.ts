import * as http from 'node:http';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HttpModem, queryString } from './http-modem';

describe('queryString (as the Engine API reads queries)', () => {
  it('objects as JSON, arrays as repeated keys, undefined left out', () => {
    expect(queryString({ all: true, filters: { label: ['a=1'] }, skip: undefined, platform: 'linux/arm64' })).toBe(
      `?all=true&filters=${encodeURIComponent('{"label":["a=1"]}')}&platform=linux%2Farm64`,
    );
    expect(queryString({ t: ['a', 'b'] })).toBe('?t=a&t=b');
    expect(queryString({})).toBe('');
  });
});

describe('HttpModem over a unix socket', () => {
  it('JSON answers parsed, errors carry the status and the daemon\'s words, keep-alive sockets released by the agent', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'archway-modem-'));
    const sock = path.join(dir, 's.sock');
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${req.headers['content-type'] ?? '-'} ${body}`);
        if (req.url?.startsWith('/missing')) {
          res.writeHead(404, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ message: 'No such image: x' }));
        } else {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ ok: true }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(sock, r));
    const agent = new http.Agent({ keepAlive: true });
    const modem = new HttpModem({ agent, socketPath: sock });
    const dial = (opts: Parameters<HttpModem['dial']>[0]) => new Promise<{ err: unknown; data: unknown }>((resolve) => modem.dial(opts, (err, data) => resolve({ err, data })));
    const codes = { 200: true, 404: 'not found' } as Record<number, boolean | string>;
    try {
      const ok = await dial({ path: '/v1.51/containers/create?', method: 'POST', options: { _query: { name: 'x' }, _body: { Image: 'busybox' } }, statusCodes: codes, abortSignal: new AbortController().signal });
      expect(ok).toEqual({ err: null, data: { ok: true } });
      const nf = await dial({ path: '/missing?', method: 'GET', options: { _query: {} }, statusCodes: codes, abortSignal: new AbortController().signal });
      expect(nf.err).toMatchObject({ statusCode: 404, json: { message: 'No such image: x' }, message: '(HTTP code 404) not found - No such image: x ' });
      expect(seen).toEqual(['POST /v1.51/containers/create?name=x application/json {"Image":"busybox"}', 'GET /missing - ']);
    } finally {
      agent.destroy();
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
