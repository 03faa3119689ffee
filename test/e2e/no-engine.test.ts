/**
 * Docker absent: the Engine view explains it and the kernel side still works; a daemon that stops
 * under a running app is noticed through its event stream, not only at the next poll.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../electron/engine';
import { archwayPaths } from '../../electron/engine/paths';
import { DockerGateway } from '../../electron/main/docker';
import { startLive, type Live } from '../../electron/main/live';
import { createRouter } from '../../electron/main/router';
import type { Prefs } from '../../shared/ipc/contract';
import { ensureDockerd } from '../docker/dockerd';
import { launchHarness, requireRenderer, screenshot, serveRenderer, type Harness } from './harness';

const poll = <T>(fn: () => Promise<T> | T, timeout = 15_000) => expect.poll(fn, { timeout, interval: 100 });

describe('without a container engine', () => {
  let server: Awaited<ReturnType<typeof serveRenderer>>;
  let harness: Harness;
  let live: Live;
  let root: string;

  beforeAll(async () => {
    requireRenderer();
    root = mkdtempSync(join(tmpdir(), 'archway-noengine-'));
    server = await serveRenderer();
    // Nothing listens on this socket; binfmt_misc is "not mounted" at this private path.
    const engine = new Engine({ paths: archwayPaths(root, join(root, 'binfmt_misc')) });
    const docker = new DockerGateway({ env: { DOCKER_HOST: `unix://${join(root, 'docker.sock')}` }, connectTimeoutMs: 1000 });
    const prefs: Prefs = { lastView: 'engine' };
    harness = await launchHarness({
      origin: server.origin,
      makeRouter: (emit) =>
        createRouter({ engine, docker, prefs: { get: () => ({ ...prefs }), set: (p) => Object.assign(prefs, p) }, emit, app: { version: 'test', shell: 'harness' } }),
    });
    live = startLive({ readStatus: () => engine.status(), readContainerEngine: () => docker.view(true), emit: harness.emit });
  });
  afterAll(async () => {
    live?.stop();
    await harness?.close();
    await server?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('opens on the last view, explains the missing engine, and the kernel side still works', async () => {
    const page = harness.page;
    await page.goto(`${server.origin}/index.html`);
    // lastView was "engine"
    await poll(() => page.getByRole('heading', { level: 2, name: 'No container engine' }).count()).toBe(1);
    const text = (await page.locator('.empty').textContent()) ?? '';
    expect(text).toMatch(/docker/i);
    expect(text).toContain('The kernel side works without one');
    await screenshot(page, '09-engine-absent');
    await page.getByRole('button', { name: 'Test run' }).click();
    await poll(() => page.getByRole('status').filter({ hasText: 'No container engine' }).count()).toBe(1);
    // Trying anyway says what is wrong, in the run's own result area.
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await poll(() => page.locator('.callout.bad').textContent()).toMatch(/Docker daemon is not running/i);
    await page.getByRole('button', { name: 'Architectures' }).click();
    await poll(() => page.locator('.arch-table tbody tr').count()).toBe(10);
    expect(await page.locator('.banner.warn').first().textContent()).toContain('not mounted');
    await screenshot(page, '10-architectures-unmounted');
  });
});

describe('Docker events', () => {
  it('a daemon that stops is noticed from its event stream', async () => {
    const dockerd = await ensureDockerd({ isolated: true });
    const gw = new DockerGateway({ env: { DOCKER_HOST: `unix://${dockerd.socket}` } });
    let changes = 0;
    const stop = gw.watch(() => changes++);
    try {
      expect((await gw.view(true)).state).toBe('connected');
      await poll(() => changes).toBeGreaterThanOrEqual(1);
      const before = changes;
      const t0 = Date.now();
      await dockerd.kill();
      await poll(() => changes, 5_000).toBeGreaterThan(before);
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect((await gw.view(true)).state).toBe('absent');
    } finally {
      stop();
      await dockerd.stop();
    }
  });
});
