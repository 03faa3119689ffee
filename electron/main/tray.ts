/**
 * The tray icon (where the desktop shows one): the status in one line (shared/status-summary.ts)
 * as its tooltip and menu heading, and a click that opens or focuses the window. Electron glue
 * only, handed Electron's classes by index.ts (no Electron import here but types); the text is
 * the pure statusSummary, unit-tested. Cannot run here (no Electron binary): see
 * test/e2e/electron-shell.test.ts, skipped with its reason where there is none.
 */
import type { Menu as ElectronMenu, MenuItemConstructorOptions, NativeImage, Tray as ElectronTray } from 'electron';
import { join } from 'node:path';
import { statusSummary } from '../../shared/status-summary';
import type { Status } from '../../shared/status';

/** Where electron-builder's extraResources put the icon in the AppImage (build/electron-builder.config.mjs). */
export const TRAY_ICON_RESOURCE = 'icons/32x32.png';

/**
 * Where the tray's icon may be, first found wins: the app's resources folder (the AppImage, whose
 * app.asar holds no build/; also present in the .deb/.rpm), a checkout's build/icons
 * (development), then the hicolor icon the .deb/.rpm install.
 */
export function trayIconCandidates(at: { resourcesPath: string; appPath: string; hicolor?: string }): string[] {
  const hicolor = at.hicolor ?? '/usr/share/icons/hicolor';
  return [join(at.resourcesPath, TRAY_ICON_RESOURCE), join(at.appPath, 'build/icons/32x32.png'), join(hicolor, '32x32/apps/archway.png')];
}

export interface TrayDeps {
  Tray: new (image: NativeImage | string) => ElectronTray;
  Menu: { buildFromTemplate(template: MenuItemConstructorOptions[]): ElectronMenu };
  /** The app icon (build/icons/32x32.png from resources, or from the checkout). */
  icon: NativeImage | string;
  /** Open the window, or focus it. */
  open: () => void;
  quit: () => void;
}

export interface AppTray {
  update(status: Status | null): void;
  /** The line shown now. */
  summary(): string;
  /** Electron's tray (the _electron test clicks it). */
  readonly electronTray: ElectronTray;
  destroy(): void;
}

export function createTray(deps: TrayDeps): AppTray {
  const tray = new deps.Tray(deps.icon);
  let line = '';
  const update = (status: Status | null) => {
    line = statusSummary(status).text;
    tray.setToolTip(line);
    // Linux (StatusNotifierItem) shows the menu on click; the first item is the summary, then Open.
    tray.setContextMenu(
      deps.Menu.buildFromTemplate([
        { label: line, enabled: false },
        { type: 'separator' },
        { label: 'Open Archway', click: deps.open },
        { label: 'Quit', click: deps.quit },
      ]),
    );
  };
  tray.on('click', deps.open);
  update(null);
  return { update, summary: () => line, electronTray: tray, destroy: () => tray.destroy() };
}
