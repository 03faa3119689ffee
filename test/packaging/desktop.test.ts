/**
 * What can be checked of the archway-desktop package without an Electron binary (building it needs
 * one: `npm run package` says so): electron-builder's own schema accepts the config; the .deb/.rpm
 * depend on the headless `archway` package at the same version and carry no privileged code of
 * their own; every file they install outside /opt exists once `npm run package` ran; the icons are
 * the SVG source rendered at every hicolor size; the AppStream metainfo passes
 * `appstreamcli validate` with package.json's version; the desktop entry passes
 * `desktop-file-validate`; the polkit policy (installed by the headless package) is valid against
 * polkit's own DTD.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import config, { DESKTOP_ENTRY, HEADLESS_DEPENDENCY, SYSTEM_FILES } from '../../build/electron-builder.config.mjs';
import { HEADLESS } from '../../build/linux/headless/package-info.mjs';
import { DESKTOP_FILE, METAINFO_BUILT, metainfoXml } from '../../build/linux/metainfo.mjs';
import { ICON_SIZES, renderIcons } from '../../scripts/icons.mjs';
import { REPO } from './packages';

const require = createRequire(import.meta.url);
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const tmp = mkdtempSync(join(tmpdir(), 'archway-desktop-pkg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const POLICY = join(REPO, 'build/polkit/dev.archway.helper.policy');
const POLKIT_DTD = '/usr/share/polkit-1/policyconfig-1.dtd';

async function validate(c: unknown): Promise<void> {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as { validateConfiguration: (c: unknown, l: unknown) => Promise<void> };
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  await validateConfiguration(c, new DebugLogger(false));
}

describe('electron-builder config of archway-desktop', () => {
  let packageOutput = '';
  beforeAll(() => {
    const r = spawnSync(process.execPath, [join(REPO, 'scripts/package.mjs'), 'desktop'], { cwd: REPO, encoding: 'utf8' });
    packageOutput = r.stdout + r.stderr;
  });

  it('passes electron-builder\'s schema (and the schema does reject nonsense)', async () => {
    await expect(validate(config)).resolves.toBeUndefined();
    await expect(validate({ ...config, linux: { ...config.linux, notAnOption: true } })).rejects.toThrow(/Invalid configuration object/);
  });

  it('targets AppImage, deb and rpm; the executable is archway-desktop so /usr/bin/archway stays the CLI\'s', () => {
    expect(config.linux?.target).toEqual(['AppImage', 'deb', 'rpm']);
    expect(config.executableName).toBe('archway-desktop');
    expect(config.deb).not.toHaveProperty('afterInstall');
    expect(config.linux).not.toHaveProperty('afterInstall');
  });

  it('depends on the headless package of the same version and ships no privileged code of its own', () => {
    expect(HEADLESS_DEPENDENCY).toEqual({ deb: `archway (= ${VERSION}-1)`, rpm: `archway = ${VERSION}-1` });
    expect(config.deb?.depends).toContain(HEADLESS_DEPENDENCY.deb);
    expect(config.rpm?.depends).toContain(HEADLESS_DEPENDENCY.rpm);
    for (const dest of Object.keys(SYSTEM_FILES)) {
      expect(dest.startsWith(HEADLESS.libDir) || dest.startsWith('/usr/share/polkit-1'), dest).toBe(false);
    }
  });

  it('`npm run package` says what it built and why the desktop package was not (no Electron binary here)', () => {
    expect(packageOutput).toMatch(/^built: /m);
    expect(packageOutput).toMatch(/^not built: archway-desktop .* because there is no Electron binary: /m);
  });

  it('every file it installs outside /opt exists after `npm run package`, mapped to its system path', () => {
    for (const [dest, src] of Object.entries(SYSTEM_FILES)) {
      expect(existsSync(src), `${src} (for ${dest})`).toBe(true);
      expect(config.deb?.fpm).toContain(`${src}=${dest}`);
      expect(config.rpm?.fpm).toContain(`${src}=${dest}`);
    }
  });
});

describe('icons', () => {
  it.skipIf(!has('rsvg-convert'))('build/icons holds every hicolor size, rendered from build/icons/archway.svg as committed', () => {
    expect(config.linux?.icon).toBe('build/icons');
    const fresh = renderIcons(tmp);
    for (const [i, n] of ICON_SIZES.entries()) {
      const committed = readFileSync(join(REPO, 'build/icons', `${n}x${n}.png`));
      // PNG IHDR: width and height, big-endian, at bytes 16 and 20.
      expect([committed.readUInt32BE(16), committed.readUInt32BE(20)], `${n}x${n}.png`).toEqual([n, n]);
      expect(committed.equals(readFileSync(fresh[i]!)), `${n}x${n}.png is stale: run node scripts/icons.mjs`).toBe(true);
    }
  });
});

describe('AppStream metainfo', () => {
  it.skipIf(!has('appstreamcli'))('passes appstreamcli validate, with package.json\'s version and the desktop entry electron-builder writes', () => {
    const xml = metainfoXml({ version: VERSION, date: '2026-11-30' });
    expect(xml).toContain(`<release version="${VERSION}" date="2026-11-30"/>`);
    expect(xml).toContain(`<launchable type="desktop-id">${DESKTOP_FILE}</launchable>`);
    expect(DESKTOP_FILE).toBe(`${config.executableName}.desktop`);
    const file = join(tmp, 'dev.archway.Archway.metainfo.xml');
    writeFileSync(file, xml);
    const r = spawnSync('appstreamcli', ['validate', '--no-net', '--explain', file], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // The validator does fail a broken file (a release without a version).
    writeFileSync(file, xml.replace(`version="${VERSION}" `, ''));
    expect(spawnSync('appstreamcli', ['validate', '--no-net', file]).status).not.toBe(0);
  });

  it('the built metainfo (npm run package) carries package.json\'s version', () => {
    expect(readFileSync(METAINFO_BUILT, 'utf8')).toContain(`<release version="${VERSION}"`);
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
    const file = join(tmp, DESKTOP_FILE);
    writeFileSync(file, `[Desktop Entry]\n${Object.entries(entry).map(([k, v]) => `${k}=${v}`).join('\n')}\n`);
    const r = spawnSync('desktop-file-validate', [file], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('polkit policy', () => {
  it.skipIf(!has('xmllint') || !existsSync(POLKIT_DTD))('is valid against polkit\'s DTD and names the helper the headless package installs', () => {
    const policy = readFileSync(POLICY, 'utf8');
    expect(policy).toContain(`<annotate key="org.freedesktop.policykit.exec.path">${HEADLESS.helper}</annotate>`);
    const r = spawnSync('xmllint', ['--noout', '--nonet', '--dtdvalid', POLKIT_DTD, POLICY], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // The DTD check is real: an element polkit does not know fails it.
    const bad = join(tmp, 'bad.policy');
    writeFileSync(bad, policy.replace('<vendor>', '<notpolkit/><vendor>'));
    expect(spawnSync('xmllint', ['--noout', '--nonet', '--dtdvalid', POLKIT_DTD, bad]).status).not.toBe(0);
  });
});
