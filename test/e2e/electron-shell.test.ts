/**
 * The real Electron shell, through Playwright's _electron: the window opens, the security settings
 * are in force in the running app, an IPC round-trip works, navigation away and new windows are
 * blocked. Needs Electron's binary (node_modules/electron/dist, or ELECTRON_OVERRIDE_DIST_PATH):
 * where there is none, the suite is skipped and says why — it never pretends to have run.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { electronBinary } from '../../build/electron-binary.mjs';

const REPO = join(import.meta.dirname, '..', '..');
const bin = electronBinary();
const built = existsSync(join(REPO, 'out/main/index.js'));
const skip = !bin.ok ? bin.reason : !built ? 'out/main/index.js is missing (run npm run build)' : undefined;
if (skip) console.warn(`[electron-shell] SKIPPED: ${skip}`);

describe.skipIf(!!skip)(`the Electron shell${skip ? ` (skipped: ${skip})` : ''}`, () => {
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

  it('opens one window, on app://archway', async () => {
    expect(page.url()).toBe('app://archway/index.html');
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
  });

  it('the settings are in force: no Node, no require, no ipcRenderer in the page; only window.archway functions; the CSP', async () => {
    const r = await page.evaluate(() => ({
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
      apiKinds: [...new Set(Object.values(window.archway ?? {}).map((v) => typeof v))],
      csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '',
    }));
    expect(r).toMatchObject({ require: 'undefined', process: 'undefined', apiKinds: ['function'] });
    expect(r.csp).toContain("script-src 'self'");
  });

  it('an IPC round-trip through the preload, the wrapper and the router', async () => {
    const prefs = await page.evaluate(() => window.archway!.setPrefs({ lastView: 'activity' }));
    expect(prefs).toEqual({ lastView: 'activity' });
    const status = await page.evaluate(() => window.archway!.getStatus());
    expect(Array.isArray(status.archs)).toBe(true);
    const err = await page.evaluate(() => window.archway!.plan({ action: 'nope' } as never).catch((e: { code: string }) => e.code));
    expect(err).toBe('invalid-request');
  });

  it('navigation away and new windows are blocked', async () => {
    await page.evaluate(() => {
      window.location.href = 'https://example.com/';
    });
    await page.waitForTimeout(1000);
    expect(page.url()).toBe('app://archway/index.html');
    const opened = await page.evaluate(() => window.open('https://example.com/') === null);
    expect(opened).toBe(true);
    expect(app.windows()).toHaveLength(1);
  });
});
