/**
 * The Machines view end to end in Debian's Chromium: the built renderer, and behind the same API
 * the preload exposes the REAL router built with the real ContextFleetGateway (as
 * electron/main/index.ts builds it), in its own process (harness.ts startRouterProcess) so that it
 * runs as the app's main process would for a user with an ssh config: in a mount namespace whose
 * /root holds the test's ~/.ssh (fleet-hosts.ts withHome). The hosts are fleet-hosts.ts
 * startFleet(), shared by every case: host 1 and host 2 are real dockerds, each in its own
 * user+mount+network namespace with a private binfmt_misc instance that starts empty (whatever this
 * machine's own table holds); host 1 on a unix socket, host 2 through Debian's sshd on loopback;
 * plus a context that never answers (tcp and ssh) and one that refuses.
 *
 * What is checked without Archway's own reading: host 1's instance and this machine's own table
 * (every file under /proc/sys/fs/binfmt_misc, bytes) are identical before and after "make host 2 like
 * host 1"; host 2's instance is read with nsenter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRegister } from '../../shared/binfmt/register';
import { catalogRule } from '../../shared/status';
import { hostTable } from '../rootless/support';
import { X86_64_HOST } from '../docker/env';
import { FLEET_ARM64, FLEET_REGISTRAR, startFleet, withHome, type Fleet } from '../support/fleet-hosts';
import { openWithRouterProcess, requireRenderer, screenshot, type Harness, type WindowOnRouterProcess } from './harness';

/** Each host's bound in the view (ContextFleetGateway boundMs). */
const BOUND_MS = 3_000;
const poll = <T>(fn: () => Promise<T> | T, timeout = 15_000) => expect.poll(fn, { timeout, interval: 100 });

describe.runIf(X86_64_HOST && process.getuid?.() === 0)('the Machines view in Chromium, over two real hosts', () => {
  let fleet: Fleet;
  let win: WindowOnRouterProcess;
  let harness: Harness;
  const stateRoot = mkdtempSync(join(tmpdir(), 'aw-machines-'));

  beforeAll(async () => {
    requireRenderer();
    fleet = await startFleet();
    // Host 1 runs arm64 and riscv64 for this file: in its own instance, which starts empty whatever
    // this machine's table holds (and goes with the host).
    for (const cpu of ['aarch64', 'riscv64'] as const) fleet.host1.register(buildRegister(catalogRule(cpu, `/usr/bin/qemu-${cpu}-static`, 'F')));
    win = await openWithRouterProcess(
      { stateRoot, prefs: { lastView: 'architectures' }, fleet: { registrar: FLEET_REGISTRAR, boundMs: BOUND_MS } },
      {
        wrap: (argv) => withHome(fleet.sshd.home, argv),
        env: { PATH: process.env.PATH, HOME: '/root', DOCKER_CONFIG: fleet.dockerConfig, DOCKER_HOST: `unix://${fleet.host1.socket}`, LANG: 'C.UTF-8' },
      },
    );
    harness = win.harness;
  }, 240_000);

  afterAll(async () => {
    try {
      await win?.close();
    } finally {
      await fleet?.stop();
      rmSync(stateRoot, { recursive: true, force: true });
    }
  });

  const row = (host: string) => harness.page.locator(`tr[data-host="${host}"]`);
  const cell = (host: string, cpu: string) => row(host).locator(`td[data-cpu="${cpu}"]`);
  const probeResult = (host: string) => harness.page.getByRole('list', { name: 'Probe results' }).locator(`li[data-host="${host}"]`);

  it('shows both hosts\' matrix; the hanging contexts as not answering and the refusing one as refused, within the bound', async () => {
    const page = harness.page;
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Machines', exact: true }).click();
    await poll(() => cell('host2', 'x86_64').textContent(), 30_000).toBe('native');
    const ms = Date.now() - t0;
    const rows = await harness.page.locator('tr[data-host]').count();
    console.log(`Machines view: matrix of ${rows} contexts shown ${ms} ms after the click (bound ${BOUND_MS} ms per host)`);
    // Every host is asked at once: three hosts that never answer cost one bound, not their sum.
    expect(ms).toBeLessThan(3 * BOUND_MS);
    for (const host of ['host1', 'host2']) {
      expect(await row(host).locator('td').first().textContent()).toBe('x86_64');
      expect(await cell(host, 'x86_64').textContent()).toBe('native');
    }
    expect(await row('host2').locator('th').textContent()).toContain('ssh://archway-host2');
    expect(await cell('host1', 'aarch64').textContent()).toBe('ready');
    expect(await cell('host1', 'riscv64').textContent()).toBe('ready');
    expect(await cell('host2', 'aarch64').textContent()).toBe('-');
    expect(await cell('host2', 'riscv64').textContent()).toBe('-');
    for (const host of ['hang', 'hangssh']) expect(await row(host).getByRole('status').textContent()).toMatch(new RegExp(`^no answer: .* did not answer within ${BOUND_MS / 1000} s`));
    expect(await row('refuse').getByRole('status').textContent()).toMatch(/^refused: /);
    // A host that did not answer cannot be made like another.
    expect(await row('hang').getByRole('button').isDisabled()).toBe(true);
    await screenshot(page, 'machines-01-matrix');
  });

  it('probes on every host: arm64 runs on host 1, host 2 has no handler, the hanging host does not answer', async () => {
    const page = harness.page;
    await page.getByRole('textbox', { name: 'Image' }).fill(FLEET_ARM64);
    await page.getByRole('textbox', { name: 'Platform' }).fill('linux/arm64');
    await page.getByRole('button', { name: 'Probe', exact: true }).click();
    await poll(() => probeResult('host1').textContent(), 60_000).toMatch(/^host1: ok/);
    expect(await probeResult('host2').textContent()).toMatch(/^host2: no-handler/);
    expect(await probeResult('hang').textContent()).toMatch(/^hang: no answer/);
  });

  it('"make host 2 like host 1": plan shown, nothing changed until confirmed, then host 2 only', async () => {
    const page = harness.page;
    const before = hostTable();
    const host1Before = fleet.host1.entries();
    const host2Before = fleet.host2.entries();
    expect(host2Before).toEqual([]);
    const t: [string, number][] = [['start', Date.now()]];
    await page.getByLabel('Model host').selectOption('host1');
    await row('host2').getByRole('button', { name: 'Make like host1' }).click();
    const dialog = page.getByRole('dialog', { name: 'Make host2 like host1' });
    const confirm = dialog.getByRole('button', { name: /^Install .* on host2$/ });
    await poll(() => confirm.count(), 30_000).toBe(1);
    t.push(['plan shown', Date.now()]);
    const planned = (await dialog.locator('li .mono').allTextContents()).map((r) => r.split(':')[1]!).sort();
    expect(planned).toContain('qemu-aarch64');
    expect(planned).toContain('qemu-riscv64');
    expect(await dialog.locator('li .mono').first().textContent()).toMatch(/^:qemu-[a-z0-9]+:M::.*:[^:]*F[^:C]*$/);
    // Shown, not applied.
    expect(fleet.host2.entries()).toEqual(host2Before);
    await screenshot(page, 'machines-02-plan');
    await confirm.click();
    await poll(() => dialog.getByRole('status').textContent(), 60_000).toMatch(/^Done on host2/);
    t.push(['applied', Date.now()]);
    // Host 2's own instance (read with nsenter) has exactly what was planned; host 1's table is byte-identical.
    expect(fleet.host2.entries()).toEqual(planned);
    expect(hostTable()).toEqual(before);
    expect(fleet.host1.entries()).toEqual(host1Before);
    await screenshot(page, 'machines-03-done');
    await dialog.getByRole('button', { name: 'Close' }).click();
    // The view asked again after the apply.
    await poll(() => cell('host2', 'aarch64').textContent(), 30_000).toBe('ready');
    expect(await cell('host2', 'riscv64').textContent()).toBe('ready');
    t.push(['matrix again', Date.now()]);
    // The same probe now runs on host 2 too.
    await page.getByRole('button', { name: 'Probe', exact: true }).click();
    await poll(() => probeResult('host2').textContent(), 60_000).toMatch(/^host2: ok/);
    t.push(['probed', Date.now()]);
    console.log(`make like: ${t.slice(1).map(([what, at], i) => `${what} +${at - t[i]![1]} ms`).join(', ')}`);
    expect(hostTable()).toEqual(before);
    expect(fleet.host1.entries()).toEqual(host1Before);
    expect(win.pageErrors).toEqual([]);
  });
});
