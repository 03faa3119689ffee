/**
 * The real Electron shell, through Playwright's _electron: the window opens, the security settings
 * are in force in the running app, an IPC round-trip works, navigation away and new windows are
 * blocked. Needs Electron's binary (node_modules/electron/dist, or ELECTRON_OVERRIDE_DIST_PATH):
 * where there is none, the suite is skipped and says why — it never pretends to have run.
 */
import { describe, expect, it } from 'vitest';
import { electronSkip as skip, withElectronApp } from './electron-app';

if (skip) console.warn(`[electron-shell] SKIPPED: ${skip}`);

describe.skipIf(!!skip)(`the Electron shell${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const s = withElectronApp();

  it('opens one window, on app://archway', async () => {
    expect(s.page.url()).toBe('app://archway/index.html');
    expect(await s.app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
  });

  it('the settings are in force: no Node, no require, no ipcRenderer in the page; only window.archway functions; the CSP', async () => {
    const r = await s.page.evaluate(() => ({
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
      apiKinds: [...new Set(Object.values(window.archway ?? {}).map((v) => typeof v))],
      csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '',
    }));
    expect(r).toMatchObject({ require: 'undefined', process: 'undefined', apiKinds: ['function'] });
    expect(r.csp).toContain("script-src 'self'");
  });

  it('an IPC round-trip through the preload, the wrapper and the router', async () => {
    const prefs = await s.page.evaluate(() => window.archway!.setPrefs({ lastView: 'activity' }));
    expect(prefs).toEqual({ lastView: 'activity' });
    const status = await s.page.evaluate(() => window.archway!.getStatus());
    expect(Array.isArray(status.archs)).toBe(true);
    const err = await s.page.evaluate(() => window.archway!.plan({ action: 'nope' } as never).catch((e: { code: string }) => e.code));
    expect(err).toBe('invalid-request');
  });

  it('navigation away and new windows are blocked', async () => {
    await s.page.evaluate(() => {
      window.location.href = 'https://example.com/';
    });
    await s.page.waitForTimeout(1000);
    expect(s.page.url()).toBe('app://archway/index.html');
    const opened = await s.page.evaluate(() => window.open('https://example.com/') === null);
    expect(opened).toBe(true);
    expect(s.app.windows()).toHaveLength(1);
  });
});
