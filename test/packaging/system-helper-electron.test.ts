/**
 * The AppImage's "Install system helper" inside the real Electron main process, through
 * Playwright's _electron (next to system-helper.test.ts, which runs the same code under Node):
 * Electron's own runtime copies the installer, helper and policy out of the AppImage's resources
 * folder, runs the installer once (root: `direct` mode, into a fake root — never the machine's
 * /usr), removes its private copy, and the handshake reads the installed helper's protocol version.
 * The dialog that offers the step is Electron's native one and is not driven here; the code path
 * behind its button is the one called.
 *
 * Needs Electron's binary (node_modules/electron/dist, or ELECTRON_OVERRIDE_DIST_PATH), the built
 * app (out/main/index.js), root and /usr/bin/node: where any is missing the suite is skipped and
 * says why — it never pretends to have run. On this project's build machine there is no Electron
 * binary, so it is skipped there.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { _electron, type ElectronApplication } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { electronBinary } from '../../build/electron-binary.mjs';
import { INSTALLED_HELPER } from '../../electron/engine/elevate';
import { SYSTEM_NODE } from '../../electron/engine/system-helper';
import { PROTOCOL_VERSION } from '../../shared/errors';
import { appImageResources, REPO } from './packages';

const bin = electronBinary();
const skip = !bin.ok
  ? bin.reason
  : !existsSync(join(REPO, 'out/main/index.js'))
    ? 'out/main/index.js is missing (run npm run build)'
    : process.getuid?.() !== 0
      ? 'needs root (install-helper installs root-owned files)'
      : !existsSync(SYSTEM_NODE)
        ? `no ${SYSTEM_NODE}`
        : undefined;
if (skip) console.warn(`[system-helper-electron] SKIPPED: ${skip}`);

describe.skipIf(!!skip)(`AppImage: Install system helper in the Electron main process${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let work = '';
  let resources = '';
  let fakeRoot = '';
  let module = '';
  let app: ElectronApplication;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'archway-sys-helper-e-'));
    [resources, fakeRoot, module] = [join(work, 'resources'), join(work, 'root'), join(work, 'system-helper.cjs')];
    appImageResources(resources);
    mkdirSync(fakeRoot, { mode: 0o755 });
    // The main process's own install code (electron/engine/system-helper.ts), loadable from the running app.
    await build({ entryPoints: [join(REPO, 'electron/engine/system-helper.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: module, logLevel: 'error' });
    const env = { ...process.env } as Record<string, string>;
    delete env.ELECTRON_RUN_AS_NODE;
    app = await _electron.launch({
      executablePath: (bin as { path: string }).path,
      args: [REPO, '--no-sandbox'],
      env: { ...env, ARCHWAY_ALLOW_ROOT: '1' },
      timeout: 60_000,
    });
  });
  afterAll(async () => {
    await app?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs helper and policy root-owned under the fake root from Electron, from a private copy it removes', async () => {
    const copiesBefore = readdirSync(tmpdir()).filter((f) => f.startsWith('archway-helper-install-'));
    const res = await app.evaluate(
      async (_electron, a) => {
        const req = process.getBuiltinModule('node:module').createRequire(a.module);
        const { installSystemHelper } = req(a.module) as typeof import('../../electron/engine/system-helper');
        return { runtime: process.versions.electron, result: await installSystemHelper({ resourcesDir: a.resources, mode: 'direct', root: a.fakeRoot }) };
      },
      { module, resources, fakeRoot },
    );
    expect(res.runtime).toMatch(/^\d+\./); // it ran in Electron, not in the test's Node
    expect(res.result.ok, res.result.output).toBe(true);
    expect(res.result.check).toMatchObject({ state: 'ok', version: PROTOCOL_VERSION });
    const helper = statSync(join(fakeRoot, INSTALLED_HELPER));
    expect([helper.uid, helper.gid, helper.mode & 0o7777]).toEqual([0, 0, 0o755]);
    expect(existsSync(join(fakeRoot, 'usr/share/polkit-1/actions/dev.archway.helper.policy'))).toBe(true);
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('archway-helper-install-'))).toEqual(copiesBefore);
  });
});
