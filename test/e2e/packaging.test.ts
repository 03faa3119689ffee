/**
 * What can be checked of the packages without an Electron binary: the electron-builder config
 * loads and passes electron-builder's own schema; every file the .deb installs outside /opt exists;
 * the helper launcher is a valid, executable shell script that runs the helper bundle with plain
 * Node (as it runs it with Electron-as-Node in the package); the polkit policy names that launcher;
 * the desktop entry passes desktop-file-validate. Building the AppImage/.deb itself needs the
 * Electron binary (electron-builder downloads it) and is not done here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import config, { DESKTOP_ENTRY, SYSTEM_FILES } from '../../build/electron-builder.config.mjs';

const REPO = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), 'archway-pkg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function validate(c: unknown): Promise<void> {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as { validateConfiguration: (c: unknown, l: unknown) => Promise<void> };
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  await validateConfiguration(c, new DebugLogger(false));
}

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

describe('electron-builder config', () => {
  it('passes electron-builder\'s schema (and the schema does reject nonsense)', async () => {
    await expect(validate(config)).resolves.toBeUndefined();
    await expect(validate({ ...config, linux: { ...config.linux, notAnOption: true } })).rejects.toThrow(/Invalid configuration object/);
  });

  it('targets AppImage and deb, names the executable so /usr/bin/archway stays the CLI\'s', () => {
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.executableName).toBe('archway-desktop');
    expect(config.files).toContain('out/**/*');
  });

  it('does not replace electron-builder\'s stock after-install script', () => {
    expect(config.deb).not.toHaveProperty('afterInstall');
    expect(config.linux).not.toHaveProperty('afterInstall');
  });

  it('every file the .deb installs outside /opt exists, mapped to its system path', () => {
    expect(Object.keys(SYSTEM_FILES).sort()).toEqual([
      '/usr/lib/archway/archway-helper',
      '/usr/lib/archway/archway-helper.mjs',
      '/usr/share/polkit-1/actions/dev.archway.helper.policy',
    ]);
    for (const [dest, src] of Object.entries(SYSTEM_FILES)) {
      expect(existsSync(join(REPO, src)), `${src} (for ${dest}); run npm run build`).toBe(true);
      expect(config.deb?.fpm).toContain(`${join(REPO, src)}=${dest}`);
    }
  });
});

describe('the privileged helper as packaged', () => {
  const launcher = join(REPO, 'build/linux/archway-helper');

  it('the polkit policy names the launcher the .deb installs', () => {
    const policy = readFileSync(join(REPO, 'build/polkit/dev.archway.helper.policy'), 'utf8');
    expect(policy).toContain('<annotate key="org.freedesktop.policykit.exec.path">/usr/lib/archway/archway-helper</annotate>');
    if (has('xmllint')) expect(spawnSync('xmllint', ['--noout', join(REPO, 'build/polkit/dev.archway.helper.policy')]).status).toBe(0);
  });

  it('the launcher is an executable POSIX shell script that clears the environment', () => {
    expect(statSync(launcher).mode & 0o777).toBe(0o755);
    expect(spawnSync('sh', ['-n', launcher]).status).toBe(0);
    const text = readFileSync(launcher, 'utf8');
    expect(text).toMatch(/exec \/usr\/bin\/env -i/);
    expect(text).toContain('/opt/Archway/archway-desktop /usr/lib/archway/archway-helper.mjs');
  });

  it('the launcher runs the helper bundle with plain Node and passes only PKEXEC_UID through', () => {
    // The same script with this machine's Node in place of /opt/Archway/archway-desktop.
    const probeEnv = join(tmp, 'print-env.mjs');
    writeFileSync(probeEnv, 'process.stdout.write(JSON.stringify(process.env))');
    const copy = (target: string) => {
      const f = join(tmp, `launcher-${Math.random().toString(36).slice(2)}`);
      writeFileSync(f, readFileSync(launcher, 'utf8').replace('/opt/Archway/archway-desktop', process.execPath).replace('/usr/lib/archway/archway-helper.mjs', target), { mode: 0o755 });
      return f;
    };
    const envOut = spawnSync('sh', [copy(probeEnv)], { env: { PKEXEC_UID: '1000', NODE_OPTIONS: '--require /tmp/evil.js', ARCHWAY_ROOT: '/tmp/x', PATH: process.env.PATH }, encoding: 'utf8' });
    expect(envOut.status, envOut.stderr).toBe(0);
    expect(JSON.parse(envOut.stdout)).toEqual({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ELECTRON_RUN_AS_NODE: '1', PKEXEC_UID: '1000' });

    const helper = join(REPO, 'dist/helper/archway-helper.mjs');
    const r = spawnSync('sh', [copy(helper)], { input: JSON.stringify({ version: 1, ops: [{ op: 'install', arch: 'aarch64' }], dryRun: true }), encoding: 'utf8', env: {} });
    const answer = JSON.parse(r.stdout.trim().split('\n').pop()!) as { version: number; dryRun: boolean; results: { op: string }[] };
    expect(answer).toMatchObject({ version: 1, dryRun: true });
    expect(answer.results[0]?.op).toBe('install');
  });
});

describe('desktop entry', () => {
  it.skipIf(!has('desktop-file-validate'))('passes desktop-file-validate (as electron-builder writes it)', () => {
    // electron-builder's LinuxTargetHelper: Name, Exec, Terminal, Type, Icon, StartupWMClass, then our entry.
    const entry: Record<string, string> = {
      Name: 'Archway',
      Exec: '/opt/Archway/archway-desktop %U',
      Terminal: 'false',
      Type: 'Application',
      Icon: 'archway-desktop',
      StartupWMClass: 'Archway',
      ...DESKTOP_ENTRY,
    };
    const file = join(tmp, 'archway-desktop.desktop');
    writeFileSync(file, `[Desktop Entry]\n${Object.entries(entry).map(([k, v]) => `${k}=${v}`).join('\n')}\n`);
    const r = spawnSync('desktop-file-validate', [file], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
