// Podman as a second real engine: probes, a matrix from a multi-platform index, emulator fetch from
// a pinned image, and the CLI — all through Podman's Docker-compatible API (a rootful
// `podman system service` with private storage), next to the dockerd suites.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Connection } from '../../electron/container/endpoint';
import { extractEmulators } from '../../electron/container/emulator-image';
import type { PinnedImage } from '../../electron/container/pins';
import { memoryImageCache } from '../../electron/container/images';
import { probe, probeMatrix } from '../../electron/container/probe';
import { buildBusyboxImage } from '../fixtures/image';
import { REPO_ROOT } from '../fixtures/foreign';
import { pushImageArchive, pushManifestList, startRegistry, type ManifestDescriptor, type Registry } from '../fixtures/registry';
import { runArgv } from '../kernel/namespace';
import { DockerGateway } from '../../electron/main/docker';
import { BINFMT_DIR, removeHandler, setHandler, snapshotBinfmt, type BinfmtSnapshot } from './binfmt-snapshot';
import { controlThroughContainerEngine, registerThroughContainerEngine } from '../../electron/container/register';
import { buildRegister } from '../../shared/binfmt/register';
import { parseProcEntry } from '../../shared/binfmt/entry';
import { catalogRule } from '../../shared/status';
import { labelled, loadBusybox, loadNativeBusybox, pushFakeBinfmtImage, X86_64_HOST } from './env';
import { podmanAvailable, startPodman, type PodmanHandle } from './podman';

const CLI = path.join(REPO_ROOT, 'dist/cli/archway.mjs');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe.runIf(X86_64_HOST && process.getuid?.() === 0 && podmanAvailable())('Podman as the engine', () => {
  let podman: PodmanHandle;
  let conn: Connection;
  let registry: Registry;
  let binfmt: BinfmtSnapshot;
  let pin: PinnedImage;
  let multi: string;

  beforeAll(async () => {
    registry = await startRegistry();
    podman = await startPodman({ insecureRegistries: [registry.host] });
    conn = await connect({ endpoint: { kind: 'unix', socketPath: podman.socket, source: 'explicit' }, env: {} });
    binfmt = await snapshotBinfmt();
    setHandler('aarch64');
    setHandler('s390x');
    await loadNativeBusybox(conn, 'archway-test/podman:amd64');
    await loadBusybox(conn, 'arm64', 'archway-test/podman:arm64');
    const entries: ManifestDescriptor[] = [];
    for (const deb of ['arm64', 's390x'] as const) {
      const built = await buildBusyboxImage({ arch: deb, tag: `archway-test/podman-multi:${deb}` });
      entries.push(await pushImageArchive(registry, 'archway-test/podman-multi', deb, built));
    }
    await pushManifestList(registry, 'archway-test/podman-multi', 'latest', entries);
    multi = `${registry.host}/archway-test/podman-multi:latest`;
    pin = await pushFakeBinfmtImage(registry, [{ path: '/usr/bin/qemu-aarch64', content: fs.readFileSync('/usr/bin/qemu-aarch64-static'), mode: 0o755 }]);
  }, 180_000);

  afterAll(async () => {
    try {
      conn?.close();
      await binfmt?.restore();
    } finally {
      await podman?.stop();
      await registry?.stop();
    }
  }, 120_000);

  it('is described as Podman, with the machine name probes compare with', () => {
    expect(conn.info).toMatchObject({ name: 'Podman Engine', hostMachine: 'x86_64', rootless: false, usingApiVersion: conn.info.apiVersion });
    expect(conn.info.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('probes a native and a foreign image (through the host\'s QEMU handler); nothing is left behind', async () => {
    const native = await probe({ conn, platform: 'linux/amd64', image: 'archway-test/podman:amd64', pull: 'never' });
    expect(native, native.message).toMatchObject({ status: 'ok', observed: 'x86_64', exitCode: 0 });
    const arm = await probe({ conn, platform: 'linux/arm64', image: 'archway-test/podman:arm64', pull: 'never' });
    expect(arm, arm.message).toMatchObject({ status: 'ok', observed: 'aarch64', exitCode: 0 });
    expect(await labelled(conn)).toEqual([]);
  });

  it('a matrix from a multi-platform index: each platform pulled and run', async () => {
    const results = await probeMatrix({ conn, image: multi, platforms: ['linux/arm64', 'linux/s390x'], imageCache: memoryImageCache() });
    expect(results.map((r) => [r.platform, r.status, r.observed]), results.map((r) => r.message).join('\n')).toEqual([
      ['linux/arm64', 'ok', 'aarch64'],
      ['linux/s390x', 'ok', 's390x'],
    ]);
    expect(await labelled(conn)).toEqual([]);
  });

  it('extracts an emulator from the pinned image by digest, bytes intact', async () => {
    const { dir, emulators } = await extractEmulators(conn, { cpus: ['arm64'], image: pin });
    try {
      expect(emulators).toHaveLength(1);
      const e = emulators[0]!;
      expect(e.cpu).toBe('aarch64');
      expect(sha(fs.readFileSync(e.file))).toBe(sha(fs.readFileSync('/usr/bin/qemu-aarch64-static')));
      expect(e.provenance).toMatchObject({ digest: pin.digest });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(await labelled(conn)).toEqual([]);
  });

  it('the CLI probes through Podman as a process (DOCKER_HOST)', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${podman.socket}` };
    delete env.DOCKER_CONTEXT;
    delete env.DOCKER_API_VERSION;
    const r = await runArgv([process.execPath, CLI, 'probe', '--platform', 'linux/arm64', '--image', 'archway-test/podman:arm64', '--pull', 'never', '--json'], { env, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { engine: { name: string }; results: { status: string; observed: string }[] };
    expect(out.engine.name).toBe('Podman Engine');
    expect(out.results).toMatchObject([{ status: 'ok', observed: 'aarch64' }]);
  });

  it('the window\'s live view follows Podman\'s event stream (a container run is noticed)', async () => {
    const gateway = new DockerGateway({ env: { DOCKER_HOST: `unix://${podman.socket}` } });
    let calls = 0;
    const waiters: { n: number; resolve: () => void }[] = [];
    const reached = (n: number) => new Promise<void>((resolve) => (calls >= n ? resolve() : waiters.push({ n, resolve })));
    const stop = gateway.watch(() => {
      calls++;
      for (const w of waiters.filter((x) => calls >= x.n)) w.resolve();
    });
    try {
      await reached(1); // the stream is open
      const before = calls;
      const r = await probe({ conn, platform: 'linux/amd64', image: 'archway-test/podman:amd64', pull: 'never' });
      expect(r.status, r.message).toBe('ok');
      await reached(before + 1);
      expect((await gateway.view(false)).state).toBe('connected');
    } finally {
      stop();
    }
  });

  it('the engine backend registers through a privileged Podman container: the helper\'s exact string, and removes it', async () => {
    const QEMU = '/usr/bin/qemu-s390x-static';
    removeHandler('qemu-s390x');
    const before = await probe({ conn, platform: 'linux/s390x', image: multi });
    expect(before.status, before.message).toBe('no-handler');
    const registrar = { image: { ref: 'archway-test/podman:amd64', platform: 'linux/amd64' } };
    const [r] = await registerThroughContainerEngine(conn, [{ cpu: 's390x', interpreter: QEMU, flags: 'F' }], { registrar });
    const expected = buildRegister(catalogRule('s390x', QEMU, 'F'));
    expect(r).toMatchObject({ cpu: 's390x', name: 'qemu-s390x', register: expected, changed: true });
    const entry = parseProcEntry('qemu-s390x', fs.readFileSync(path.join(BINFMT_DIR, 'qemu-s390x'), 'utf8'));
    expect(buildRegister(entry.rule)).toBe(expected);
    const after = await probe({ conn, platform: 'linux/s390x', image: multi });
    expect(after, after.message).toMatchObject({ status: 'ok', observed: 's390x' });
    await controlThroughContainerEngine(conn, ['qemu-s390x'], '-1', { registrar });
    expect(fs.existsSync(path.join(BINFMT_DIR, 'qemu-s390x'))).toBe(false);
    expect(await labelled(conn)).toEqual([]);
  });
});
