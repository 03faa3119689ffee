/**
 * QEMU versions in the window, end to end in Debian's Chromium: the built renderer, the real router
 * and Engine behind the same API the preload exposes, the host's binfmt_misc (snapshot-guarded, as
 * app.test.ts) and NO container engine (DOCKER_HOST names a socket nobody listens on).
 *
 * Flow: Engine view → Import emulators (a typed path: the harness has no file dialog) → plan dialog →
 * apply, twice (two versions of qemu-aarch64 side by side: Debian's, and a copy whose version string
 * reads 9.2.0 — see test/kernel/emulators-use.test.ts) → "Install from the store" → the Detail view
 * shows QEMU 9.2.0 and its known-regression warning → *Use previous* → plan → apply → the kernel entry
 * names the other version → the version picker switches back.
 *
 * Not exercised here: Electron's own file dialog (main's chooseImportPath: there is no Electron binary
 * on this machine); with an empty path the harness router answers that a path is needed, checked below.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../electron/engine';
import { archwayPaths } from '../../electron/engine/paths';
import { DockerGateway } from '../../electron/main/docker';
import { startLive, type Live } from '../../electron/main/live';
import { createRouter } from '../../electron/main/router';
import type { Prefs } from '../../shared/ipc/contract';
import { entryExists, removeHandler, snapshotBinfmt, type BinfmtSnapshot } from '../docker/binfmt-snapshot';
import { X86_64_HOST } from '../docker/env';
import { qemuAarch64Versions } from '../fixtures/qemu-versions';
import { launchHarness, requireRenderer, screenshot, serveRenderer, type Harness } from './harness';

const poll = <T>(fn: () => Promise<T> | T, timeout = 15_000) => expect.poll(fn, { timeout, interval: 100 });
const DISTRO = '/usr/bin/qemu-aarch64-static';
const HANDLER = '/proc/sys/fs/binfmt_misc/qemu-aarch64';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe.runIf(X86_64_HOST)('QEMU versions in the window', () => {
  let server: Awaited<ReturnType<typeof serveRenderer>>;
  let harness: Harness;
  let binfmt: BinfmtSnapshot;
  let live: Live;
  let root: string;
  let shaA: string;
  let shaB: string;
  const store = (s: string) => join(root, 'var/lib/archway/emulators', s, 'qemu-aarch64');
  const interpreter = () => /^interpreter (.*)$/m.exec(readFileSync(HANDLER, 'utf8'))?.[1];

  beforeAll(async () => {
    requireRenderer();
    binfmt = await snapshotBinfmt();
    if (entryExists('qemu-aarch64')) removeHandler('qemu-aarch64');
    root = mkdtempSync('/tmp/aw-');
    const { original: a, renamed: b } = qemuAarch64Versions('9.2.0');
    mkdirSync(join(root, 'a'));
    mkdirSync(join(root, 'b'));
    copyFileSync(DISTRO, join(root, 'a/qemu-aarch64'));
    writeFileSync(join(root, 'b/qemu-aarch64'), b);
    chmodSync(join(root, 'b/qemu-aarch64'), 0o755);
    shaA = sha(a);
    shaB = sha(b);
    server = await serveRenderer();
    const engine = new Engine({ paths: archwayPaths(root) });
    const docker = new DockerGateway({ env: { DOCKER_HOST: `unix://${join(root, 'no-engine.sock')}` }, connectTimeoutMs: 1000 });
    const prefs: Prefs = { lastView: 'engine' };
    harness = await launchHarness({
      origin: server.origin,
      makeRouter: (emit) => createRouter({ engine, docker, prefs: { get: () => ({ ...prefs }), set: (p) => Object.assign(prefs, p) }, emit, app: { version: 'test', shell: 'harness' } }),
    });
    live = startLive({ readStatus: () => engine.status(), readContainerEngine: () => docker.view(true), emit: harness.emit });
  });

  afterAll(async () => {
    try {
      live?.stop();
      await harness?.close();
      await server?.close();
    } finally {
      await binfmt?.restore();
      if (root) rmSync(root, { recursive: true, force: true });
    }
  });

  it('imports two versions from the Engine view with no engine, installs the newest, and switches with Use previous and the picker', async () => {
    const page = harness.page;
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${server.origin}/index.html`);
    const section = page.locator('section.import-emulators');
    await poll(() => section.count()).toBe(1);
    await poll(() => page.getByRole('heading', { level: 2, name: 'No container engine' }).count()).toBe(1);
    const dialog = page.getByRole('dialog');

    // An empty path asks main for a file dialog: the harness has none and says what to do.
    await section.getByRole('button', { name: 'Import from file…' }).click();
    await poll(() => dialog.textContent()).toContain('no file dialog here');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    for (const [dir, want] of [['a', shaA], ['b', shaB]] as const) {
      await section.getByLabel('Archive or directory to import').fill(join(root, dir));
      await section.getByRole('button', { name: 'Import from file…' }).click();
      await poll(() => dialog.textContent(), 30_000).toContain('store qemu-aarch64');
      const text = (await dialog.textContent()) ?? '';
      expect(text).toContain('Import emulators: aarch64');
      expect(text).toContain(`reported: imported from ${join(root, dir)}`);
      expect(text).toContain(want);
      if (dir === 'a') await screenshot(page, '20-plan-import-emulators');
      await dialog.getByRole('button', { name: 'Apply' }).click();
      await poll(() => page.locator('.toast').allTextContents(), 30_000).toContainEqual(expect.stringContaining('Emulators imported: aarch64'));
      expect(readFileSync(store(want)).length).toBeGreaterThan(0);
      if (dir === 'a') for (let i = 0; i < 10 && (await page.locator('.toast').count()) > 0; i++) await page.locator('.toast').first().getByRole('button', { name: 'Dismiss' }).click({ timeout: 5000 });
    }

    // The toast's action installs from the store: the newest entry, 9.2.0.
    await page.locator('.toast', { hasText: 'Emulators imported' }).getByRole('button', { name: 'Install from the store' }).click();
    await poll(() => dialog.textContent(), 30_000).toContain(store(shaB));
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await poll(() => (entryExists('qemu-aarch64') ? interpreter() : undefined), 30_000).toBe(store(shaB));

    // Detail: the version, the regression warning, Use previous.
    await page.getByRole('button', { name: 'Architectures' }).click();
    await page.getByRole('button', { name: /Details for .*arm64/ }).click();
    const detail = page.locator('.detail');
    await poll(() => detail.textContent()).toContain('9.2.0');
    const detailText = (await detail.textContent()) ?? '';
    expect(detailText).toContain('known regressions');
    expect(detailText).toContain('https://github.com/tonistiigi/binfmt/issues/245');
    expect(await detail.getByRole('button', { name: 'Switch version' }).count()).toBe(1);
    await screenshot(page, '21-detail-qemu-version');
    await detail.getByRole('button', { name: 'Use previous' }).click();
    await poll(() => dialog.textContent(), 30_000).toContain(`from ${store(shaB)} to ${store(shaA)}`);
    expect((await dialog.textContent()) ?? '').toContain('Switch the emulator of aarch64');
    await screenshot(page, '22-plan-use-previous');
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await poll(() => interpreter(), 30_000).toBe(store(shaA));
    await poll(() => detail.textContent(), 30_000).not.toContain('known regressions');

    // The picker: back to 9.2.0.
    await detail.getByLabel('QEMU version for qemu-aarch64').selectOption(shaB);
    await detail.getByRole('button', { name: 'Switch', exact: true }).click();
    await poll(() => dialog.textContent(), 30_000).toContain(`to ${store(shaB)}`);
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await poll(() => interpreter(), 30_000).toBe(store(shaB));

    expect(harness.refused).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
