// Probes against a real dockerd with real foreign images (Debian busybox-static) and real QEMU
// handlers registered in the host's binfmt_misc (snapshot-guarded).
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../support/node';
import type { ProbeEvent, ProbeResult } from '../../shared/probe';
import type { Connection } from '../../electron/container/endpoint';
import { probe } from '../../electron/container/probe';
import { createTemp } from '../../electron/container/containers';
import { activeContainers, LABEL_OWNER, reapLeftovers } from '../../electron/container/reap';
import { call } from '../../electron/container/api';
import { control, setHandler, snapshotBinfmt, type BinfmtSnapshot } from './binfmt-snapshot';
import { ensureDockerd, type DockerdHandle } from './dockerd';
import { connectTo, FOREIGN, HANDLER_CPUS, labelled, loadBusybox, removeImage, X86_64_HOST } from './env';

const TAG = (arch: string) => `archway-test/probe:${arch}`;
const WRONG = 'archway-test/probe:mislabelled';

/** V8's full garbage collection, on demand (the same gc() --expose-gc gives). */
function fullGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

describe.runIf(X86_64_HOST)('probe (real dockerd, real QEMU)', () => {
  let dockerd: DockerdHandle;
  let conn: Connection;
  let binfmt: BinfmtSnapshot;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    dockerd = await ensureDockerd({ isolated: true }); // private: other runs may stop the shared daemon
    conn = await connectTo(dockerd);
    binfmt = await snapshotBinfmt();
    for (const cpu of HANDLER_CPUS) setHandler(cpu);
    for (const f of FOREIGN) ids[f.deb] = (await loadBusybox(conn, f.deb, TAG(f.deb))).id;
    ids.i386 = (await loadBusybox(conn, 'i386', TAG('i386'))).id;
    // s390x programs in an image whose configuration claims linux/arm64.
    await loadBusybox(conn, 's390x', WRONG, { platformOverride: { architecture: 'arm64', variant: 'v8' } });
  });

  afterAll(async () => {
    try {
      if (conn) {
        for (const f of FOREIGN) await removeImage(conn, TAG(f.deb));
        await removeImage(conn, TAG('i386'));
        await removeImage(conn, WRONG);
      }
    } finally {
      await binfmt?.restore();
      await dockerd?.stop();
    }
  });

  it('every platform is ok with its handler, and linux/386 runs natively as x86_64', async () => {
    const results: ProbeResult[] = [];
    for (const f of FOREIGN) {
      const r = await probe({ conn, platform: f.platform, image: TAG(f.deb) });
      results.push(r);
      expect(r, `${f.platform}: ${r.message}`).toMatchObject({ status: 'ok', observed: f.uname, exitCode: 0, imageId: ids[f.deb], pulled: false });
    }
    const native = await probe({ conn, platform: 'linux/386', image: TAG('i386') });
    expect(native).toMatchObject({ status: 'ok', observed: 'x86_64', imageId: ids.i386 });
    expect(results.map((r) => r.imagePlatform)).toEqual(['linux/arm64/v8', 'linux/arm/v7', 'linux/arm/v5', 'linux/ppc64le', 'linux/s390x', 'linux/mips64le']);
    expect(await labelled(conn)).toEqual([]);
  });

  it('streams phases and output, then the result, in order', async () => {
    const events: ProbeEvent[] = [];
    const r = await probe({ conn, platform: 'linux/s390x', image: TAG('s390x'), command: ['sh', '-c', 'echo to-out; echo to-err >&2; uname -m'] }, (e) => events.push(e));
    expect(r.status).toBe('ok'); // a custom command: ok means it ran and exited 0
    const phases = events.filter((e) => e.type === 'phase').map((e) => (e as { phase: string }).phase);
    expect(phases).toEqual(['resolving', 'creating', 'running', 'removing']);
    const out = events.filter((e) => e.type === 'output').map((e) => `${(e as { stream: string }).stream}:${(e as { text: string }).text}`).join('');
    expect(out).toContain('stdout:to-out\n');
    expect(out).toContain('stderr:to-err\n');
    expect(r.stdout.text).toBe('to-out\ns390x\n');
    expect(r.stderr.text).toBe('to-err\n');
    expect(events.at(-1)).toEqual({ type: 'result', result: r });
  });

  it('no-handler when the handler is disabled — and says which `archway install` fixes it', async () => {
    control('qemu-aarch64', '0');
    try {
      const r = await probe({ conn, platform: 'linux/arm64', image: TAG('arm64') });
      expect(r.status).toBe('no-handler');
      expect(r.fix).toBe('archway install arm64');
      expect(r.stderr.text).toMatch(/exec format error/);
      const told = await probe({ conn, platform: 'linux/arm64', image: TAG('arm64'), handler: 'disabled' });
      expect(told.fix).toBe('archway enable arm64');
    } finally {
      control('qemu-aarch64', '1');
    }
    expect((await probe({ conn, platform: 'linux/arm64', image: TAG('arm64') })).status).toBe('ok');
  });

  it('wrong-arch: the engine ran s390x programs from an image that claims linux/arm64', async () => {
    const r = await probe({ conn, platform: 'linux/arm64', image: WRONG });
    expect(r.status).toBe('wrong-arch');
    expect(r.observed).toBe('s390x');
    expect(r.imagePlatform).toBe('linux/arm64/v8');
    expect(r.message).toMatch(/reported s390x/);
  });

  it('wrong-arch before running: the local image is another platform and cannot be pulled', async () => {
    const r = await probe({ conn, platform: 'linux/s390x', image: TAG('arm64'), pull: 'never' });
    expect(r).toMatchObject({ status: 'wrong-arch', exitCode: null, imagePlatform: 'linux/arm64/v8' });
    expect(r.stdout.totalBytes).toBe(0);
  });

  it('pull-failed when the registry cannot be reached', async () => {
    const port = await closedPort();
    const started = Date.now();
    const r = await probe({ conn, platform: 'linux/arm64', image: `127.0.0.1:${port}/archway-test/none:1` });
    expect(r.status).toBe('pull-failed');
    expect(r.message).toMatch(/connection refused|dial tcp/);
    expect(r.fix).toMatch(/reach the registry/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('timeout: a sleeping container is killed and removed', async () => {
    const started = Date.now();
    const r = await probe({ conn, platform: 'linux/arm64', image: TAG('arm64'), command: ['sleep', '60'], timeoutMs: 1500 });
    const took = Date.now() - started;
    expect(r.status).toBe('timeout');
    expect(r.message).toMatch(/1\.5 s/);
    expect(took).toBeGreaterThanOrEqual(1500);
    expect(took).toBeLessThan(15_000);
    expect(await labelled(conn)).toEqual([]);
  });

  it('cancel: aborting stops and removes the container at once', async () => {
    const ac = new AbortController();
    let abortedAt = 0;
    const r = await probe({ conn, platform: 'linux/ppc64le', image: TAG('ppc64el'), command: ['sleep', '60'] }, (e) => {
      if (e.type === 'phase' && e.phase === 'running') {
        setTimeout(() => {
          abortedAt = Date.now();
          ac.abort();
        }, 300);
      }
    }, ac.signal);
    expect(r.status).toBe('cancelled');
    expect(Date.now() - abortedAt).toBeLessThan(10_000);
    expect(await labelled(conn)).toEqual([]);
    expect(activeContainers.size).toBe(0);
    const before = await probe({ conn, platform: 'linux/ppc64le', image: TAG('ppc64el') }, () => undefined, AbortSignal.abort());
    expect(before.status).toBe('cancelled');
  });

  it('a container printing 100 MB costs only the output cap', async () => {
    // What the probe keeps, not what the process happens to have in RSS: the RSS of a process that
    // streams 100 MB through short-lived Buffers rises until V8 decides to collect them (measured
    // +59 to +68 MB on Node 24, +25 to +33 MB on Node 20, with the same code), whatever the probe
    // holds. So: the bytes still reachable after a full collection (heap + Buffers), sampled every
    // 100 ms while the output streams and once more at 'removing' (all output read, the probe's
    // state still alive). Two collections: the first one's Buffer sweeping runs concurrently and
    // finishes in the second, so the count is exact.
    const gc = fullGc();
    const reachable = () => {
      gc();
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const base = reachable();
    let peak = 0;
    let samples = 0;
    const sample = () => {
      samples++;
      peak = Math.max(peak, reachable() - base);
    };
    const every = setInterval(sample, 100);
    const live: string[] = [];
    let r: ProbeResult;
    try {
      r = await probe(
        { conn, platform: 'linux/386', image: TAG('i386'), command: ['sh', '-c', 'yes 0123456789abcdef | head -c 104857600; echo END'], outputCapBytes: 64 * 1024, liveOutputBytes: 4096 },
        (e) => {
          if (e.type === 'output') live.push(e.text);
          if (e.type === 'output-limited') live.push('<limited>');
          if (e.type === 'phase' && e.phase === 'removing') sample();
        },
      );
    } finally {
      clearInterval(every);
    }
    expect(r.status).toBe('ok');
    expect(r.stdout.totalBytes).toBe(104_857_600 + 4);
    expect(r.stdout.droppedBytes).toBe(104_857_604 - 64 * 1024);
    // The exact last 64 KiB of (100 MB of the repeated line, cut mid-line) + "END\n".
    const line = '0123456789abcdef\n';
    const keep = 64 * 1024 - 4;
    const from = 104_857_600 - keep;
    let expected = '';
    for (let i = from; i < 104_857_600; i++) expected += line[i % line.length];
    expect(r.stdout.text).toBe(`${expected}END\n`);
    expect(live.join('').length).toBeLessThanOrEqual(4096 + '<limited>'.length);
    expect(live.at(-1)).toBe('<limited>');
    // 100 MB passed through; what stays reachable is the caps (2 × 64 KiB) and a few socket chunks
    // (measured 0.24 MiB; a probe keeping every chunk measured 100 MiB here).
    expect(samples).toBeGreaterThan(0);
    expect(peak).toBeLessThan(8 * 1024 * 1024);
  });

  it('50 concurrent probes, some cancelled, leave no container behind', async () => {
    const ac = new AbortController();
    const jobs = Array.from({ length: 50 }, (_, i) => {
      const f = i % 5 === 0 ? { platform: 'linux/arm64', image: TAG('arm64') } : { platform: 'linux/386', image: TAG('i386') };
      const own = new AbortController();
      if (i % 7 === 3) setTimeout(() => own.abort(), 200 + i * 20);
      return probe({ conn, ...f, ...(i % 7 === 3 ? { command: ['sleep', '30'] } : {}) }, () => undefined, AbortSignal.any([ac.signal, own.signal]));
    });
    const results = await Promise.all(jobs);
    const byStatus = results.reduce<Record<string, number>>((m, r) => ((m[r.status] = (m[r.status] ?? 0) + 1), m), {});
    expect(byStatus).toEqual({ ok: 43, cancelled: 7 });
    expect(await labelled(conn)).toEqual([]);
    expect(activeContainers.size).toBe(0);
  });

  it('reaps leftovers of a crashed Archway, but not a live one\'s containers', async () => {
    const dead = spawnSync('true').pid!; // a pid that has exited
    const body = { Image: ids.i386!, Cmd: ['true'], HostConfig: { NetworkMode: 'none' } };
    const crashed = await createTemp(conn, { kind: 'probe', body: { ...body, Labels: {} }, lifetimeMs: 60_000 });
    activeContainers.delete(crashed);
    // Rewrite ownership as if another (now dead) process had made it: labels are immutable, so make a twin.
    const twin = await call<{ Id: string }>(conn, {
      method: 'POST',
      path: '/containers/create',
      body: { ...body, Labels: { 'archway.probe': '1', 'archway.kind': 'probe', [LABEL_OWNER]: `${os.hostname()}:${dead}`, 'archway.deadline': String(Date.now() + 3_600_000) } },
    });
    const live = await call<{ Id: string }>(conn, {
      method: 'POST',
      path: '/containers/create',
      body: { ...body, Labels: { 'archway.probe': '1', 'archway.kind': 'probe', [LABEL_OWNER]: `${os.hostname()}:1`, 'archway.deadline': String(Date.now() + 3_600_000) } },
    });
    const report = await reapLeftovers(conn);
    expect(report.removed.sort()).toEqual([crashed, twin.Id].sort());
    expect(report.kept).toEqual([{ id: live.Id, why: 'in use by process 1' }]);
    const after = await reapLeftovers(conn, { now: Date.now() + 7_200_000 });
    expect(after.removed).toEqual([live.Id]);
    expect(await labelled(conn, false)).toEqual([]);
  });
});
