/**
 * Benchmark: the 6-platform probe matrix through Archway vs `docker run --rm --platform P IMAGE
 * uname -m`, run as a sequential loop and as the same loop in parallel. Targets: Archway ≤ 0.5× the
 * sequential loop and ≤ 0.85× the parallel loop.
 *
 * Real parts only: Debian's dockerd (started if none answers), Debian's docker-registry on loopback
 * serving a 6-platform manifest list built from Debian busybox-static, and Debian's static QEMU
 * registered in the host's binfmt_misc (snapshot and restored). Needs root and an x86_64 host.
 *
 * Run: `sudo node bench/probe-matrix.mjs [ROUNDS]` (bundles this file with esbuild; tsx is not a
 * dependency), or `sudo npm run bench -- probe`.
 */
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { connect } from '../electron/container/endpoint';
import { call } from '../electron/container/api';
import { inspectImage, memoryImageCache, pullImage } from '../electron/container/images';
import { probeMatrix } from '../electron/container/probe';
import { buildBusyboxImage } from '../test/fixtures/image';
import type { DebArch } from '../test/fixtures/foreign';
import { pushImageArchive, pushManifestList, startRegistry, type ManifestDescriptor } from '../test/fixtures/registry';
import { setHandler, snapshotBinfmt } from '../test/docker/binfmt-snapshot';
import { ensureDockerd } from '../test/docker/dockerd';

const PLATFORMS: { deb: DebArch; platform: string; cpu?: string }[] = [
  { deb: 'arm64', platform: 'linux/arm64', cpu: 'aarch64' },
  { deb: 'armhf', platform: 'linux/arm/v7', cpu: 'arm' },
  { deb: 'ppc64el', platform: 'linux/ppc64le', cpu: 'ppc64le' },
  { deb: 's390x', platform: 'linux/s390x', cpu: 's390x' },
  { deb: 'mips64el', platform: 'linux/mips64le', cpu: 'mips64el' },
  { deb: 'i386', platform: 'linux/386' },
];

interface Run {
  ms: number;
  failures: string[];
}

function dockerRun(socket: string, image: string, platform: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('docker', ['--host', `unix://${socket}`, 'run', '--rm', '--platform', platform, image, 'uname', '-m'], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) resolve(`${platform}: ${(stderr || err.message).trim().split('\n').find((l) => /error/i.test(l)) ?? (stderr || err.message).trim()}`);
      else resolve(stdout.trim() ? undefined : `${platform}: no output`);
    });
  });
}

async function timed(f: () => Promise<string[]>): Promise<Run> {
  const t = performance.now();
  const failures = await f();
  return { ms: performance.now() - t, failures };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0 || os.machine() !== 'x86_64') throw new Error('run as root on an x86_64 host (it starts dockerd and registers QEMU handlers)');
  const rounds = Math.max(1, Number(process.argv[2] ?? 5));
  const dockerd = await ensureDockerd();
  const binfmt = await snapshotBinfmt();
  const registry = await startRegistry();
  const pulled = new Set<string>();
  let cleanup: (() => Promise<void>) | undefined;
  try {
    for (const p of PLATFORMS) if (p.cpu) setHandler(p.cpu);
    const entries: ManifestDescriptor[] = [];
    for (const p of PLATFORMS) {
      const built = await buildBusyboxImage({ arch: p.deb, tag: `archway-bench/multi:${p.deb}` });
      entries.push(await pushImageArchive(registry, 'archway-bench/multi', p.deb, built));
    }
    await pushManifestList(registry, 'archway-bench/multi', 'latest', entries);
    const image = `${registry.host}/archway-bench/multi:latest`;
    const conn = await connect({ endpoint: { kind: 'unix', socketPath: dockerd.socket, source: 'explicit' } });
    cleanup = async () => {
      // The daemon may be shared: remove what this run pulled into it.
      for (const id of pulled) await call(conn, { method: 'DELETE', path: `/images/${id}`, query: { force: true } }).catch(() => undefined);
    };
    // Warm every platform so no approach pays for downloads.
    for (const p of PLATFORMS) {
      await pullImage(conn, image, p.platform);
      const img = await inspectImage(conn, image);
      if (img) pulled.add(img.id);
    }
    const platforms = PLATFORMS.map((p) => p.platform);

    const failed = (rs: { platform: string; status: string; message: string }[]) => rs.filter((r) => r.status !== 'ok').map((r) => `${r.platform}: ${r.status} ${r.message}`);
    const approaches: Record<'archway' | 'archwayCold' | 'sequential' | 'parallel', () => Promise<string[]>> = {
      // As the app and CLI run it: platform image IDs remembered by index digest, so no pulls.
      archway: async () => failed(await probeMatrix({ conn, image, platforms, listPlatforms: true })),
      // A first run: nothing remembered, every platform but the tag's is pulled (from cache layers).
      archwayCold: async () => failed(await probeMatrix({ conn, image, platforms, listPlatforms: true, imageCache: memoryImageCache() })),
      sequential: async () => {
        const f: string[] = [];
        for (const p of platforms) {
          const e = await dockerRun(dockerd.socket, image, p);
          if (e) f.push(e);
        }
        return f;
      },
      parallel: async () => (await Promise.all(platforms.map((p) => dockerRun(dockerd.socket, image, p)))).filter((e): e is string => !!e),
    };
    const results: Record<string, Run[]> = { archway: [], archwayCold: [], sequential: [], parallel: [] };
    const order = ['archway', 'sequential', 'archwayCold', 'parallel'] as const;
    await approaches.archway(); // one unmeasured round each: JIT, page cache
    await approaches.sequential();
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < order.length; i++) {
        const name = order[(i + r) % order.length]!;
        results[name]!.push(await timed(approaches[name]));
      }
    }
    const med = (k: string) => median(results[k]!.map((x) => x.ms));
    const fails = (k: string) => results[k]!.reduce((n, x) => n + x.failures.length, 0);
    const a = med('archway');
    const s = med('sequential');
    const p = med('parallel');
    const line = (k: string, ms: number) => `  ${k.padEnd(12)} median ${(ms / 1000).toFixed(3)} s over ${rounds} rounds, ${fails(k)} failed probe(s)`;
    console.log(`probe matrix, ${platforms.length} platforms (${platforms.join(', ')}), ${os.cpus().length} CPUs, engine ${conn.info.name} ${conn.info.version} (${conn.info.imageStore} store)`);
    console.log(line('archway', a));
    console.log(line('archwayCold', med('archwayCold')));
    console.log(line('sequential', s));
    console.log(line('parallel', p));
    const rs = a / s;
    const rp = a / p;
    console.log(`${rs <= 0.5 ? 'PASS' : 'MISS'}  probe matrix vs sequential docker run: ${(a / 1000).toFixed(3)} s vs ${(s / 1000).toFixed(3)} s = ${rs.toFixed(3)}× (target ≤ 0.5×)`);
    console.log(`${rp <= 0.85 ? 'PASS' : 'MISS'}  probe matrix vs parallel docker run: ${(a / 1000).toFixed(3)} s vs ${(p / 1000).toFixed(3)} s = ${rp.toFixed(3)}× (target ≤ 0.85×; ${fails('parallel')} parallel CLI probe(s) failed)`);
    const c = med('archwayCold');
    console.log(`first run (nothing remembered): archway/sequential = ${(c / s).toFixed(3)}, archway/parallel = ${(c / p).toFixed(3)}`);
    for (const k of ['archway', 'archwayCold', 'sequential', 'parallel']) {
      const sample = results[k]!.flatMap((x) => x.failures)[0];
      if (sample) console.log(`a ${k} failure, for the record: ${sample}`);
    }
    console.log(JSON.stringify({ platforms: platforms.length, rounds, archwayMs: a, archwayColdMs: c, sequentialMs: s, parallelMs: p, ratioSequential: rs, ratioParallel: rp, failures: { archway: fails('archway'), archwayCold: fails('archwayCold'), sequential: fails('sequential'), parallel: fails('parallel') } }));
    if (fails('archway') + fails('archwayCold') > 0) process.exitCode = 1;
  } finally {
    await cleanup?.();
    await registry.stop();
    await binfmt.restore();
    await dockerd.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
