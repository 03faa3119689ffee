/**
 * The desktop app's main process: lifecycle, one window, one instance. Main owns the engine
 * (status, plans, the helper, Docker); the renderer owns nothing privileged and reaches main only
 * through the contract (ipc.ts). Every lockdown lives in security.ts.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeTheme, Notification, protocol, screen, session, Tray } from 'electron';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Status } from '../../shared/status';
import { Engine } from '../engine';
import { checkHelper, installSystemHelper } from '../engine/system-helper';
import { DockerGateway } from './docker';
import { createDispatcher, eventEmitter, registerIpc } from './ipc';
import { startLive, type Live } from './live';
import { desktopNotifier, withNotifications } from './notifications';
import { createRouter, type Router } from './router';
import { ContextFleetGateway } from './fleet';
import { RootlessGateway } from '../rootless/gateway';
import {
  APP_ENTRY,
  APP_SCHEME,
  APP_SCHEME_PRIVILEGES,
  hardenSession,
  hardenWebContents,
  isTrustedSender,
  openWindow,
  resolveAppRequest,
  responseHeaders,
} from './security';
import { MIN_SIZE, restoreBounds, StateFile } from './state';
import { createTray, trayIconCandidates, type AppTray } from './tray';

const here = fileURLToPath(new URL('.', import.meta.url));
const RENDERER_DIR = join(here, '../renderer');
const PRELOAD = join(here, '../preload/index.cjs');

const log = (msg: string) => process.stderr.write(`archway: ${msg}\n`);

// Before `ready`: app:// is a standard, secure scheme for our packaged files.
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);

let win: BrowserWindow | null = null;
let router: Router | null = null;
let live: Live | null = null;
let tray: AppTray | null = null;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => showWindow());
  app.on('web-contents-created', (_e, contents) => hardenWebContents(contents, log));
  app.on('window-all-closed', () => app.quit());
  // Quitting waits (bounded by the engine calls' own deadlines) until every open shell's container
  // is removed; a second quit request while that runs goes through.
  let shellsClosed = false;
  app.on('before-quit', (e) => {
    live?.stop();
    if (shellsClosed || !router) {
      router?.dispose();
      tray?.destroy();
      return;
    }
    e.preventDefault();
    shellsClosed = true;
    void router.shutdown().finally(() => app.quit());
  });
  void app.whenReady().then(start);
}

function send(channel: string, payload: unknown): void {
  if (win && !win.isDestroyed()) win.webContents.send(channel, payload);
}

/** Bring the window up (a second launch, the tray, a desktop notification clicked). */
function showWindow(): void {
  if (!win || win.isDestroyed()) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

/**
 * The tray icon, where an icon file is found (trayIconCandidates: the resources folder, which the
 * AppImage fills; a checkout's build/icons; the hicolor icon the .deb/.rpm install). Whether the
 * desktop shows trays at all, Electron cannot tell on Linux: the window stays the app's face
 * (closing it quits), the tray is an extra.
 */
function startTray(): AppTray | null {
  const icon = trayIconCandidates({ resourcesPath: process.resourcesPath, appPath: app.getAppPath() }).find((p) => existsSync(p));
  if (!icon) return null;
  try {
    return createTray({ Tray, Menu, icon, open: showWindow, quit: () => app.quit() });
  } catch (err) {
    log(`no tray icon: ${(err as Error).message}`);
    return null;
  }
}

async function start(): Promise<void> {
  hardenSession(session.defaultSession, log);
  protocol.handle(APP_SCHEME, async (request) => {
    const r = resolveAppRequest(request.url, RENDERER_DIR);
    if (!r.ok) return new Response(null, { status: r.status });
    try {
      return new Response(await readFile(r.file), { headers: responseHeaders(r.mime) });
    } catch {
      return new Response(null, { status: 404 });
    }
  });

  const state = new StateFile(join(app.getPath('userData'), 'window-state.json'));
  const helper = packagedHelper();
  const engine = new Engine(helper ? { elevate: { helperPath: helper } } : {});
  const docker = new DockerGateway();
  // Every event goes to the window; what is worth a notification (shared/notifications.ts) also
  // goes as the `notification` event and to the desktop; status changes also update the tray.
  tray = startTray();
  // Reachable from the main process for test/e2e/electron-tray.test.ts (Playwright's app.evaluate).
  Object.defineProperty(app, 'archwayTray', { value: tray, configurable: true });
  const notifying = withNotifications({
    emit: eventEmitter(send),
    show: desktopNotifier(Notification, () => showWindow()),
    windowFocused: () => !!win && !win.isDestroyed() && win.isFocused(),
  });
  const emit: typeof notifying = (name, payload) => {
    notifying(name, payload);
    if (name === 'statusChanged') tray?.update(payload as Status);
  };
  router = createRouter({
    engine,
    docker,
    fleet: new ContextFleetGateway(),
    rootless: new RootlessGateway(),
    prefs: state,
    emit,
    app: { version: app.getVersion(), shell: 'electron' },
    // Import from file… (Engine view): the desktop's own open dialog; the path goes to the router, never to the renderer first.
    chooseImportPath: async () => {
      const opts = { title: 'Import emulators', properties: ['openFile', 'openDirectory'] as ('openFile' | 'openDirectory')[], filters: [{ name: 'docker save / OCI archive', extensions: ['tar', 'tgz', 'gz'] }, { name: 'Any', extensions: ['*'] }] };
      const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
      return r.canceled ? undefined : r.filePaths[0];
    },
  });
  const dispatch = createDispatcher(router, (s) => isTrustedSender(s), {
    onRefused: (r) => log(`refused ${r.channel} (${r.code}) from ${r.sender?.url ?? 'a closed frame'}: ${r.message}`),
  });
  registerIpc(ipcMain, dispatch);

  createWindow(state);
  void offerSystemHelper().catch((err: unknown) => log(`system helper check failed: ${(err as Error).message}`));
  live = startLive({
    readStatus: () => engine.status(),
    readContainerEngine: () => docker.view(true),
    watchContainerEngine: (onChange) => docker.watch(onChange),
    emit,
    onError: (err) => log(`live update failed: ${(err as Error).message}`),
  });
}

/**
 * Root mode ('direct') runs the helper bundle with this runtime. From a checkout elevate.ts finds
 * dist/helper itself; the desktop .deb/.rpm get it from the `archway` package they depend on
 * (build/linux/headless/package-info.mjs: libDir/helper), the AppImage from its resources.
 */
function packagedHelper(): string | undefined {
  if (!app.isPackaged) return undefined;
  return ['/usr/lib/archway/helper/archway-helper.mjs', join(process.resourcesPath, 'helper/archway-helper.mjs')].find((p) => existsSync(p));
}

/**
 * The version handshake, once at start in a packaged app run by a user: an installed helper that
 * does not speak this app's protocol (older, newer, broken) or none at all is reported, and from
 * an AppImage the user is offered "Install system helper": one pkexec prompt, running the same
 * installer as `sudo npm run install-helper` from a copy outside the FUSE mount
 * (electron/engine/system-helper.ts). The .deb/.rpm get the helper from the archway package.
 */
async function offerSystemHelper(): Promise<void> {
  if (!app.isPackaged || process.getuid?.() === 0) return;
  const check = await checkHelper();
  if (check.state === 'ok' || !win) return;
  const fromAppImage = Boolean(process.env.APPIMAGE);
  const offer = fromAppImage && check.state !== 'newer';
  const { response } = await dialog.showMessageBox(win, {
    type: 'warning',
    message: `Changes need the system helper: ${check.message}.`,
    detail: offer
      ? `${check.hint ?? ''}\n\nInstalling runs Archway's installer as root once (administrator password): it copies the helper to /usr/lib/archway and the polkit policy to /usr/share/polkit-1/actions.`
      : (check.hint ?? ''),
    buttons: offer ? ['Install system helper', 'Not now'] : ['OK'],
    defaultId: 0,
    cancelId: offer ? 1 : 0,
  });
  if (!offer || response !== 0) return;
  const result = await installSystemHelper({ resourcesDir: process.resourcesPath, mode: 'pkexec' });
  await dialog.showMessageBox(win, {
    type: result.ok ? 'info' : 'error',
    message: result.ok ? 'The system helper is installed.' : `The system helper was not installed: ${result.check.message}.`,
    detail: result.output,
  });
}

function createWindow(state: StateFile): void {
  const saved = state.saved.window;
  const bounds = restoreBounds(saved, screen.getAllDisplays().map((d) => d.workArea));
  win = openWindow(BrowserWindow, { preload: PRELOAD, bounds, minWidth: MIN_SIZE.width, minHeight: MIN_SIZE.height, dark: nativeTheme.shouldUseDarkColors });
  if (saved?.maximized) win.maximize();
  win.once('ready-to-show', () => win?.show());
  let timer: NodeJS.Timeout | undefined;
  const remember = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (win && !win.isDestroyed()) state.saveWindow(win.getNormalBounds(), win.isMaximized());
    }, 400);
  };
  win.on('resize', remember);
  win.on('move', remember);
  win.on('close', () => {
    clearTimeout(timer);
    if (win) state.saveWindow(win.getNormalBounds(), win.isMaximized());
  });
  win.on('closed', () => {
    win = null;
  });
  void win.loadURL(APP_ENTRY);
}
