/**
 * The AppImage's "Install system helper" against a fake root directory: the files the AppImage
 * carries (as build/electron-builder.config.mjs lists them) are copied out of the "mount", the same
 * scripts/install-helper.mjs installs helper and policy root-owned under the fake root in one run,
 * the private copy is gone afterwards, and the handshake reads the installed helper's protocol
 * version: equal is ok, older is refused with the update offered, garbage is unusable, absent is
 * missing. Root: install-helper refuses anything not root-owned. The pkexec prompt itself and the
 * app's button need an Electron binary: system-helper-electron.test.ts runs this install inside the Electron main process (skipped where there is none, as on this machine).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTALLED_HELPER } from '../../electron/engine/elevate';
import { checkHelper, HELPER_RESOURCES, installSystemHelper, SYSTEM_NODE } from '../../electron/engine/system-helper';
import { PROTOCOL_VERSION } from '../../shared/helper-protocol';
import { appImageResources, REPO } from './packages';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot ? 'needs root (install-helper installs root-owned files)' : !existsSync(SYSTEM_NODE) ? `no ${SYSTEM_NODE}` : '';
if (skip) console.warn(`system-helper: skipped: ${skip}`);
const POLICY_DEST = '/usr/share/polkit-1/actions/dev.archway.helper.policy';

describe.skipIf(skip !== '')('AppImage: Install system helper, and the version handshake', () => {
  const work = mkdtempSync(join(tmpdir(), 'archway-sys-helper-'));
  const resources = join(work, 'resources');
  const fakeRoot = join(work, 'root');
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  beforeAll(() => {
    appImageResources(resources);
    mkdirSync(fakeRoot, { mode: 0o755 });
  });

  it('the AppImage carries every file the install step needs', () => {
    for (const rel of Object.values(HELPER_RESOURCES)) expect(existsSync(join(resources, rel)), rel).toBe(true);
  });

  it('installs helper and policy root-owned under the fake root in one run, from a private copy it removes', async () => {
    const copiesBefore = readdirSync(tmpdir()).filter((f) => f.startsWith('archway-helper-install-'));
    const res = await installSystemHelper({ resourcesDir: resources, mode: 'direct', root: fakeRoot });
    expect(res.output).toContain(`installed ${join(fakeRoot, INSTALLED_HELPER)} (root:root 755)`);
    expect(res.output).toContain(`installed ${join(fakeRoot, POLICY_DEST)} (root:root 644)`);
    expect(res.check).toMatchObject({ state: 'ok', version: PROTOCOL_VERSION });
    expect(res.ok).toBe(true);

    const helper = statSync(join(fakeRoot, INSTALLED_HELPER));
    expect([helper.uid, helper.gid, helper.mode & 0o7777]).toEqual([0, 0, 0o755]);
    const text = readFileSync(join(fakeRoot, INSTALLED_HELPER), 'utf8');
    expect(text.split('\n')[0]).toBe(`#!${SYSTEM_NODE}`);
    expect(text.slice(text.indexOf('\n'))).toBe(readFileSync(join(REPO, 'dist/helper/archway-helper.mjs'), 'utf8').slice(readFileSync(join(REPO, 'dist/helper/archway-helper.mjs'), 'utf8').indexOf('\n')));
    expect(readFileSync(join(fakeRoot, POLICY_DEST), 'utf8')).toBe(readFileSync(join(REPO, 'build/polkit/dev.archway.helper.policy'), 'utf8'));
    // Nothing outside the fake root: the real locations are untouched by this test.
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('archway-helper-install-'))).toEqual(copiesBefore);
  });

  it('handshake: an older helper is refused and the update offered; garbage is unusable; absent is missing', async () => {
    const fake = (name: string, body: string) => {
      const f = join(work, name);
      writeFileSync(f, `#!/bin/sh\n${body}\n`);
      chmodSync(f, 0o755);
      return f;
    };
    const older = await checkHelper(fake('older', `echo '{"version":${PROTOCOL_VERSION - 1},"ok":false,"dryRun":false,"results":[]}'; exit 2`));
    expect(older).toMatchObject({ state: 'older', version: PROTOCOL_VERSION - 1, expected: PROTOCOL_VERSION });
    expect(older.message).toContain(`older than this app's ${PROTOCOL_VERSION}`);
    expect(older.hint).toMatch(/Install system helper/);

    const newer = await checkHelper(fake('newer', `echo '{"version":${PROTOCOL_VERSION + 1}}'`));
    expect(newer.state).toBe('newer');

    const broken = await checkHelper(fake('broken', 'printf "SyntaxError: \\033[31mnope\\n" >&2; exit 1'));
    expect(broken.state).toBe('unusable');
    expect(broken.message).toContain('SyntaxError');
    expect(broken.message).not.toContain('\x1b');

    expect((await checkHelper(join(work, 'absent'))).state).toBe('missing');
  });

  it('refuses a runtime too old for the single-file helper, naming the archway package', async () => {
    const oldNode = join(work, 'node16');
    writeFileSync(oldNode, '#!/bin/sh\nprintf 16.20.2\n');
    chmodSync(oldNode, 0o755);
    await expect(installSystemHelper({ resourcesDir: resources, mode: 'direct', root: join(work, 'never'), node: oldNode })).rejects.toThrow(/Node\.js 16\.20\.2; the helper this app installs needs 20\.19/);
    expect(existsSync(join(work, 'never'))).toBe(false);
  });
});
