/**
 * Benchmark: probing platforms with Archway against `docker run --rm --platform P IMAGE uname -m`,
 * over the same local images, in one run with same-run baselines. Like is compared with like:
 *
 * Whole processes (what users and CI see; targets):
 *   - `archway probe` of 6 platforms as a process ≤ 0.5× the sequential `docker run` loop and
 *     ≤ 0.85× the same loop run in parallel;
 *   - `archway probe` of 1 platform as a process ≤ 1.2× one `docker run`.
 * In-process (the library on a warm connection; printed for reference, no target: a function call
 * is not comparable with processes): probeMatrix with its image cache warm and cold.
 *
 * Real parts only: Debian's dockerd (started if none answers), Debian's docker-registry on loopback
 * serving a 6-platform manifest list built from Debian busybox-static, and Debian's static QEMU
 * registered in the host's binfmt_misc (snapshot and restored). Needs root and an x86_64 host.
 *
 * Run: `sudo node bench/probe-matrix.mjs [ROUNDS]` (bundles this file with esbuild; tsx is not a
 * dependency), or `sudo npm run bench -- probe`. Exits 1 when a target is missed.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
    // --network none, as Archway's probe containers: the comparison is about running, not networking.
    execFile('docker', ['--host', `unix://${socket}`, 'run', '--rm', '--network', 'none', '--platform', platform, image, 'uname', '-m'], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) resolve(`${platform}: ${(stderr || err.message).trim().split('\n').find((l) => /error/i.test(l)) ?? (stderr || err.message).trim()}`);
      else resolve(stdout.trim() ? undefined : `${platform}: no output`);
    });
  });
}

const CLI = path.resolve(process.env.ARCHWAY_BENCH_CLI ?? 'bin/archway.cjs');
/** The Node the CLI runs on as a process (run.mjs passes Node 24 when the repository has it). */
const NODE = process.env.ARCHWAY_BENCH_NODE || process.execPath;

/** `archway probe` as a whole process; resolves to its failures (none when every probe is ok). */
function archwayProcess(socket: string, image: string, platforms: string[], cacheHome: string): Promise<string[]> {
  return new Promise((resolve) => {
    execFile(
      NODE,
      [CLI, 'probe', '--platform', platforms.join(','), '--image', image, '--json'],
      { timeout: 180_000, env: { ...process.env, DOCKER_HOST: `unix://${socket}`, XDG_CACHE_HOME: cacheHome, DOCKER_CONTEXT: '' } },
      (err, stdout, stderr) => {
        try {
          const out = JSON.parse(stdout) as { results?: { platform: string; status: string; message: string }[] };
          resolve((out.results ?? []).filter((r) => r.status !== 'ok').map((r) => `${r.platform}: ${r.status} ${r.message}`));
        } catch {
          resolve([`archway probe exited ${err ? (err as { code?: unknown }).code : 0}: ${stderr.trim().split('\n').pop() ?? ''}`]);
        }
      },
    );
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
      conn.close();
    };
    // Warm every platform so no approach pays for downloads.
    for (const p of PLATFORMS) {
      await pullImage(conn, image, p.platform);
      const img = await inspectImage(conn, image);
      if (img) pulled.add(img.id);
    }
    const platforms = PLATFORMS.map((p) => p.platform);

    const cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), 'archway-bench-cache-'));
    const one = platforms[0]!;
    const failed = (rs: { platform: string; status: string; message: string }[]) => rs.filter((r) => r.status !== 'ok').map((r) => `${r.platform}: ${r.status} ${r.message}`);
    const approaches = {
      // Whole processes.
      process6: () => archwayProcess(dockerd.socket, image, platforms, cacheHome),
      sequential: async () => {
        const f: string[] = [];
        for (const p of platforms) {
          const e = await dockerRun(dockerd.socket, image, p);
          if (e) f.push(e);
        }
        return f;
      },
      parallel: async () => (await Promise.all(platforms.map((p) => dockerRun(dockerd.socket, image, p)))).filter((e): e is string => !!e),
      process1: () => archwayProcess(dockerd.socket, image, [one], cacheHome),
      dockerRun1: async () => {
        const e = await dockerRun(dockerd.socket, image, one);
        return e ? [e] : [];
      },
      // In-process (reference only): as the app runs it, platform image IDs remembered by index digest…
      inProcess: async () => failed(await probeMatrix({ conn, image, platforms, listPlatforms: true })),
      // …and a first run: nothing remembered, every platform but the tag's is pulled (from cache layers).
      inProcessCold: async () => failed(await probeMatrix({ conn, image, platforms, listPlatforms: true, imageCache: memoryImageCache() })),
    } satisfies Record<string, () => Promise<string[]>>;
    type Name = keyof typeof approaches;
    const order = Object.keys(approaches) as Name[];
    const results = Object.fromEntries(order.map((k) => [k, [] as Run[]])) as Record<Name, Run[]>;
    // One unmeasured round of each: JIT, page cache, Archway's image cache file.
    for (const k of order) await approaches[k]();
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < order.length; i++) {
        const name = order[(i + r) % order.length]!;
        results[name].push(await timed(approaches[name]));
      }
    }
    fs.rmSync(cacheHome, { recursive: true, force: true });
    const med = (k: Name) => median(results[k].map((x) => x.ms));
    const fails = (k: Name) => results[k].reduce((n, x) => n + x.failures.length, 0);
    const secs = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
    const nodeVersion = await new Promise<string>((res) => execFile(NODE, ['--version'], (_e, out) => res(out.trim())));
    console.log(`probe, ${platforms.length} platforms (${platforms.join(', ')}), ${os.cpus().length} CPUs, engine ${conn.info.name} ${conn.info.version} (${conn.info.imageStore} store), archway on Node ${nodeVersion}, median of ${rounds} rounds`);
    console.log('  whole processes:');
    for (const k of ['process6', 'sequential', 'parallel', 'process1', 'dockerRun1'] as const) console.log(`    ${k.padEnd(14)} ${secs(med(k))}  (${fails(k)} failed probe(s))`);
    console.log('  in-process (reference; a library call on a warm connection, not comparable with processes):');
    for (const k of ['inProcess', 'inProcessCold'] as const) console.log(`    ${k.padEnd(14)} ${secs(med(k))}  (${fails(k)} failed probe(s))`);
    const targets = [
      { what: `archway probe, ${platforms.length} platforms, process vs sequential docker run loop`, a: med('process6'), b: med('sequential'), max: 0.5 },
      { what: `archway probe, ${platforms.length} platforms, process vs parallel docker run loop`, a: med('process6'), b: med('parallel'), max: 0.85 },
      { what: 'archway probe, 1 platform, process vs one docker run', a: med('process1'), b: med('dockerRun1'), max: 1.2 },
    ];
    let missed = false;
    for (const t of targets) {
      const ratio = t.a / t.b;
      missed ||= ratio > t.max;
      console.log(`${ratio <= t.max ? 'PASS' : 'MISS'}  ${t.what}: ${secs(t.a)} vs ${secs(t.b)} = ${ratio.toFixed(3)}× (target ≤ ${t.max}×)`);
    }
    for (const k of order) {
      const sample = results[k].flatMap((x) => x.failures)[0];
      if (sample) console.log(`a ${k} failure, for the record: ${sample}`);
    }
    const ours = fails('process6') + fails('process1') + fails('inProcess') + fails('inProcessCold');
    console.log(
      JSON.stringify({
        platforms: platforms.length,
        rounds,
        node: nodeVersion,
        processMs: { archway6: med('process6'), sequential: med('sequential'), parallel: med('parallel'), archway1: med('process1'), dockerRun1: med('dockerRun1') },
        inProcessMs: { warm: med('inProcess'), cold: med('inProcessCold') },
        ratios: Object.fromEntries(targets.map((t) => [t.what, t.a / t.b])),
        failures: Object.fromEntries(order.map((k) => [k, fails(k)])),
      }),
    );
    // The docker CLI loop run in parallel loses probes to the classic store's platform race ("was
    // found but does not match the specified platform"): that is the baseline's own defect, counted
    // above. Any other baseline failure (no network bridge, daemon errors) makes the ratios meaningless.
    const broken = (['sequential', 'parallel', 'dockerRun1'] as const).flatMap((k) => results[k].flatMap((x) => x.failures)).filter((f) => !/does not match the specified platform/.test(f));
    if (broken.length > 0) console.log(`INVALID  ${broken.length} docker run baseline(s) failed for another reason than the platform race, e.g. ${broken[0]}`);
    if (missed || ours > 0 || broken.length > 0) process.exitCode = 1;
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
