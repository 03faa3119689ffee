/**
 * *Open shell* end to end in Debian's Chromium: the built renderer, the real router and Engine
 * behind the same API the preload exposes, a private dockerd, a real QEMU handler for aarch64 in
 * the host's binfmt_misc (snapshot-guarded) and the arm64 busybox fixture.
 *
 * Flow: test-run the arm64 image → *Open shell* on linux/arm64 → type `uname -m` → `aarch64` in the
 * tab's xterm.js → resize the window: the TTY follows → colours and paste → close the tab → the
 * engine has no container left; a second shell is removed by the router's shutdown (what app quit
 * runs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../electron/container/api';
import type { Connection } from '../../electron/container/endpoint';
import { Engine } from '../../electron/engine';
import { archwayPaths } from '../../electron/engine/paths';
import { DockerGateway } from '../../electron/main/docker';
import { createRouter, type Router } from '../../electron/main/router';
import type { Prefs } from '../../shared/ipc/contract';
import { setHandler, snapshotBinfmt, type BinfmtSnapshot } from '../docker/binfmt-snapshot';
import { ensureDockerd, type DockerdHandle } from '../docker/dockerd';
import { connectTo, removeImage, X86_64_HOST } from '../docker/env';
import { loadShellImage } from '../docker/shell-image';
import { launchHarness, requireRenderer, screenshot, serveRenderer, type Harness } from './harness';

const IMAGE = 'archway-test/e2e-shell:arm64';
const poll = <T>(fn: () => Promise<T> | T, timeout = 20_000) => expect.poll(fn, { timeout, interval: 100 });

describe.runIf(X86_64_HOST && process.getuid?.() === 0)('Open shell in Chromium, end to end', () => {
  let server: Awaited<ReturnType<typeof serveRenderer>>;
  let harness: Harness;
  let router: Router;
  let binfmt: BinfmtSnapshot;
  let dockerd: DockerdHandle;
  let conn: Connection;
  let root: string;

  /** Shell containers in the engine, in any state (the engine's own answer). */
  const shells = () => call<{ Id: string; State: string }[]>(conn, { method: 'GET', path: '/containers/json', query: { all: true, filters: { label: ['archway.kind=shell'] } } });

  beforeAll(async () => {
    requireRenderer();
    dockerd = await ensureDockerd({ isolated: true });
    conn = await connectTo(dockerd);
    await loadShellImage(conn, IMAGE);
    binfmt = await snapshotBinfmt();
    setHandler('aarch64');
    root = mkdtempSync('/tmp/aw-');
    server = await serveRenderer();
    const engine = new Engine({ paths: archwayPaths(root) });
    const docker = new DockerGateway({ env: { ...process.env, DOCKER_HOST: `unix://${dockerd.socket}` } });
    const prefs: Prefs = { lastView: 'test-run' };
    harness = await launchHarness({
      origin: server.origin,
      makeRouter: (emit) =>
        (router = createRouter({
          engine,
          docker,
          prefs: { get: () => ({ ...prefs }), set: (p) => Object.assign(prefs, p) },
          emit,
          app: { version: 'test', shell: 'harness' },
        })),
    });
  }, 180_000);

  afterAll(async () => {
    try {
      await router?.shutdown();
      await harness?.close();
      await server?.close();
      if (conn) {
        await removeImage(conn, IMAGE);
        conn.close();
      }
    } finally {
      await binfmt?.restore();
      await dockerd?.stop();
      if (root) rmSync(root, { recursive: true, force: true });
    }
  });

  it('opens a shell on linux/arm64: uname -m → aarch64, resize, colours, paste; closing the tab removes the container', async () => {
    const page = harness.page;
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${server.origin}/index.html`);

    // --- A test run first: the shell is offered on its result
    await page.getByRole('button', { name: 'Test run' }).click();
    await page.getByLabel('Image').fill(IMAGE);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const result = page.locator('.result[data-platform="linux/arm64"]');
    await poll(() => result.getAttribute('data-status'), 60_000).toBe('ok');
    expect(await shells()).toEqual([]);

    // --- Open shell
    await result.getByRole('button', { name: 'Open shell on linux/arm64' }).click();
    const pane = page.locator('.shell-pane:not([hidden])');
    await poll(() => pane.getAttribute('data-state'), 60_000).toBe('open');
    expect(await pane.textContent()).toContain('runs /bin/sh');
    expect((await shells()).map((c) => c.State)).toEqual(['running']);
    const rows = pane.locator('.xterm-rows');
    await poll(() => rows.textContent()).toContain('/ # ');

    // --- Type into xterm.js: keystrokes reach the shell's stdin
    await pane.locator('.xterm').click();
    await page.keyboard.type('uname -m');
    await page.keyboard.press('Enter');
    await poll(() => rows.textContent()).toContain('aarch64');
    await screenshot(page, 'shell-01-uname');

    // --- Resize: the TTY takes the terminal's size (its row count is the number of rows xterm.js draws)
    const sizeNow = async () => {
      await page.keyboard.type('clear; stty size');
      await page.keyboard.press('Enter');
      let m: RegExpMatchArray | null = null;
      await poll(async () => (m = /(\d+) (\d+)/.exec((await rows.textContent()) ?? '')) !== null).toBe(true);
      return { rows: Number(m![1]), cols: Number(m![2]) };
    };
    const before = await sizeNow();
    expect(before.rows).toBe(await rows.locator(':scope > div').count());
    await page.setViewportSize({ width: 900, height: 820 });
    await poll(async () => (await sizeNow()).cols).toBeLessThan(before.cols);
    const after = await sizeNow();
    expect(after.rows).toBe(await rows.locator(':scope > div').count());

    // --- Colours: SGR reaches xterm.js (red is palette colour 1)
    await page.keyboard.type("clear; printf '\\033[31mRED-%s\\033[0m\\n' $((40+2))");
    await page.keyboard.press('Enter');
    await poll(() => pane.locator('.xterm-rows span.xterm-fg-1').filter({ hasText: 'RED-42' }).count()).toBeGreaterThan(0);

    // --- Paste: a paste event on xterm.js's input goes to the shell as typed text
    await pane.locator('.xterm-helper-textarea').evaluate((el) => {
      const dt = new DataTransfer();
      dt.setData('text/plain', 'echo pasted-$((1+1))');
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    });
    await page.keyboard.press('Enter');
    await poll(() => rows.textContent()).toContain('pasted-2');
    await screenshot(page, 'shell-02-resized');

    // --- Close the tab: the container is removed (ask the engine)
    await page.getByRole('button', { name: /^Close shell linux\/arm64/ }).click();
    await poll(() => page.locator('.shell-pane').count()).toBe(0);
    await poll(() => shells()).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(harness.refused).toEqual([]);
  });

  it('exit 3 in the shell shows the exit; a shell still open when the app quits is removed', async () => {
    const page = harness.page;
    const result = page.locator('.result[data-platform="linux/arm64"]');
    await result.getByRole('button', { name: 'Open shell on linux/arm64' }).click();
    const pane = page.locator('.shell-pane:not([hidden])');
    await poll(() => pane.getAttribute('data-state'), 60_000).toBe('open');
    await pane.locator('.xterm').click();
    await page.keyboard.type('exit 3');
    await page.keyboard.press('Enter');
    await poll(() => pane.getAttribute('data-state')).toBe('exited');
    expect(await page.locator('.shell-tab.on').textContent()).toContain('exited 3');
    await poll(() => shells()).toEqual([]);

    // Another one, left open: the router's shutdown (before-quit in the app) removes it.
    await result.getByRole('button', { name: 'Open shell on linux/arm64' }).click();
    await poll(() => page.locator('.shell-pane:not([hidden])').getAttribute('data-state'), 60_000).toBe('open');
    expect(await shells()).toHaveLength(1);
    await router.shutdown();
    expect(await shells()).toEqual([]);
  });
});
