// The probe matrix against a real local registry (Debian's docker-registry on loopback) serving a
// multi-platform manifest list, so pulls with `platform` and their progress are real.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeEvent, PullProgress } from '../../shared/probe';
import type { Connection } from '../../electron/container/endpoint';
import { runProbeCommand } from '../../electron/cli/probe';
import { cacheKey, imagePlatforms, inspectImage, memoryImageCache, pullImage } from '../../electron/container/images';
import { probe, probeMatrix } from '../../electron/container/probe';
import { buildBusyboxImage } from '../fixtures/image';
import type { DebArch } from '../fixtures/foreign';
import { pushImageArchive, pushManifestList, startRegistry, type ManifestDescriptor, type Registry } from '../fixtures/registry';
import { setHandler, snapshotBinfmt, type BinfmtSnapshot } from './binfmt-snapshot';
import { ensureDockerd, type DockerdHandle } from './dockerd';
import { connectTo, HANDLER_CPUS, labelled, removeImage, X86_64_HOST } from './env';

const execFileP = promisify(execFile);

const MATRIX: { deb: DebArch; platform: string; uname: string }[] = [
  { deb: 'arm64', platform: 'linux/arm64', uname: 'aarch64' },
  { deb: 'armhf', platform: 'linux/arm/v7', uname: 'armv7l' },
  { deb: 'ppc64el', platform: 'linux/ppc64le', uname: 'ppc64le' },
  { deb: 's390x', platform: 'linux/s390x', uname: 's390x' },
  { deb: 'mips64el', platform: 'linux/mips64le', uname: 'mips64' },
  { deb: 'i386', platform: 'linux/386', uname: 'x86_64' },
];

describe.runIf(X86_64_HOST)('probe matrix through a local registry', () => {
  let dockerd: DockerdHandle;
  let conn: Connection;
  let binfmt: BinfmtSnapshot;
  let registry: Registry;
  let image = '';
  const seenIds = new Set<string>();

  beforeAll(async () => {
    dockerd = await ensureDockerd({ isolated: true }); // private: other runs may stop the shared daemon
    conn = await connectTo(dockerd);
    binfmt = await snapshotBinfmt();
    for (const cpu of HANDLER_CPUS) setHandler(cpu);
    registry = await startRegistry();
    const entries: ManifestDescriptor[] = [];
    for (const m of MATRIX) {
      const built = await buildBusyboxImage({ arch: m.deb, tag: `archway-test/multi:${m.deb}` });
      entries.push(await pushImageArchive(registry, 'archway-test/multi', m.deb, built));
    }
    await pushManifestList(registry, 'archway-test/multi', 'latest', entries);
    image = `${registry.host}/archway-test/multi:latest`;
  });

  afterAll(async () => {
    try {
      if (conn) {
        await removeImage(conn, image);
        for (const id of seenIds) await removeImage(conn, id);
      }
    } finally {
      await registry?.stop();
      await binfmt?.restore();
      await dockerd?.stop();
    }
  });

  it('lists the platforms the registry offers before running', async () => {
    const offered = await imagePlatforms(conn, image);
    expect(offered.source).toBe('registry');
    expect(offered.platforms.sort()).toEqual(['linux/386', 'linux/arm/v7', 'linux/arm64/v8', 'linux/mips64le', 'linux/ppc64le', 'linux/s390x']);
  });

  it('pulls one platform with progress events: layers, bytes, percent', async () => {
    // A layer no engine has seen (a nonce file), so the engine really downloads it.
    const built = await buildBusyboxImage({ arch: 's390x', tag: 'archway-test/progress:s390x', extraFiles: [{ path: '/etc/nonce', content: randomBytes(16).toString('hex') }] });
    await pushImageArchive(registry, 'archway-test/progress', 'fresh', built);
    const ref = `${registry.host}/archway-test/progress:fresh`;
    const progress: PullProgress[] = [];
    await pullImage(conn, ref, 'linux/s390x', { onProgress: (p) => progress.push(p) });
    const img = await inspectImage(conn, ref);
    expect(img).toMatchObject({ id: built.imageId, architecture: 's390x' });
    seenIds.add(img!.id);
    expect(progress.length).toBeGreaterThan(1);
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ percent: 100, layersDone: 1, layersTotal: 1 });
    expect(last.bytesTotal).toBeGreaterThan(500_000); // the gzipped busybox layer was really downloaded
    expect(last.bytesDone).toBe(last.bytesTotal);
    expect(progress.map((p) => p.percent)).toEqual([...progress.map((p) => p.percent)].sort((a, b) => a - b));
    expect(progress.some((p) => p.status === 'Downloading')).toBe(true);
  });

  it('probes six platforms concurrently, streaming results, each by its own image ID', async () => {
    const events: ProbeEvent[] = [];
    let settledAt = 0;
    const resultTimes: number[] = [];
    const results = await probeMatrix({ conn, image, platforms: MATRIX.map((m) => m.platform) }, (e) => {
      events.push(e);
      if (e.type === 'result') resultTimes.push(Date.now());
    }).finally(() => (settledAt = Date.now()));
    expect(results.map((r) => [r.platform, r.status, r.observed])).toEqual(MATRIX.map((m) => [m.platform, 'ok', m.uname]));
    expect(events[0]).toMatchObject({ type: 'platforms', source: 'registry' });
    expect(events.filter((e) => e.type === 'pull').length).toBeGreaterThanOrEqual(6);
    expect(results.every((r) => r.pulled)).toBe(true);
    const ids = new Set(results.map((r) => r.imageId));
    expect(ids.size).toBe(6);
    for (const id of ids) seenIds.add(id!);
    expect(resultTimes).toHaveLength(6);
    expect(Math.max(...resultTimes)).toBeLessThanOrEqual(settledAt);
    expect(await labelled(conn)).toEqual([]);
  });

  it('streams each result as it finishes, not at the end', async () => {
    // The native platform waits for a gate file that this test creates only after the emulated
    // platforms' results have arrived: an event order, no clock (busybox applets run from a shell
    // need QEMU's P flag when emulated; natively they just work).
    const order: string[] = [];
    let othersArrived!: () => void;
    const others = new Promise<void>((r) => (othersArrived = r));
    const run = probeMatrix(
      {
        conn,
        image,
        platforms: ['linux/386', 'linux/arm64', 'linux/s390x'],
        command: ['sh', '-c', 'if [ "$(uname -m)" = x86_64 ]; then while [ ! -e /archway-go ]; do sleep 0.05; done; fi; uname -m'],
      },
      (e) => {
        if (e.type !== 'result') return;
        order.push(e.result.platform);
        if (order.includes('linux/arm64') && order.includes('linux/s390x')) othersArrived();
      },
    );
    await others;
    expect(order).not.toContain('linux/386');
    // The 386 probe is still running, held by the gate: the two results came before the end.
    const running = (await labelled(conn)).filter((c) => c.State === 'running');
    expect(running).toHaveLength(1);
    await execFileP('docker', ['-H', `unix://${dockerd.socket}`, 'exec', running[0]!.Id, 'sh', '-c', ': > /archway-go']);
    const results = await run;
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    expect(order).toHaveLength(3);
    expect(order[2]).toBe('linux/386');
  });

  it('a second run of an unchanged image pulls nothing: platform image IDs are remembered by index digest', async () => {
    const cache = memoryImageCache();
    await probeMatrix({ conn, image, platforms: MATRIX.map((m) => m.platform), imageCache: cache });
    const events: ProbeEvent[] = [];
    const again = await probeMatrix({ conn, image, platforms: MATRIX.map((m) => m.platform), imageCache: cache }, (e) => events.push(e));
    expect(again.map((r) => r.status)).toEqual(Array(6).fill('ok'));
    // The tag holds one platform; the other five come from the cache, none from a pull.
    expect(again.filter((r) => r.pulled)).toEqual([]);
    expect(events.filter((e) => e.type === 'pull' || (e.type === 'phase' && e.phase === 'pulling'))).toEqual([]);
    // A cached ID that no longer names a matching image is not trusted: it is pulled again.
    const poisoned = memoryImageCache();
    const offered = await imagePlatforms(conn, image);
    poisoned.set(cacheKey(image, offered.digest!, 'linux/s390x'), again[0]!.imageId!); // the arm64 image
    const [s390x] = await probeMatrix({ conn, image, platforms: ['linux/s390x'], imageCache: poisoned });
    expect(s390x).toMatchObject({ status: 'ok', observed: 's390x' });
  });

  it('the probe container has its own network namespace with loopback only', async () => {
    const self = fs.readlinkSync('/proc/self/ns/net');
    const [r] = await probeMatrix({ conn, image, platforms: ['linux/386'], command: ['sh', '-c', 'ls -l /proc/self/ns/net; ls /sys/class/net'] });
    expect(r!.status).toBe('ok');
    const ns = /net:\[\d+\]/.exec(r!.stdout.text)?.[0];
    expect(ns).toBeDefined();
    expect(ns).not.toBe(self);
    expect(r!.stdout.text.trim().split('\n').slice(1)).toEqual(['lo']);
  });

  it('puts the tag back where it was (classic store: a tag holds one platform)', async () => {
    await pullImage(conn, image, 'linux/arm/v7');
    const before = await inspectImage(conn, image);
    expect(before?.architecture).toBe('arm');
    const results = await probeMatrix({ conn, image, platforms: ['linux/s390x', 'linux/ppc64le'] });
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok']);
    expect((await inspectImage(conn, image))?.id).toBe(before!.id);
  });

  it('two matrices on the same tag at once do not race', async () => {
    const platforms = MATRIX.map((m) => m.platform);
    const [a, b] = await Promise.all([probeMatrix({ conn, image, platforms }), probeMatrix({ conn, image, platforms: [...platforms].reverse() })]);
    expect([...a, ...b].map((r) => r.status)).toEqual(Array(12).fill('ok'));
    for (const r of [...a, ...b]) expect(r.imagePlatform).toMatch(new RegExp(`^${r.platform}`));
  });

  it('pull-failed for a platform the image does not offer, and for a missing repository', async () => {
    const [riscv] = await probeMatrix({ conn, image, platforms: ['linux/riscv64'] });
    expect(riscv!.status).toBe('pull-failed');
    expect(riscv!.message).toMatch(/no matching manifest|not found|does not/i);
    const missing = await probe({ conn, platform: 'linux/arm64', image: `${registry.host}/archway-test/nope:1` });
    expect(missing.status).toBe('pull-failed');
    expect(missing.message).toMatch(/not found|manifest unknown/i);
    expect(missing.fix).toMatch(/image name/);
  });

  it('`archway probe --json` exits 0 when every platform is ok and prints every result', async () => {
    let out = '';
    const code = await runProbeCommand(['--platform', 'linux/arm64,linux/mips64le', '--image', image, '--json', '--timeout', '30'], {
      stdout: (s) => (out += s),
      stderr: (s) => (out += s),
      connection: conn,
    });
    expect(code).toBe(0);
    const doc = JSON.parse(out) as { ok: boolean; results: { platform: string; status: string }[]; offered: { platforms: string[] }; engine: { apiVersion: string } };
    expect(doc.ok).toBe(true);
    expect(doc.results.map((r) => [r.platform, r.status])).toEqual([
      ['linux/arm64', 'ok'],
      ['linux/mips64le', 'ok'],
    ]);
    expect(doc.offered.platforms).toHaveLength(6);
  });

  it('`archway probe` prints live lines and a table, and exits 1 unless every probe is ok', async () => {
    let out = '';
    const code = await runProbeCommand(['--platform', 'linux/s390x', '--platform', 'linux/riscv64', '--image', image, '--', 'sh', '-c', 'echo hello from $(uname -m)'], {
      stdout: (s) => (out += s),
      stderr: (s) => (out += s),
      connection: conn,
    });
    expect(code).toBe(1);
    expect(out).toMatch(/offers linux\//);
    expect(out).toMatch(/linux\/s390x\s+\| hello from s390x/);
    expect(out).toMatch(/linux\/s390x\s+✓ ok/);
    expect(out).toMatch(/^PLATFORM\s+STATUS/m);
    expect(out).toMatch(/^linux\/riscv64\s+pull-failed/m);
    expect(out).toMatch(/1 of 2 platform\(s\) not ok/);
  });
});
