// `archway kube apply|status|delete` through the cluster API.
//
// 1. Against a real cluster: only when a kubeconfig AND an image the cluster can pull are given
//    (ARCHWAY_TEST_KUBE_IMAGE=REF@sha256:…). There is no cluster on this machine, so it is skipped,
//    and says so — it is not counted as a pass.
// 2. The parts that cannot otherwise run here — a Kubernetes API server and its kubelets — are a
//    small FAKE API server (an HTTP server answering the handful of endpoints @kubernetes/client-node
//    calls: discovery, nodes, daemonsets, pods, pod logs, server-side apply, delete). Everything
//    else is real: the CLI, the client library over HTTP, the manifests it sends, and each "node" is
//    a private binfmt_misc instance (user namespace, Linux ≥ 6.7) in which the pod's real init
//    container command — the static registration program compiled from build/kube/archway-binfmt.c,
//    with the argv the DaemonSet carries — runs when the fake kubelet "starts" the pod. The host's
//    table is never touched.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRegister } from '../../shared/binfmt/register';
import { catalogRule } from '../../shared/plan/rules';
import { main } from '../../electron/cli/main';
import { kubeconfigSource } from '../../electron/kube/cluster';
import { ContextFleetGateway } from '../../electron/main/fleet';
import type { FleetHost, FleetMatrix } from '../../shared/fleet';
import { hangingServer, writeDockerConfig } from '../support/fleet-hosts';
import { ensureDockerd, type DockerdHandle } from '../docker/dockerd';
import { connectTo, loadNativeBusybox } from '../docker/env';
import { privateBinfmt, type PrivateBinfmt } from '../kernel/namespace';

const execFileP = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const IMAGE = `registry.example/archway-binfmt@sha256:${'c'.repeat(64)}`;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: { ...process.env, NO_COLOR: '1', COLUMNS: '200' } });
  return { code, stdout, stderr };
}

const realCluster = kubeconfigSource() !== undefined && !!process.env.ARCHWAY_TEST_KUBE_IMAGE;
describe.skipIf(!realCluster)('against a real cluster (skipped: no kubeconfig and ARCHWAY_TEST_KUBE_IMAGE here; no cluster is reachable on this machine)', () => {
  it('kube apply registers on every node and kube status shows it; kube delete removes it', async () => {
    const image = process.env.ARCHWAY_TEST_KUBE_IMAGE!;
    const apply = await cli(['kube', 'apply', 'riscv64', '--image', image, '--timeout', '300']);
    expect(apply.code, apply.stderr).toBe(0);
    const status = await cli(['kube', 'status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const del = await cli(['kube', 'delete', '--timeout', '300']);
    expect(del.code, del.stderr).toBe(0);
  });
});

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; creationTimestamp?: string };
  spec?: { template: { metadata: { labels: Record<string, string> }; spec: { nodeSelector: Record<string, string>; initContainers: { name: string; command: string[]; env: { name: string }[]; volumeMounts: { name: string; mountPath: string }[] }[]; volumes: { name: string; hostPath: { path: string } }[] } } };
}

interface FakeNode {
  name: string;
  arch: string;
  ns: PrivateBinfmt;
}

/** A fake API server over an object store; pods of a DaemonSet "run" their init container in the node's namespace. */
function fakeApiServer(nodes: FakeNode[], imageFiles: Record<string, string>) {
  const store = new Map<string, Obj>(); // key: kind/namespace/name
  const logs = new Map<string, Promise<{ log: string; exitCode: number }>>(); // pod name → its init container's run
  const requests: { method: string; url: string; contentType?: string; body?: unknown }[] = [];
  const unknown: string[] = [];
  const plural: Record<string, string> = { namespaces: 'Namespace', serviceaccounts: 'ServiceAccount', daemonsets: 'DaemonSet', pods: 'Pod', nodes: 'Node' };
  const discovery = {
    '/api/v1': { kind: 'APIResourceList', groupVersion: 'v1', resources: ['namespaces', 'serviceaccounts', 'pods', 'nodes'].map((n) => ({ name: n, singularName: '', kind: plural[n], namespaced: n === 'serviceaccounts' || n === 'pods', verbs: ['get', 'list', 'patch', 'delete'] })) },
    '/apis/apps/v1': { kind: 'APIResourceList', groupVersion: 'apps/v1', resources: [{ name: 'daemonsets', singularName: '', kind: 'DaemonSet', namespaced: true, verbs: ['get', 'list', 'patch', 'delete'] }] },
  } as Record<string, unknown>;

  const matches = (labels: Record<string, string> | undefined, selector: string | null) =>
    !selector || selector.split(',').every((kv) => {
      const [k, v] = kv.split('=');
      return labels?.[k!] === v;
    });

  /** The pods the DaemonSets' controller and each node's kubelet would have made. */
  function pods(namespace: string): Obj[] {
    const out: Obj[] = [];
    for (const ds of store.values()) {
      if (ds.kind !== 'DaemonSet' || ds.metadata.namespace !== namespace) continue;
      const tpl = ds.spec!.template;
      for (const n of nodes) {
        if (Object.entries(tpl.spec.nodeSelector).some(([k, v]) => (k === 'kubernetes.io/arch' ? n.arch !== v : k === 'kubernetes.io/os' ? v !== 'linux' : true))) continue;
        const name = `${ds.metadata.name}-${n.name}`;
        const init = tpl.spec.initContainers[0]!;
        if (!logs.has(name)) {
          // The kubelet starts the init container: its command, with the hostPath mounted where the spec says.
          const hostFor = new Map(init.volumeMounts.map((m) => [m.mountPath, tpl.spec.volumes.find((v) => v.name === m.name)!.hostPath.path]));
          // The image's files (its /archway-binfmt) are the compiled program.
          const argv = init.command.map((a, i) => (i === 0 ? imageFiles[a] ?? a : hostFor.get(a) ?? a));
          expect(init.env.map((e) => e.name)).toEqual(['NODE_NAME']);
          logs.set(name, n.ns.run(argv, { env: { NODE_NAME: n.name } }).then((r) => ({ log: r.stdout, exitCode: r.code ?? -1 })));
        }
        out.push({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace, labels: tpl.metadata.labels, creationTimestamp: '2026-01-01T00:00:00Z' },
          spec: { nodeName: n.name } as never,
          status: { phase: 'Running', initContainerStatuses: [{ name: init.name, state: { terminated: { exitCode: 0 } } }] },
        } as Obj);
      }
    }
    return out;
  }

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString('utf8')));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url!, 'http://x');
        const body = raw ? JSON.parse(raw) : undefined;
        requests.push({ method: req.method!, url: req.url!, ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}), ...(body ? { body } : {}) });
        const send = (code: number, obj: unknown, type = 'application/json') => {
          res.writeHead(code, { 'content-type': type });
          res.end(typeof obj === 'string' ? obj : JSON.stringify(obj));
        };
        const notFound = () => send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
        const p = url.pathname;
        if (discovery[p]) return send(200, discovery[p]);
        let m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(p);
        if (m && req.method === 'GET') {
          pods(m[1]!);
          const run = logs.get(m[2]!);
          return run ? send(200, (await run).log, 'text/plain') : notFound();
        }
        m = /^\/(?:api\/v1|apis\/apps\/v1)(?:\/namespaces\/([^/]+))?\/(namespaces|serviceaccounts|daemonsets|pods|nodes)(?:\/([^/]+))?$/.exec(p);
        if (!m) {
          unknown.push(`${req.method} ${req.url}`);
          return notFound();
        }
        let [, ns, resource, name] = m;
        if (resource === 'namespaces' && !name && ns) [ns, name] = [undefined, ns]; // /api/v1/namespaces/NAME
        const kind = plural[resource!]!;
        const key = `${kind}/${ns ?? ''}/${name}`;
        const selector = url.searchParams.get('labelSelector');
        if (req.method === 'GET' && !name) {
          const items =
            kind === 'Node'
              ? nodes.map((n) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: { 'kubernetes.io/arch': n.arch, 'kubernetes.io/os': 'linux' } } }))
              : kind === 'Pod'
                ? pods(ns!)
                : [...store.values()].filter((o) => o.kind === kind && (o.metadata.namespace ?? '') === (ns ?? ''));
          // A real API server sends list items without apiVersion and kind.
          const bare = items.filter((o) => matches(o.metadata.labels, selector)).map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
          return send(200, { apiVersion: 'v1', kind: `${kind}List`, metadata: {}, items: bare });
        }
        if (req.method === 'GET') return store.has(key) ? send(200, store.get(key)) : notFound();
        if (req.method === 'PATCH') {
          store.set(key, body as Obj);
          return send(200, body);
        }
        if (req.method === 'DELETE') {
          if (!store.delete(key)) return notFound();
          // Deleting a namespace deletes what is in it, as the namespace controller does.
          if (kind === 'Namespace') for (const [k, o] of [...store]) if (o.metadata.namespace === name) store.delete(k);
          for (const k of [...logs.keys()]) if (k.startsWith(`${name}-`)) logs.delete(k);
          return send(200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
        }
        unknown.push(`${req.method} ${req.url}`);
        return notFound();
      })().catch((e: Error) => {
        unknown.push(`${req.method} ${req.url}: ${e.message}`);
        res.writeHead(500);
        res.end();
      });
    });
  });
  return { server, store, requests, unknown, restartPods: () => logs.clear() };
}

/** An API server that accepts connections and never answers; idle() resolves once a client came and every connection is closed again. */
async function hangingApiServer() {
  const open = new Set<import('node:net').Socket>();
  let came = false;
  let wake = () => undefined as void;
  const server = http.createServer(() => undefined); // requests are read and never answered
  server.on('connection', (c) => {
    came = true;
    open.add(c);
    c.on('close', () => {
      open.delete(c);
      wake();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    idle: () => new Promise<void>((resolve) => (wake = () => void (came && open.size === 0 && resolve()))()),
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

describe('kube apply, status and delete against a fake API server (the one part that cannot exist here), with real registrations in private binfmt_misc instances', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'archway-kube-api-'));
  const nodes: FakeNode[] = [];
  let fake: ReturnType<typeof fakeApiServer>;
  const savedEnv = { KUBECONFIG: process.env.KUBECONFIG, PATH: process.env.PATH };
  const args = ['--image', IMAGE, '--emulators', 'node', '--node-arch', 'amd64,arm64', '--timeout', '30'];

  beforeAll(async () => {
    // The registration program at the path the pod spec names, as it is in the image.
    const program = path.join(work, 'archway-binfmt');
    await execFileP('gcc', ['-static', '-Os', '-Wall', '-Werror', '-o', program, path.join(ROOT, 'build/kube/archway-binfmt.c')]);
    nodes.push({ name: 'node-amd64', arch: 'amd64', ns: await privateBinfmt() }, { name: 'node-arm64', arch: 'arm64', ns: await privateBinfmt() });
    fake = fakeApiServer(nodes, { '/archway-binfmt': program });
    await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
    const port = (fake.server.address() as AddressInfo).port;
    const kubeconfig = path.join(work, 'kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        // client-node speaks plain HTTP only with TLS verification off (the fake has no certificate).
        clusters: [{ name: 'fake', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'u', user: { token: 'fake-token' } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'u' } }],
        'current-context': 'fake',
      }),
    );
    process.env.KUBECONFIG = kubeconfig;
  });

  afterAll(async () => {
    process.env.KUBECONFIG = savedEnv.KUBECONFIG;
    if (savedEnv.KUBECONFIG === undefined) delete process.env.KUBECONFIG;
    fake?.server.close();
    for (const n of nodes) await n.ns.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('kube apply sends the exported manifests by server-side apply and waits for every node: nodes × platforms', async () => {
    const r = await cli(['kube', 'apply', 'arm64', 'riscv64', ...args]);
    expect(fake.unknown).toEqual([]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    // What was sent is exactly what `archway export kubernetes` writes, applied with field manager archway.
    const patches = fake.requests.filter((q) => q.method === 'PATCH');
    expect(patches.every((q) => q.contentType?.startsWith('application/apply-patch+yaml') && /fieldManager=archway/.test(q.url) && /force=true/.test(q.url))).toBe(true);
    const out = path.join(work, 'export.yaml');
    expect((await cli(['export', 'kubernetes', 'arm64', 'riscv64', ...args.slice(0, -2), '-o', out])).code).toBe(0);
    const { loadAllYaml } = await import('@kubernetes/client-node');
    expect(patches.map((q) => q.body)).toEqual(loadAllYaml(fs.readFileSync(out, 'utf8')));
    // The matrix (the fleet table: HOST ENDPOINT MACHINE QEMU, then CPUs): the arm64 node runs aarch64 itself and got only riscv64.
    const lines = r.stdout.trim().split('\n').map((l) => l.split(/\s{2,}/));
    expect(lines.slice(0, 3)).toEqual([
      ['HOST', 'ENDPOINT', 'MACHINE', 'QEMU', 'I386', 'I486', 'AARCH64', 'RISCV64', 'X86_64'],
      ['node-amd64', 'kube:fake', 'x86_64', '-', 'native', 'native', 'ready', 'ready', 'native'],
      ['node-arm64', 'kube:fake', 'aarch64', '-', '?', '?', 'native', 'ready', '?'],
    ]);
    // And the kernels of the "nodes" say the same.
    expect(Object.keys(await nodes[0]!.ns.snapshot()).sort()).toEqual(['qemu-aarch64', 'qemu-riscv64', 'status']);
    expect(Object.keys(await nodes[1]!.ns.snapshot()).sort()).toEqual(['qemu-riscv64', 'status']);
    expect((await nodes[1]!.ns.snapshot())['qemu-riscv64']).toContain('flags: F\n');
  });

  // The fleet view: the same nodes, as rows of the one matrix, beside docker contexts. The contexts
  // here are this machine's real dockerd (its table read through the engine, as `fleet status`
  // always does), one that hangs (accepts, never answers) and one that refuses; they complete
  // within the bound while the cluster answers, and a hanging cluster is reported within the same bound.
  const BOUND_S = 3;
  const REGISTRAR = 'archway-test/fleet-registrar:amd64';
  let dockerd: DockerdHandle | undefined;
  const fleetEnv = async () => {
    if (!dockerd) {
      dockerd = await ensureDockerd();
      const c = await connectTo(dockerd);
      try {
        await loadNativeBusybox(c, REGISTRAR);
      } finally {
        c.close();
      }
    }
    const hang = await hangingServer();
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const refusedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const dir = writeDockerConfig(path.join(work, `docker-${hang.port}`), [
      { name: 'here', host: `unix://${dockerd.socket}` },
      { name: 'hang', host: `tcp://127.0.0.1:${hang.port}` },
      { name: 'refused', host: `tcp://127.0.0.1:${refusedPort}` },
    ]);
    const saved = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = dir;
    return { hang, restore: async () => ((saved === undefined ? delete process.env.DOCKER_CONFIG : (process.env.DOCKER_CONFIG = saved)), await hang.close()) };
  };
  const byId = (m: FleetMatrix, id: string) => m.hosts.find((h) => h.id === id);
  const states = (h: FleetHost | undefined) => Object.fromEntries((h?.cells ?? []).map((c) => [c.cpu, c.state]));

  it('fleet status --kube --json: every node with its own result beside the docker contexts, which are bounded as before', async () => {
    const env = await fleetEnv();
    try {
      const t0 = Date.now();
      const r = await cli(['fleet', 'status', 'here', 'hang', 'refused', '--kube', '--json', '--timeout', String(BOUND_S), '--registrar', REGISTRAR]);
      const took = Date.now() - t0;
      expect(fake.unknown).toEqual([]);
      const m = JSON.parse(r.stdout) as FleetMatrix;
      expect(m.hosts.map((h) => `${h.kind} ${h.id} ${h.reach}`).sort()).toEqual(['docker-context hang timeout', 'docker-context here ok', 'docker-context refused refused', 'kubernetes-node node/node-amd64 ok', 'kubernetes-node node/node-arm64 ok']);
      // The engine host's row comes from its own table, read through the engine: the same kind of cells.
      expect(byId(m, 'here')!.cells.find((c) => c.cpu === 'x86_64')!.state).toBe('native');
      expect(states(byId(m, 'node/node-amd64'))).toEqual({ i386: 'native', i486: 'native', x86_64: 'native', aarch64: 'ready', riscv64: 'ready' });
      expect(states(byId(m, 'node/node-arm64'))).toEqual({ aarch64: 'native', riscv64: 'ready' });
      expect(byId(m, 'node/node-arm64')).toMatchObject({ endpoint: 'kube:fake', machine: 'aarch64', nodeArch: 'arm64' });
      expect(m.cpus).toEqual(expect.arrayContaining(['aarch64', 'riscv64']));
      // A context did not answer: exit 3, as for fleet status without the cluster; all within the bound.
      expect(r.code).toBe(3);
      expect(took).toBeLessThan(BOUND_S * 1000 + 2500);
      // The table is the fleet table: node rows under HOST, the way to change them named.
      const text = await cli(['fleet', 'status', 'hang', 'refused', '--kube', '--timeout', String(BOUND_S)]);
      expect(text.stdout).toMatch(/^node-arm64\s+kube:fake\s+aarch64\s+-\s/m);
      expect(text.stdout).toContain('Kubernetes nodes are changed through the cluster: archway kube apply');
      // Without --kube, fleet status is about docker contexts only (no cluster is asked).
      const before = fake.requests.length;
      const plain = JSON.parse((await cli(['fleet', 'status', 'hang', 'refused', '--json', '--timeout', String(BOUND_S)])).stdout) as FleetMatrix;
      expect(plain.hosts.map((h) => h.id).sort()).toEqual(['hang', 'refused']);
      expect(fake.requests.length).toBe(before);
    } finally {
      await env.restore();
    }
  });

  it('the Machines view reads the same rows through FleetGateway.status(): the cluster when a kubeconfig exists, nothing (and no delay) when none does', async () => {
    const env = await fleetEnv();
    try {
      const m = await new ContextFleetGateway({ boundMs: BOUND_S * 1000, registrar: REGISTRAR }).status({ contexts: ['here', 'hang'] });
      expect(m.hosts.map((h) => `${h.kind} ${h.id} ${h.reach}`)).toEqual(['docker-context here ok', 'docker-context hang timeout', 'kubernetes-node node/node-amd64 ok', 'kubernetes-node node/node-arm64 ok']);
      expect(states(byId(m, 'node/node-amd64'))).toMatchObject({ aarch64: 'ready', riscv64: 'ready' });
      const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
      process.env.KUBECONFIG = '';
      process.env.HOME = work; // no ~/.kube/config there
      try {
        const before = fake.requests.length;
        const none = await new ContextFleetGateway({ boundMs: BOUND_S * 1000 }).status({ contexts: ['refused'] });
        expect(none.hosts.map((h) => h.id)).toEqual(['refused']);
        expect(fake.requests.length).toBe(before);
      } finally {
        process.env.KUBECONFIG = saved.KUBECONFIG;
        process.env.HOME = saved.HOME;
      }
    } finally {
      await env.restore();
    }
  });

  it('a cluster that hangs is one row "no answer" within the bound, its connections closed, while the contexts complete', async () => {
    const env = await fleetEnv();
    const apiHang = await hangingApiServer();
    const kubeconfig = path.join(work, 'kubeconfig-hang');
    fs.writeFileSync(kubeconfig, JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'stuck', cluster: { server: `http://127.0.0.1:${apiHang.port}`, 'insecure-skip-tls-verify': true } }], users: [{ name: 'u', user: { token: 't' } }], contexts: [{ name: 'stuck', context: { cluster: 'stuck', user: 'u' } }], 'current-context': 'stuck' }));
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = kubeconfig;
    try {
      const t0 = Date.now();
      const r = await cli(['fleet', 'status', 'here', 'refused', '--kube', '--json', '--timeout', String(BOUND_S), '--registrar', REGISTRAR]);
      const took = Date.now() - t0;
      const m = JSON.parse(r.stdout) as FleetMatrix;
      expect(m.hosts.map((h) => `${h.kind} ${h.id} ${h.reach}`)).toEqual(['docker-context here ok', 'docker-context refused refused', 'kubernetes-cluster cluster/stuck timeout']);
      expect(byId(m, 'cluster/stuck')!.error!.message).toMatch(/the cluster of context "stuck" did not answer within 3 s/);
      expect(byId(m, 'refused')!.ms!).toBeLessThan(BOUND_S * 1000);
      expect(r.code).toBe(3);
      expect(took).toBeLessThan(BOUND_S * 1000 + 2500);
      // The client's requests were aborted, not left hanging (they would keep the CLI process alive).
      await apiHang.idle();
    } finally {
      process.env.KUBECONFIG = saved;
      await apiHang.close();
      await env.restore();
    }
  });

  it('kube status reports a node whose entry differs as a conflict (exit 1), with its own words', async () => {
    // Someone else's qemu-riscv64 on the arm64 node; its pod restarts.
    const reg = buildRegister(catalogRule('riscv64', '/usr/bin/qemu-riscv64-static', 'PF'));
    const write = (file: string, data: string) => nodes[1]!.ns.run(['/usr/bin/python3', '-c', 'import sys; open(sys.argv[1], "w").write(sys.argv[2])', file, data]);
    expect((await write('/proc/sys/fs/binfmt_misc/qemu-riscv64', '-1')).code).toBe(0);
    const put = await write('/proc/sys/fs/binfmt_misc/register', reg);
    expect(put.code, put.stderr).toBe(0);
    fake.restartPods();
    const r = await cli(['kube', 'status']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^node-arm64\s+kube:fake\s+aarch64\s+-\s+\?\s+\?\s+native\s+conflict/m);
    expect(r.stdout).toMatch(/node-arm64: qemu-riscv64: an entry of this name differs: left alone/);
    // Left alone: still theirs.
    expect((await nodes[1]!.ns.snapshot())['qemu-riscv64']).toContain('flags: PF\n');
    const json = JSON.parse((await cli(['kube', 'status', '--json'])).stdout) as { nodes: { name: string; cells: { cpu: string; state: string }[] }[] };
    expect(json.nodes.find((n) => n.name === 'node-amd64')!.cells.map((c) => `${c.cpu}=${c.state}`)).toEqual(['i386=native', 'i486=native', 'aarch64=ready', 'riscv64=ready', 'x86_64=native']);
  });

  it('kube delete runs the uninstall DaemonSet re-planned from the installed ones: removes exactly its entries', async () => {
    const r = await cli(['kube', 'delete', '--timeout', '30']);
    expect(fake.unknown).toEqual([]);
    expect(r.stdout).toContain('node-amd64: qemu-aarch64 removed, qemu-riscv64 removed');
    expect(r.stdout).toMatch(/node-arm64: qemu-riscv64 different/);
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(await nodes[0]!.ns.snapshot())).toEqual(['status']);
    expect((await nodes[1]!.ns.snapshot())['qemu-riscv64']).toContain('flags: PF\n'); // not ours: kept
    // Everything Archway made is gone, its own namespace included.
    expect([...fake.store.keys()]).toEqual([]);
  });

  it('a cluster that does not answer is reported as unavailable (exit 3)', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const kubeconfig = path.join(work, 'kubeconfig-refused');
    fs.writeFileSync(kubeconfig, JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'gone', cluster: { server: `https://127.0.0.1:${port}` } }], users: [{ name: 'u', user: {} }], contexts: [{ name: 'gone', context: { cluster: 'gone', user: 'u' } }], 'current-context': 'gone' }));
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = kubeconfig;
    try {
      const r = await cli(['kube', 'status']);
      expect(r.stderr).toMatch(/the cluster of context "gone" does not answer/);
      expect(r.code).toBe(3);
    } finally {
      process.env.KUBECONFIG = saved;
    }
  });

  it('kube status with no cluster configured exits 3 and says what to do', async () => {
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = '';
    const home = process.env.HOME;
    process.env.HOME = work; // no ~/.kube/config there
    try {
      const r = await cli(['kube', 'status']);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/no Kubernetes cluster is configured/);
    } finally {
      process.env.KUBECONFIG = saved;
      process.env.HOME = home;
    }
  });
});
