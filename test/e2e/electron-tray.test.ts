/**
 * The tray icon in the real Electron app, through Playwright's _electron: its line is the status
 * summary (shared/status-summary.ts) of what the window shows, and clicking it brings a hidden
 * window back. Needs Electron's binary (node_modules/electron/dist, or
 * ELECTRON_OVERRIDE_DIST_PATH) and a desktop with a tray: where there is no binary the suite is
 * skipped and says why — it never pretends to have run. (The summary's text is unit-tested in
 * shared/status-summary.spec.ts; the notification path in Chromium by test/e2e/app.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { statusSummary } from '../../shared/status-summary';
import { electronSkip as skip, withElectronApp } from './electron-app';

if (skip) console.warn(`[electron-tray] SKIPPED: ${skip}`);

interface TrayHandle {
  summary(): string;
  electronTray: { emit(event: string): void };
}

describe.skipIf(!!skip)(`the tray icon${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const s = withElectronApp();

  it('shows the status the window reads, in one line', async () => {
    const status = await s.page.evaluate(() => window.archway!.getStatus());
    await expect
      .poll(() => s.app.evaluate(({ app: a }) => (a as unknown as { archwayTray: TrayHandle | null }).archwayTray?.summary() ?? null), { timeout: 10_000 })
      .toBe(statusSummary(status).text);
  });

  it('a click brings the hidden window back', async () => {
    await s.app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.hide());
    expect(await s.app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.isVisible())).toBe(false);
    await s.app.evaluate(({ app: a }) => (a as unknown as { archwayTray: TrayHandle }).archwayTray.electronTray.emit('click'));
    await expect.poll(() => s.app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.isVisible())).toBe(true);
  });
});
