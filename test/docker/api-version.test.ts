// API version negotiation against real engines: Debian's dockerd 20.10 (API 1.41), Podman's
// Docker-compatible API, and a version gate in front of the real dockerd that refuses old API
// versions exactly as Docker Engine 29 does (API 1.52, minimum 1.44). The CLI runs as a process.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_API_VERSION } from '../../electron/container/api-version';
import { connect, type Connection } from '../../electron/container/endpoint';
import { REPO_ROOT } from '../fixtures/foreign';
import { runArgv } from '../kernel/namespace';
import type { DockerdHandle } from './dockerd';
import { dockerdWithNativeImage, X86_64_HOST } from './env';
import { podmanAvailable, startPodman, type PodmanHandle } from './podman';
import { startVersionGate, type Gate } from './version-gate';

const CLI = path.join(REPO_ROOT, 'dist/cli/archway.mjs');
const NATIVE = 'archway-test/negotiate:amd64';

/** GET a path on a unix socket: status and body. */
function get(socket: string, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: socket, path: p, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe.runIf(X86_64_HOST)('API version negotiation', () => {
  let dockerd: DockerdHandle;
  let conn: Connection;
  const gates: Gate[] = [];
  const gate = async (apiVersion: string, minApiVersion: string) => {
    const g = await startVersionGate({ upstream: dockerd.socket, apiVersion, minApiVersion, upstreamApiVersion: '1.41' });
    gates.push(g);
    return g;
  };
  const archway = (args: string[], env: NodeJS.ProcessEnv) => {
    const e: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete e.DOCKER_CONTEXT;
    if (!('DOCKER_API_VERSION' in env)) delete e.DOCKER_API_VERSION;
    return runArgv([process.execPath, CLI, ...args], { env: e, timeoutMs: 120_000 });
  };
  const probeArgs = ['probe', '--platform', 'linux/amd64', '--image', NATIVE, '--pull', 'never', '--json'];

  let dispose: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    expect(fs.existsSync(CLI), 'run `npm run build` first').toBe(true);
    ({ dockerd, conn, dispose } = await dockerdWithNativeImage(NATIVE));
  });

  afterAll(async () => {
    for (const g of gates) await g.stop();
    await dispose?.();
  });

  it('dockerd 20.10: the daemon\'s 1.41 is the lower one and is used', async () => {
    expect(conn.info.name).toBe('Docker Engine');
    expect(conn.info.apiVersion).toBe('1.41');
    expect(conn.info.usingApiVersion).toBe('1.41');
    expect(conn.api).toEqual({ version: '1.41', how: 'negotiated' });
  });

  it('behind a Docker 29 gate (API 1.52, minimum 1.44): Archway speaks 1.51 and the probe runs', async () => {
    const g = await gate('1.52', '1.44');
    // The gate refuses 1.41 exactly as Docker 29 does (what a client pinned to 1.41 gets).
    const refusal = await get(g.socket, '/v1.41/info');
    expect(refusal.status).toBe(400);
    expect(JSON.parse(refusal.body)).toEqual({ message: 'client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version' });
    g.refused.length = 0;

    const c = await connect({ endpoint: { kind: 'unix', socketPath: g.socket, source: 'explicit' }, env: {} });
    try {
      expect(c.info).toMatchObject({ version: '29.0.0', apiVersion: '1.52', minApiVersion: '1.44', usingApiVersion: MAX_API_VERSION });
    } finally {
      c.close();
    }

    const r = await archway(probeArgs, { DOCKER_HOST: `unix://${g.socket}` });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; engine: { usingApiVersion: string }; results: { status: string; observed: string }[] };
    expect(out.ok).toBe(true);
    expect(out.engine.usingApiVersion).toBe('1.51');
    expect(out.results).toMatchObject([{ status: 'ok', observed: 'x86_64' }]);
    expect(g.refused).toEqual([]);
    expect(g.paths).toContainEqual(expect.stringMatching(/^POST \/v1\.51\/containers\/create/));
  });

  it('DOCKER_API_VERSION is honoured: pinned to 1.41 behind the gate, the client side is named, not the engine', async () => {
    const g = await gate('1.52', '1.44');
    const r = await archway(probeArgs, { DOCKER_HOST: `unix://${g.socket}`, DOCKER_API_VERSION: '1.41' });
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toContain(`the engine at unix://${g.socket} accepts Docker API 1.44 or newer, but DOCKER_API_VERSION=1.41 pins an older one`);
    expect(r.stderr).toMatch(/Unset DOCKER_API_VERSION/);
    expect(r.stderr).not.toMatch(/upgrade the engine/i);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'client-too-old' } });

    // Pinned to a version both sides speak: used as given.
    const ok = await archway(probeArgs, { DOCKER_HOST: `unix://${g.socket}`, DOCKER_API_VERSION: '1.45' });
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { engine: { usingApiVersion: string } }).engine.usingApiVersion).toBe('1.45');
    expect(g.paths).toContainEqual(expect.stringMatching(/^POST \/v1\.45\/containers\/create/));
  });

  it('a too-old engine (API 1.40) is told to upgrade the engine, exit 3', async () => {
    const g = await gate('1.40', '1.12');
    const r = await archway(probeArgs, { DOCKER_HOST: `unix://${g.socket}` });
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toContain(`the engine at unix://${g.socket} speaks Docker API 1.40; Archway needs 1.41 or newer`);
    expect(r.stderr).toMatch(/Upgrade the engine/);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'api-too-old' } });
    expect(g.paths.filter((p) => /\/containers\//.test(p))).toEqual([]);
  });

  it('a too-old client (engine accepts only 1.55 and newer) is told to upgrade Archway, exit 3', async () => {
    const g = await gate('1.60', '1.55');
    const r = await archway(probeArgs, { DOCKER_HOST: `unix://${g.socket}` });
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toContain(`the engine at unix://${g.socket} accepts Docker API 1.55 or newer; Archway used ${MAX_API_VERSION}`);
    expect(r.stderr).toMatch(/Upgrade Archway/);
    expect(r.stderr).not.toMatch(/upgrade the engine/i);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'client-too-old' } });
  });

  describe.runIf(podmanAvailable())('Podman\'s Docker-compatible API', () => {
    let podman: PodmanHandle;
    beforeAll(async () => {
      podman = await startPodman();
    }, 60_000);
    afterAll(async () => {
      await podman?.stop();
    }, 60_000);

    it('negotiates the version Podman reports and describes it as Podman', async () => {
      const c = await connect({ endpoint: { kind: 'unix', socketPath: podman.socket, source: 'explicit' }, env: {} });
      try {
        expect(c.info.name).toBe('Podman Engine');
        expect(c.info.apiVersion).toMatch(/^1\.\d+$/);
        expect(c.info.usingApiVersion).toBe(c.info.apiVersion);
        // Podman's /info says amd64; probes compare with uname -m.
        expect(c.info.hostMachine).toBe('x86_64');
      } finally {
        c.close();
      }
    });
  });
});
