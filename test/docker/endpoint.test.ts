// Engine connection: what connect() reports, endpoint resolution against contexts written by the
// real docker CLI, and the errors a person meets (permission denied as a non-root user, API too old).
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, resolveEndpoint } from '../../electron/container/endpoint';
import { REPO_ROOT } from '../fixtures/foreign';
import { ensureDockerd, type DockerdHandle } from './dockerd';

const execFileP = promisify(execFile);
const NOBODY = 65534;

describe('engine connection', () => {
  let dockerd: DockerdHandle;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'archway-endpoint-'));

  beforeAll(async () => {
    dockerd = await ensureDockerd({ isolated: true }); // private: other runs may stop the shared daemon
  });

  afterAll(async () => {
    fs.rmSync(tmp, { recursive: true, force: true });
    await dockerd?.stop();
  });

  it('reports endpoint, engine name and version, API version, host arch and image store', async () => {
    const conn = await connect({ env: { DOCKER_HOST: `unix://${dockerd.socket}`, HOME: tmp } });
    const v = (await execFileP('dockerd', ['--version'])).stdout; // "Docker version 20.10.24+dfsg1, build …"
    expect(conn.info).toMatchObject({
      endpoint: `unix://${dockerd.socket}`,
      source: 'DOCKER_HOST',
      name: expect.stringMatching(/Docker Engine|Podman/),
      os: 'linux',
      hostMachine: os.machine(),
      imageStore: expect.stringMatching(/classic|containerd/),
      rootless: false,
    });
    // The daemon's own version, whole: "Docker version <version>, build …" (an empty or cut version fails).
    expect(conn.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(v).toContain(`Docker version ${conn.info.version},`);
    expect(conn.info.apiVersion).toMatch(/^1\.\d+$/);
    expect(Number(conn.info.apiVersion.split('.')[1])).toBeGreaterThanOrEqual(41);
    expect(conn.info.arch).toBe(process.arch === 'x64' ? 'amd64' : process.arch);
  });

  it('follows the current docker context, as written by the docker CLI itself', async () => {
    const cfg = path.join(tmp, 'docker-config');
    await execFileP('docker', ['--config', cfg, 'context', 'create', 'archway-test', '--docker', `host=unix://${dockerd.socket}`]);
    await execFileP('docker', ['--config', cfg, 'context', 'use', 'archway-test']);
    const env = { DOCKER_CONFIG: cfg, HOME: tmp };
    expect(resolveEndpoint(env).endpoint).toEqual({ kind: 'unix', socketPath: dockerd.socket, source: 'context', context: 'archway-test' });
    const conn = await connect({ env });
    expect(conn.info.source).toBe('docker context archway-test');
    // DOCKER_HOST still wins over the context, as with the docker CLI.
    expect(resolveEndpoint({ ...env, DOCKER_HOST: 'tcp://127.0.0.1:9' }).endpoint).toMatchObject({ kind: 'tcp', source: 'DOCKER_HOST' });
  });

  it('permission denied for a user outside the docker group: says so, and that the group is root-equivalent', async () => {
    const stat = fs.statSync(dockerd.socket);
    expect(stat.mode & 0o007).toBe(0); // the socket is closed to others, as dockerd makes it
    const dir = path.join(REPO_ROOT, '.cache', 'test-docker');
    fs.mkdirSync(dir, { recursive: true });
    const entry = path.join(dir, 'connect-as-user.ts');
    fs.writeFileSync(
      entry,
      `import { connect } from '../../electron/container/endpoint';\n` +
        `connect().then((c) => console.log(JSON.stringify({ ok: c.info.version })), (e) => console.log(JSON.stringify({ code: e.code, message: e.message, hint: e.hint })));\n`,
    );
    const out = path.join(dir, 'connect-as-user.mjs');
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: out, logLevel: 'warning' });
    fs.chmodSync(out, 0o644);
    const child = spawn(process.execPath, [out], { uid: NOBODY, gid: NOBODY, env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', DOCKER_HOST: `unix://${dockerd.socket}` }, cwd: '/' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code, stderr).toBe(0);
    const res = JSON.parse(stdout) as { code: string; message: string; hint: string };
    expect(res.code).toBe('permission-denied');
    expect(res.message).toContain(dockerd.socket);
    expect(res.hint).toMatch(/usermod -aG docker/);
    expect(res.hint).toMatch(/root-equivalent/);
  });

  it('refuses an engine older than API 1.41 (a stand-in server: no such daemon exists here)', async () => {
    const sock = path.join(tmp, 'old.sock');
    const server = net.createServer((c) => {
      c.on('data', (d) => {
        const req = d.toString();
        const body = req.includes('/version') ? JSON.stringify({ Version: '19.03.15', ApiVersion: '1.40', Os: 'linux', Arch: 'amd64' }) : 'OK';
        c.end(`HTTP/1.1 200 OK\r\nContent-Type: ${body === 'OK' ? 'text/plain' : 'application/json'}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      });
    });
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      await expect(connect({ endpoint: { kind: 'unix', socketPath: sock, source: 'explicit' } })).rejects.toMatchObject({
        code: 'api-too-old',
        message: expect.stringMatching(/API 1\.40; Archway needs 1\.41/),
      });
    } finally {
      server.close();
    }
  });

  it('a daemon that accepts but never answers is a timeout, not a hang', async () => {
    const sock = path.join(tmp, 'mute.sock');
    const held: net.Socket[] = [];
    const server = net.createServer((c) => held.push(c));
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const started = Date.now();
      await expect(connect({ endpoint: { kind: 'unix', socketPath: sock, source: 'explicit' }, timeoutMs: 1000 })).rejects.toMatchObject({ code: 'timeout' });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      for (const c of held) c.destroy();
      server.close();
    }
  });
});
