/**
 * The real Electron app for the _electron suites: why it cannot run here (no binary, not built),
 * or the launched app and its first window once the views are up.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { electronBinary } from '../../build/electron-binary.mjs';

const REPO = join(import.meta.dirname, '..', '..');
const bin = electronBinary();

/** Why the Electron suites are skipped here, or undefined when they can run. */
export const electronSkip: string | undefined = !bin.ok
  ? bin.reason
  : !existsSync(join(REPO, 'out/main/index.js'))
    ? 'out/main/index.js is missing (run npm run build)'
    : undefined;

export async function launchElectronApp(): Promise<{ app: ElectronApplication; page: Page }> {
  const env = { ...process.env } as Record<string, string>;
  delete env.ELECTRON_RUN_AS_NODE;
  const app = await _electron.launch({
    executablePath: (bin as { path: string }).path,
    args: [REPO, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
    env: { ...env, ARCHWAY_ALLOW_ROOT: '1' },
    timeout: 60_000,
  });
  const page = await app.firstWindow();
  await page.waitForSelector('.arch-table, .placeholder');
  return { app, page };
}

/** Inside a describe: launch the app before its tests, close it after; read `s.app` / `s.page` in the tests. */
export function withElectronApp(): { readonly app: ElectronApplication; readonly page: Page } {
  let launched: { app: ElectronApplication; page: Page } | undefined;
  beforeAll(async () => {
    launched = await launchElectronApp();
  });
  afterAll(async () => {
    await launched?.app.close();
  });
  return {
    get app() {
      return launched!.app;
    },
    get page() {
      return launched!.page;
    },
  };
}
