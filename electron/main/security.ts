/**
 * Every lockdown of the desktop app, in one place. The renderer shows untrusted text (container
 * output, image names, /proc entries written by other tools) one hop from a root helper, so it is
 * treated as hostile: no Node, a sandboxed renderer, isolated contexts, a strict CSP, only our
 * own packaged files (served from app://archway), no navigation, no new windows, no permissions,
 * no downloads, no webviews, and every IPC message's sender frame checked.
 *
 * Electron appears here only as types: main (index.ts) hands in the real objects, the unit tests
 * hand in small fakes and read back exactly what was configured.
 */
import type { BrowserWindowConstructorOptions, CallbackResponse, CustomScheme, OnBeforeRequestListenerDetails, Session, WebContents } from 'electron';
import { extname, join, normalize, sep } from 'node:path';
import type { SenderInfo } from './ipc';

// ---------------------------------------------------------------------------------------------
// Where content comes from

export const APP_SCHEME = 'app';
export const APP_HOST = 'archway';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

/** Registered before `ready`: a standard, secure scheme (like https) for our packaged files only. */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true },
};

/**
 * The Content-Security-Policy sent with every app:// response (and by the test harness).
 * Scripts only from our own files. Styles also allow inline `<style>` elements: xterm.js inserts
 * its theme that way; styles cannot run code, and with img/connect/font limited to 'self' (data:
 * images only) injected CSS has nowhere to send anything.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Headers on every file we serve. */
export function responseHeaders(mime: string): Record<string, string> {
  return {
    'content-type': mime,
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** Is this URL one of our own pages (app://archway/…)? (WHATWG gives custom schemes origin "null": compare parts.) */
export function isAppUrl(url: string): boolean {
  const u = parseUrl(url);
  return !!u && u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && u.username === '' && u.password === '';
}

export type AppFile = { ok: true; file: string; mime: string } | { ok: false; status: 400 | 403 | 404 };

/**
 * app://archway/<path> → a file under `root` (the built renderer). Anything else — another host,
 * `..`, encoded separators, NUL, unknown file types — is refused.
 */
export function resolveAppRequest(url: string, root: string): AppFile {
  if (!isAppUrl(url)) return { ok: false, status: 403 };
  const u = new URL(url);
  let path: string;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    return { ok: false, status: 400 };
  }
  if (path === '/' || path === '') path = '/index.html';
  if (path.includes('\0') || path.includes('\\') || path.split('/').some((p) => p === '..')) return { ok: false, status: 403 };
  const file = normalize(join(root, path));
  const base = normalize(root.endsWith(sep) ? root : root + sep);
  if (!file.startsWith(base)) return { ok: false, status: 403 };
  const mime = MIME[extname(file).toLowerCase()];
  if (!mime) return { ok: false, status: 404 };
  return { ok: true, file, mime };
}

/** Requests the session lets through: our files and DevTools' own. Everything else is cancelled (no remote content). */
export function isAllowedRequest(url: string): boolean {
  const u = parseUrl(url);
  if (!u) return false;
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'devtools:') return true;
  return isAppUrl(url);
}

// ---------------------------------------------------------------------------------------------
// The window

export interface WindowOptionsInput {
  preload: string;
  bounds: { x?: number; y?: number; width: number; height: number };
  minWidth: number;
  minHeight: number;
  dark: boolean;
  icon?: string;
}

type WindowCtor<W> = new (options: BrowserWindowConstructorOptions) => W;

/**
 * The only place a window is made. The options are written out here, literally, so that a reader
 * (and static checkers such as electronegativity) sees them at the constructor; the unit test hands
 * in a recording constructor and checks exactly what Electron receives.
 */
export function openWindow<W>(BrowserWindow: WindowCtor<W>, input: WindowOptionsInput): W {
  return new BrowserWindow({
    ...input.bounds,
    minWidth: input.minWidth,
    minHeight: input.minHeight,
    title: 'Archway',
    // Shown on ready-to-show: no white flash, no layout jump.
    show: false,
    backgroundColor: input.dark ? '#17191c' : '#f6f7f9',
    autoHideMenuBar: true,
    ...(input.icon ? { icon: input.icon } : {}),
    webPreferences: {
      preload: input.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      autoplayPolicy: 'document-user-activation-required',
      disableDialogs: true,
      // Middle-click must not open links in new windows (the window-open handler denies them too).
      disableBlinkFeatures: 'Auxclick',
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Who may talk to main

/** An IPC message is trusted only from the top frame of one of our pages. */
export function isTrustedSender(sender: SenderInfo | null, isOurPage: (url: string) => boolean = isAppUrl): boolean {
  return !!sender && sender.isMainFrame && isOurPage(sender.url);
}

// ---------------------------------------------------------------------------------------------
// Session and web contents lockdown

export type SecurityLog = (message: string) => void;

type SessionLike = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler' | 'on'> & {
  webRequest: Pick<Session['webRequest'], 'onBeforeRequest'>;
};

/** Deny every permission, device and download; cancel every request that is not our own content. */
export function hardenSession(session: SessionLike, log: SecurityLog = () => {}): void {
  session.setPermissionRequestHandler((_wc, permission, callback) => {
    log(`denied permission request: ${permission}`);
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.webRequest.onBeforeRequest({ urls: ['<all_urls>'] }, (details: OnBeforeRequestListenerDetails, callback: (r: CallbackResponse) => void) => {
    const allowed = isAllowedRequest(details.url);
    if (!allowed) log(`blocked request to ${details.url}`);
    callback({ cancel: !allowed });
  });
  session.on('will-download', (event) => {
    log('blocked a download');
    event.preventDefault();
  });
}

type ContentsLike = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

function urlOf(event: unknown, url: unknown): string {
  const fromEvent = (event as { url?: unknown } | null)?.url;
  return typeof fromEvent === 'string' ? fromEvent : typeof url === 'string' ? url : '';
}

/** No navigation away from our pages, no new windows, no webviews. Applied to every web contents. */
export function hardenWebContents(contents: ContentsLike, log: SecurityLog = () => {}): void {
  const guard = (what: string) => (event: { preventDefault(): void }, url?: string) => {
    const target = urlOf(event, url);
    if (!isAppUrl(target)) {
      log(`blocked ${what} to ${target}`);
      event.preventDefault();
    }
  };
  contents.on('will-navigate', guard('navigation'));
  contents.on('will-redirect', guard('redirect'));
  contents.on('will-frame-navigate', guard('frame navigation'));
  contents.on('will-attach-webview', (event) => {
    log('blocked a webview');
    event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    log(`blocked a new window for ${url}`);
    return { action: 'deny' };
  });
}

// ---------------------------------------------------------------------------------------------
// Packaging

/**
 * Electron fuses flipped into the packaged binary (build/electron-builder.config.mjs must carry
 * exactly these; a unit test compares them).
 *
 * runAsNode stays ON, on purpose: the privileged helper is a Node program, and root mode
 * (elevate.ts 'direct': the app started as root, or an AppImage without the system helper) runs it
 * with Archway's own runtime (`ELECTRON_RUN_AS_NODE=1 archway-desktop archway-helper.mjs`). Under
 * pkexec the packages run /usr/lib/archway/archway-helper from the `archway` package, on the
 * distribution's Node (>= 18). The cost: anyone
 * who can run the binary can use it as a Node interpreter — on Linux that grants nothing they did
 * not have (no setuid, no capabilities, no entitlements). See docs/decisions/0002-fuses-run-as-node.md.
 */
export const FUSES = {
  runAsNode: true,
  enableCookieEncryption: true,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  loadBrowserProcessSpecificV8Snapshot: false,
  grantFileProtocolExtraPrivileges: false,
} as const;
