// tcp:// docker contexts with TLS from the context's own tls/ folder (contexts/tls/<sha256>/docker/
// ca.pem, cert.pem, key.pem, as `docker context create --docker "host=…,ca=…,cert=…,key=…"` writes
// them). The engine is a real dockerd behind a real TLS listener that requires a client certificate
// signed by its CA (mutual TLS, as dockerd --tlsverify does).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetMatrix } from '../../shared/fleet';
import { ensureDockerd, type DockerdHandle } from '../docker/dockerd';
import { connectTo, loadNativeBusybox, X86_64_HOST } from '../docker/env';
import { REPO_ROOT } from '../fixtures/foreign';
import { runArgv } from '../kernel/namespace';
import { writeDockerConfig } from '../support/fleet-hosts';

const CLI = path.join(REPO_ROOT, 'dist/cli/archway.mjs');
const REGISTRAR = 'archway-test/fleet-registrar:amd64';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by that CA. */
function makeCa(dir: string, name: string): void {
  fs.mkdirSync(dir, { recursive: true });
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${name} CA`, '-keyout', 'ca-key.pem', '-out', 'ca.pem'], dir);
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  fs.writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name} ${who}`, '-keyout', `${who}-key.pem`, '-out', `${who}.csr`], dir);
    openssl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '2', '-extfile', `${who}.ext`, '-out', `${who}.pem`], dir);
  }
}

function contextTls(config: string, name: string, files: { ca?: string; cert?: string; key?: string }): void {
  const dir = path.join(config, 'contexts', 'tls', createHash('sha256').update(name).digest('hex'), 'docker');
  fs.mkdirSync(dir, { recursive: true });
  for (const [k, v] of Object.entries(files)) if (v) fs.copyFileSync(v, path.join(dir, `${k}.pem`));
}

describe.runIf(X86_64_HOST && process.getuid?.() === 0)('tcp:// contexts with TLS from the context', () => {
  let dockerd: DockerdHandle;
  let server: tls.Server;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-tls-'));
  const good = path.join(tmp, 'good');
  const other = path.join(tmp, 'other');
  let config: string;

  beforeAll(async () => {
    expect(fs.existsSync(CLI), 'run `node scripts/build.mjs cli` first').toBe(true);
    dockerd = await ensureDockerd({ isolated: true });
    const conn = await connectTo(dockerd);
    await loadNativeBusybox(conn, REGISTRAR);
    conn.close();
    makeCa(good, 'good');
    makeCa(other, 'other');
    const read = (f: string) => fs.readFileSync(path.join(good, f));
    server = tls.createServer({ key: read('server-key.pem'), cert: read('server.pem'), ca: read('ca.pem'), requestCert: true, rejectUnauthorized: true }, (c) => {
      const d = net.connect(dockerd.socket);
      c.pipe(d).pipe(c);
      c.on('error', () => d.destroy());
      d.on('error', () => c.destroy());
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    config = writeDockerConfig(path.join(tmp, 'docker'), [
      { name: 'tls-ok', host },
      { name: 'tls-wrong-ca', host },
      { name: 'tls-no-client-cert', host },
    ]);
    contextTls(config, 'tls-ok', { ca: path.join(good, 'ca.pem'), cert: path.join(good, 'client.pem'), key: path.join(good, 'client-key.pem') });
    contextTls(config, 'tls-wrong-ca', { ca: path.join(other, 'ca.pem'), cert: path.join(other, 'client.pem'), key: path.join(other, 'client-key.pem') });
    contextTls(config, 'tls-no-client-cert', { ca: path.join(good, 'ca.pem') });
  }, 180_000);

  afterAll(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await dockerd?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the context\'s CA and client certificate reach the engine; a wrong CA or no client certificate does not', async () => {
    const r = await runArgv([process.execPath, CLI, 'fleet', 'status', 'tls-ok', 'tls-wrong-ca', 'tls-no-client-cert', '--json', '--timeout', '5', '--registrar', REGISTRAR], {
      env: { PATH: process.env.PATH, HOME: tmp, DOCKER_CONFIG: config },
      timeoutMs: 120_000,
    });
    const m = JSON.parse(r.stdout) as FleetMatrix;
    const by = Object.fromEntries(m.hosts.map((h) => [h.id, h]));
    expect(by['tls-ok'], JSON.stringify(by['tls-ok'])).toMatchObject({ reach: 'ok', machine: 'x86_64', mounted: expect.any(Boolean) });
    expect(by['tls-wrong-ca']!.reach).not.toBe('ok');
    expect(by['tls-wrong-ca']!.error?.message).toMatch(/certificate|self[- ]signed|verify/i);
    expect(by['tls-no-client-cert']!.reach).not.toBe('ok');
    expect(r.code).toBe(3);
    // And a single command with --context uses the same files.
    const probe = await runArgv([process.execPath, CLI, '--context', 'tls-ok', 'engines', '--json'], { env: { PATH: process.env.PATH, HOME: tmp, DOCKER_CONFIG: config }, timeoutMs: 60_000 });
    const current = (JSON.parse(probe.stdout) as { current: boolean; endpoint: string; error?: unknown }[]).find((o) => o.current);
    expect(current, probe.stdout).toMatchObject({ endpoint: `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}` });
    expect(current!.error).toBeUndefined();
  });
});
