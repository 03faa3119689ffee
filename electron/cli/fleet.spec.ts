import { describe, expect, it } from 'vitest';
import type { FleetCell, FleetHost } from '../../shared/fleet';
import { buildMatrix } from '../../shared/fleet';
import { PLAIN } from './term';
import { fleetInstallExit, formatMatrix } from './fleet';

const cells = (over: Partial<Record<string, Partial<FleetCell>>> = {}): FleetCell[] =>
  (['i386', 'x86_64', 'aarch64', 'riscv64'] as const).map((cpu) => ({ cpu, state: cpu === 'x86_64' || cpu === 'i386' ? 'native' : 'missing', cRisk: false, ...over[cpu] }) as FleetCell);

const ok = (id: string, c: FleetCell[]): FleetHost => ({ id, name: id, kind: 'docker-context', endpoint: `ssh://${id}`, reach: 'ok', machine: 'x86_64', emulatorVersion: '7.2.22 (Debian 1:7.2+dfsg-7)', mounted: true, cells: c });

describe('archway fleet status: the table', () => {
  it('hosts × platforms, C risk and differences marked, hosts that did not answer listed with why', () => {
    const m = buildMatrix(
      [
        ok('ws', cells()),
        ok('b-1', cells({ aarch64: { state: 'ready', cRisk: true } })),
        { id: 'ci', name: 'ci', kind: 'docker-context', endpoint: 'tcp://10.0.0.9:2376', reach: 'timeout', error: { code: 'timeout', message: 'tcp://10.0.0.9:2376 did not answer within 10 s' }, cells: [], ms: 10_004 },
      ],
      'ws',
    );
    const out = formatMatrix(m, { ...PLAIN, columns: 200 });
    expect(out).toMatch(/^HOST\s+ENDPOINT\s+MACHINE\s+QEMU\s+I386\s+ARM\s+PPC64LE/m);
    expect(out).toMatch(/^\*ws\s+ssh:\/\/ws\s+x86_64\s+7\.2\.22\s+native\s+\?/m);
    expect(out).toMatch(/^b-1\s+.*ready !C ≠/m);
    expect(out).toMatch(/^ci\s+tcp:\/\/10\.0\.0\.9:2376\s+-\s+-\s+\?/m);
    expect(out).toMatch(/ci: no answer after 10\.0 s — tcp:\/\/10\.0\.0\.9:2376 did not answer within 10 s/);
    expect(out).toMatch(/b-1 aarch64: ready \(ws: missing\)/);
    expect(out).toMatch(/!C: the handler has flag C/);
  });

  it('names and messages from contexts and engines are stripped of control characters', () => {
    const evil = { ...ok('x\u001b]0;pwned\u0007', cells()), endpoint: 'ssh://a\u001b[2Jb' };
    const down: FleetHost = { id: 'd', name: 'd', kind: 'docker-context', endpoint: 'tcp://d:1', reach: 'error', error: { code: 'engine-refused', message: 'bad \u001b[31mred\u009b' }, cells: [] };
    const out = formatMatrix(buildMatrix([evil, down]), { ...PLAIN, columns: 200 });
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });

  it('install exit: 0 all done; 3 when every failure is a host that could not be used; 1 otherwise', () => {
    const r = (ok: boolean, reach: FleetHost['reach'], code?: string) => ({ host: 'h', endpoint: 'e', reach, ok, planned: [], changed: [], ...(code ? { error: { code, message: 'm' } } : {}) });
    expect(fleetInstallExit([r(true, 'ok')])).toBe(0);
    expect(fleetInstallExit([r(true, 'ok'), r(false, 'timeout', 'timeout'), r(false, 'refused', 'unreachable')])).toBe(3);
    expect(fleetInstallExit([r(true, 'ok'), r(false, 'ok', 'engine-refused')])).toBe(1);
  });
});

describe('--context on the command line', () => {
  const run = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const { main } = await import('./main');
    let out = '';
    let err = '';
    const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), env: { PATH: '', ...env } }, {} as never);
    return { code, out, err };
  };

  it('commands that never reach an engine refuse it (fleet names its contexts itself)', async () => {
    expect((await run(['--context', 'b-1', 'version'])).code).toBe(2);
    const f = await run(['fleet', 'status', '--context', 'b-1']);
    expect(f.code).toBe(2);
    expect(f.err).toMatch(/fleet does not take --context \(name the contexts/);
  });

  it('a context that does not exist is a clear error before anything runs', async () => {
    const r = await run(['--context', 'nope', 'status'], { DOCKER_CONFIG: '/nonexistent-archway-config' });
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/docker context "nope" does not exist/);
  });
});

describe('archway fleet status: Kubernetes nodes in the same table', () => {
  it('node rows show their cells (also while their pod has no result), the node\'s own words, and how to change them', () => {
    const node = (name: string, reach: FleetHost['reach'], c: FleetCell[], error?: FleetHost['error']): FleetHost => ({ id: `node/${name}`, name, kind: 'kubernetes-node', endpoint: 'kube:prod', reach, machine: 'x86_64', nodeArch: 'amd64', cells: c, ...(error ? { error } : {}) });
    const m = buildMatrix([
      ok('ws', cells()),
      node('w1', 'ok', [{ cpu: 'x86_64', state: 'native', cRisk: false }, { cpu: 'aarch64', state: 'conflict', cRisk: false, handler: 'qemu-aarch64', note: 'an entry of this name differs: left alone' }]),
      node('w2', 'pending', [{ cpu: 'x86_64', state: 'native', cRisk: false }, { cpu: 'aarch64', state: 'missing', cRisk: false, note: 'ImagePullBackOff' }], { code: 'pending', message: 'ImagePullBackOff' }),
      { id: 'cluster/gone', name: 'gone', kind: 'kubernetes-cluster', endpoint: 'https://10.0.0.1:6443', reach: 'timeout', error: { code: 'timeout', message: 'did not answer within 3 s' }, cells: [], ms: 3002 },
    ]);
    const out = formatMatrix(m, { ...PLAIN, columns: 200 });
    expect(out).toMatch(/^w1\s+kube:prod\s+x86_64\s+-\s+.*conflict/m);
    expect(out).toMatch(/^w2\s+kube:prod\s+x86_64\s+-\s+\?.*\s-\s+\?\s+native\s/m);
    expect(out).toMatch(/^w1: qemu-aarch64: an entry of this name differs: left alone$/m);
    expect(out).toMatch(/^w2: pending — ImagePullBackOff$/m);
    expect(out).toMatch(/^gone: no answer after 3\.0 s — did not answer within 3 s$/m);
    expect(out).toMatch(/Kubernetes nodes are changed through the cluster: archway kube apply ARCH… --image REF@sha256:…/);
  });
});
