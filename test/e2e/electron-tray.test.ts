/**
 * The tray icon in the real Electron app, through Playwright's _electron: its line is the status
 * summary (shared/status-summary.ts) of what the window shows, and clicking it brings a hidden
 * window back, focused. Needs Electron's binary (node_modules/electron/dist, or
 * ELECTRON_OVERRIDE_DIST_PATH) and a desktop with a tray: where there is no binary the suite is
 * skipped and says why — it never pretends to have run. (The summary's text is unit-tested in
 * shared/status-summary.spec.ts; the notification path in Chromium by test/e2e/notifications.test.ts.)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { electronBinary } from '../../build/electron-binary.mjs';
import { statusSummary } from '../../shared/status-summary';

const REPO = join(import.meta.dirname, '..', '..');
const bin = electronBinary();
const built = existsSync(join(REPO, 'out/main/index.js'));
const skip = !bin.ok ? bin.reason : !built ? 'out/main/index.js is missing (run npm run build)' : undefined;
if (skip) console.warn(`[electron-tray] SKIPPED: ${skip}`);

interface TrayHandle {
  summary(): string;
  electronTray: { emit(event: string): void };
}

describe.skipIf(!!skip)(`the tray icon${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let app: ElectronApplication;
  let page: Page;

  beforeAll(async () => {
    const env = { ...process.env } as Record<string, string>;
    delete env.ELECTRON_RUN_AS_NODE;
    app = await _electron.launch({
      executablePath: (bin as { path: string }).path,
      args: [REPO, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
      env: { ...env, ARCHWAY_ALLOW_ROOT: '1' },
      timeout: 60_000,
    });
    page = await app.firstWindow();
    await page.waitForSelector('.arch-table, .placeholder');
  });
  afterAll(async () => {
    await app?.close();
  });

  it('shows the status in one line, the same the window is shown', async () => {
    const status = await page.evaluate(() => window.archway!.getStatus());
    await expect
      .poll(() => app.evaluate(({ app: a }) => (a as unknown as { archwayTray: TrayHandle | null }).archwayTray?.summary() ?? null), { timeout: 10_000 })
      .toBe(statusSummary(status).text);
  });

  it('a click brings the hidden window back, focused', async () => {
    await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.hide());
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.isVisible())).toBe(false);
    await app.evaluate(({ app: a }) => (a as unknown as { archwayTray: TrayHandle }).archwayTray.electronTray.emit('click'));
    await expect.poll(() => app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.isVisible())).toBe(true);
  });
});
