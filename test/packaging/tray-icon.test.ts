/**
 * The AppImage's tray icon: electron/main/tray.ts looks for its icon where each package puts it
 * (trayIconCandidates). The .deb/.rpm install the hicolor icon; the AppImage installs nothing,
 * and its app.asar holds only out/ and package.json, so the icon must come from its resources
 * folder (electron-builder's extraResources). This fills a resources folder exactly as
 * build/electron-builder.config.mjs lists it (appImageResources), gives the tray an app path
 * with no checkout's build/ (as inside the asar) and a hicolor folder that does not exist (as on
 * a machine with only the AppImage), and checks the tray finds a 32×32 PNG there.
 * The AppImage itself cannot be built here (no Electron binary, no network for electron-builder's
 * downloads): this checks the config and the lookup, not a built AppImage.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import config from '../../build/electron-builder.config.mjs';
import { TRAY_ICON_RESOURCE, trayIconCandidates } from '../../electron/main/tray';
import { appImageResources } from './packages';

/** Width and height from a PNG's IHDR chunk (throws when the file is not a PNG). */
function pngSize(file: string): [number, number] {
  const b = readFileSync(file);
  if (b.subarray(1, 4).toString('latin1') !== 'PNG' || b.subarray(12, 16).toString('latin1') !== 'IHDR') throw new Error(`${file} is not a PNG`);
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

describe('AppImage: the tray icon ships in its resources', () => {
  const work = mkdtempSync(join(tmpdir(), 'archway-tray-icon-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('electron-builder\'s extraResources lists the icon the tray looks for', () => {
    const listed = (config.extraResources as { from: string; to: string }[]).find((r) => r.to === TRAY_ICON_RESOURCE);
    expect(listed, `extraResources has no entry to ${TRAY_ICON_RESOURCE}`).toBeDefined();
    expect(pngSize(join(import.meta.dirname, '../..', listed!.from))).toEqual([32, 32]);
  });

  it('in an AppImage\'s resources folder (no checkout, no hicolor icon) the tray finds a 32×32 PNG', () => {
    const resources = join(work, 'resources');
    const asar = join(work, 'resources/app.asar-like');
    mkdirSync(asar, { recursive: true });
    appImageResources(resources);
    const found = trayIconCandidates({ resourcesPath: resources, appPath: asar, hicolor: join(work, 'no-such-share/icons/hicolor') }).find((p) => existsSync(p));
    expect(found, 'the tray finds no icon in the AppImage').toBeDefined();
    expect(pngSize(found!)).toEqual([32, 32]);
  });
});
