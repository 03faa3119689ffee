// The daemon dies under a probe: the probe must end with engine-error quickly (nothing hangs), and
// after the daemon restarts the leftover container is reaped. Uses a private dockerd (own socket,
// data-root and exec-root) so killing it disturbs no one else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../support/node';
import type { ProbeEvent } from '../../shared/probe';
import { connect, type Connection } from '../../electron/container/endpoint';
import { ContainerEngineError } from '../../electron/container/errors';
import { probe, probeMatrix } from '../../electron/container/probe';
import { activeContainers, reapLeftovers } from '../../electron/container/reap';
import { ensureDockerd, type DockerdHandle } from './dockerd';
import { connectTo, labelled, loadBusybox, X86_64_HOST } from './env';

const TAG = 'archway-test/failure:i386';

describe.runIf(X86_64_HOST)('when dockerd dies', () => {
  let dockerd: DockerdHandle;
  let conn: Connection;

  beforeAll(async () => {
    dockerd = await ensureDockerd({ isolated: true });
    conn = await connectTo(dockerd);
    await loadBusybox(conn, 'i386', TAG);
  });

  afterAll(async () => {
    await dockerd?.stop();
  });

  it('a probe killed mid-run ends as engine-error, promptly; after a restart the leftover is reaped', async () => {
    let running: () => void = () => undefined;
    const isRunning = new Promise<void>((r) => (running = r));
    const events: ProbeEvent[] = [];
    const pending = probe({ conn, platform: 'linux/386', image: TAG, command: ['sleep', '120'], timeoutMs: 110_000 }, (e) => {
      events.push(e);
      if (e.type === 'phase' && e.phase === 'running') running();
    });
    await isRunning;
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = Date.now();
    await dockerd.kill();
    const r = await pending;
    const took = Date.now() - killedAt;
    expect(r.status).toBe('engine-error');
    expect(r.message).toMatch(/closed the connection|not running|hang up|ECONNRESET/);
    expect(r.fix).toMatch(/leftovers/);
    expect(took).toBeLessThan(20_000);
    expect(activeContainers.size).toBe(0);

    // While it is down, every call fails fast with the right words.
    const down = await probe({ conn, platform: 'linux/386', image: TAG });
    expect(down.status).toBe('engine-error');
    expect(down.message).toMatch(/not running/);
    await expect(connectTo(dockerd)).rejects.toMatchObject({ code: 'daemon-not-running' });
    const matrix = await probeMatrix({ conn, image: TAG, platforms: ['linux/386', 'linux/arm64'] });
    expect(matrix.map((m) => m.status)).toEqual(['engine-error', 'engine-error']);

    await dockerd.restart();
    const again = await connectTo(dockerd);
    const left = await labelled(again);
    expect(left).toHaveLength(1);
    const report = await reapLeftovers(again);
    expect(report.removed).toEqual([left[0]!.Id]);
    expect(report.failed).toEqual([]);
    expect(await labelled(again, false)).toEqual([]);
    expect((await probe({ conn: again, platform: 'linux/386', image: TAG })).status).toBe('ok');
  });

  it('connect() explains a missing daemon and an unreachable TCP engine', async () => {
    await expect(connect({ endpoint: { kind: 'unix', socketPath: '/nonexistent/docker.sock', source: 'explicit' } })).rejects.toMatchObject({
      code: 'daemon-not-running',
      hint: expect.stringMatching(/systemctl start docker/),
    });
    const port = await closedPort();
    const tcp = await connect({ endpoint: { kind: 'tcp', host: '127.0.0.1', port, source: 'explicit' }, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(tcp).toBeInstanceOf(ContainerEngineError);
    expect(tcp).toMatchObject({ code: 'unreachable', message: expect.stringContaining(`tcp://127.0.0.1:${port}`) });
  });
});
