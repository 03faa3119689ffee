import type { BrowserWindowConstructorOptions } from 'electron';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import builderConfig from '../../build/electron-builder.config.mjs';
import {
  APP_ENTRY,
  APP_SCHEME_PRIVILEGES,
  CSP,
  FUSES,
  hardenSession,
  hardenWebContents,
  isAllowedRequest,
  isAppUrl,
  isTrustedSender,
  resolveAppRequest,
  responseHeaders,
  openWindow,
} from './security';

const REPO = join(import.meta.dirname, '..', '..');

describe('the BrowserWindow options main really uses', () => {
  // A recording constructor: exactly what Electron's BrowserWindow receives.
  const seen: BrowserWindowConstructorOptions[] = [];
  class RecordingWindow {
    constructor(o: BrowserWindowConstructorOptions) {
      seen.push(o);
    }
  }
  const made = openWindow(RecordingWindow, { preload: '/app/out/preload/index.cjs', bounds: { width: 1200, height: 800 }, minWidth: 900, minHeight: 600, dark: false });
  const opts = seen[0]!;
  const wp = opts.webPreferences!;

  it('isolate, sandbox and keep Node out of every renderer, frame and worker', () => {
    expect(wp).toMatchObject({
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
      disableBlinkFeatures: 'Auxclick',
    });
    expect(wp.preload).toBe('/app/out/preload/index.cjs');
    // Nothing that loosens the defaults sneaks in.
    expect(wp).not.toHaveProperty('enableBlinkFeatures');
    expect(wp).not.toHaveProperty('additionalArguments');
    expect(opts.show).toBe(false);
  });

  it('makes one window and returns it', () => {
    expect(seen).toHaveLength(1);
    expect(made).toBeInstanceOf(RecordingWindow);
  });

  it('main.ts makes its window only through openWindow() and loads only app://', () => {
    const main = readFileSync(join(REPO, 'electron/main/index.ts'), 'utf8');
    expect(main).toMatch(/openWindow\(BrowserWindow, /);
    expect(main).not.toMatch(/new BrowserWindow\(/);
    expect(main).toContain('loadURL(APP_ENTRY)');
    expect(main).not.toMatch(/loadFile|webSecurity|@electron\/remote|enableRemoteModule/);
    expect(APP_ENTRY).toBe('app://archway/index.html');
  });
});

describe('content security policy', () => {
  it('allows scripts only from our own files, nothing remote, no eval', () => {
    const d = Object.fromEntries(CSP.split('; ').map((x) => [x.split(' ')[0], x.split(' ').slice(1)]));
    expect(d['default-src']).toEqual(["'none'"]);
    expect(d['script-src']).toEqual(["'self'"]);
    expect(d['connect-src']).toEqual(["'self'"]);
    expect(d['object-src']).toEqual(["'none'"]);
    expect(d['frame-ancestors']).toEqual(["'none'"]);
    expect(CSP).not.toMatch(/unsafe-eval|https?:|\*/);
  });

  it('the page carries the same policy in a meta tag (frame-ancestors only works as a header)', () => {
    const html = readFileSync(join(REPO, 'renderer/index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBe(CSP.replace("; frame-ancestors 'none'", ''));
  });

  it('every response carries it', () => {
    expect(responseHeaders('text/html')).toMatchObject({ 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' });
  });
});

describe('app:// files', () => {
  const root = '/opt/archway/out/renderer';
  it('serves files under the renderer directory', () => {
    expect(resolveAppRequest('app://archway/', root)).toEqual({ ok: true, file: `${root}/index.html`, mime: 'text/html; charset=utf-8' });
    expect(resolveAppRequest('app://archway/assets/index-abc.js', root)).toMatchObject({ ok: true, file: `${root}/assets/index-abc.js` });
  });
  it('refuses other hosts, traversal, encoded separators, NUL and unknown types', () => {
    expect(resolveAppRequest('app://evil/index.html', root)).toEqual({ ok: false, status: 403 });
    // The URL parser already folds dot segments: whatever remains stays inside the root.
    expect(resolveAppRequest('app://archway/%2e%2e/%2e%2e/etc/passwd.html', root)).toEqual({ ok: true, file: `${root}/etc/passwd.html`, mime: 'text/html; charset=utf-8' });
    expect(resolveAppRequest('app://archway/assets/..%2f..%2fsecret.js', root)).toEqual({ ok: false, status: 403 });
    expect(resolveAppRequest('app://archway/a%5c..%5cb.js', root)).toEqual({ ok: false, status: 403 });
    expect(resolveAppRequest('app://archway/x%00.js', root)).toEqual({ ok: false, status: 403 });
    expect(resolveAppRequest('app://archway/%E0%A4%A', root)).toEqual({ ok: false, status: 400 });
    expect(resolveAppRequest('app://archway/state.sqlite', root)).toEqual({ ok: false, status: 404 });
    expect(resolveAppRequest('https://archway/index.html', root)).toEqual({ ok: false, status: 403 });
  });
  it('registers app:// as a standard, secure scheme', () => {
    expect(APP_SCHEME_PRIVILEGES).toMatchObject({ scheme: 'app', privileges: { standard: true, secure: true } });
  });
});

describe('no remote content, no navigation, no windows, no permissions', () => {
  it('isAppUrl / isAllowedRequest', () => {
    expect(isAppUrl('app://archway/index.html')).toBe(true);
    expect(isAppUrl('app://user:pw@archway/index.html')).toBe(false);
    expect(isAppUrl('app://archway.evil/index.html')).toBe(false);
    expect(isAllowedRequest('https://example.com/x.js')).toBe(false);
    expect(isAllowedRequest('http://127.0.0.1:2375/containers/json')).toBe(false);
    expect(isAllowedRequest('file:///etc/passwd')).toBe(false);
    expect(isAllowedRequest('ws://localhost/')).toBe(false);
    expect(isAllowedRequest('app://archway/assets/x.js')).toBe(true);
    expect(isAllowedRequest('data:image/png;base64,AAAA')).toBe(true);
  });

  it('hardenSession denies permissions, devices and downloads and cancels remote requests', () => {
    const handlers: Record<string, (...a: never[]) => unknown> = {};
    const log: string[] = [];
    const session = {
      setPermissionRequestHandler: (fn: never) => (handlers.request = fn),
      setPermissionCheckHandler: (fn: never) => (handlers.check = fn),
      setDevicePermissionHandler: (fn: never) => (handlers.device = fn),
      on: (ev: string, fn: never) => (handlers[ev] = fn),
      webRequest: { onBeforeRequest: (filter: { urls: string[] }, fn: never) => ((handlers.before = fn), expect(filter.urls).toEqual(['<all_urls>'])) },
    };
    hardenSession(session as never, (m) => log.push(m));
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      let granted: boolean | undefined;
      (handlers.request as (wc: unknown, p: string, cb: (b: boolean) => void) => void)({}, permission, (b) => (granted = b));
      expect(granted, permission).toBe(false);
    }
    expect((handlers.check as () => boolean)()).toBe(false);
    expect((handlers.device as () => boolean)()).toBe(false);
    const decide = (url: string) => {
      let r: { cancel?: boolean } = {};
      (handlers.before as (d: { url: string }, cb: (r: { cancel?: boolean }) => void) => void)({ url }, (x) => (r = x));
      return r.cancel;
    };
    expect(decide('https://cdn.example/evil.js')).toBe(true);
    expect(decide('app://archway/index.html')).toBe(false);
    let prevented = false;
    (handlers['will-download'] as (e: { preventDefault(): void }) => void)({ preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
    expect(log).toContain('blocked request to https://cdn.example/evil.js');
  });

  it('hardenWebContents blocks navigation away, new windows and webviews', () => {
    const on: Record<string, (e: { preventDefault(): void; url?: string }, url?: string) => void> = {};
    let openHandler: ((d: { url: string }) => { action: string }) | undefined;
    hardenWebContents({ on: (ev: string, fn: never) => (on[ev] = fn), setWindowOpenHandler: (fn: never) => (openHandler = fn) } as never);
    const nav = (ev: string, url: string, viaEvent = false) => {
      let prevented = false;
      const e = { preventDefault: () => (prevented = true), ...(viaEvent ? { url } : {}) };
      on[ev]!(e, viaEvent ? undefined : url);
      return prevented;
    };
    expect(nav('will-navigate', 'https://example.com/')).toBe(true);
    expect(nav('will-navigate', 'file:///etc/passwd', true)).toBe(true);
    expect(nav('will-navigate', 'app://archway/index.html')).toBe(false);
    expect(nav('will-redirect', 'http://evil/')).toBe(true);
    expect(nav('will-frame-navigate', 'https://evil/', true)).toBe(true);
    expect(nav('will-attach-webview', 'app://archway/index.html')).toBe(true);
    expect(openHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    expect(openHandler!({ url: 'app://archway/index.html' })).toEqual({ action: 'deny' });
  });

  it('IPC senders: only the top frame of an app:// page', () => {
    expect(isTrustedSender({ url: 'app://archway/index.html', isMainFrame: true })).toBe(true);
    expect(isTrustedSender({ url: 'app://archway/index.html', isMainFrame: false })).toBe(false);
    expect(isTrustedSender({ url: 'https://archway/index.html', isMainFrame: true })).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
  });
});

describe('fuses', () => {
  it('the packaging config flips exactly the fuses security.ts defines', () => {
    expect(builderConfig.electronFuses).toEqual(FUSES);
  });
  it('keeps Node options, inspect flags and file:// privileges off; asar integrity on', () => {
    expect(FUSES).toMatchObject({
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      grantFileProtocolExtraPrivileges: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
    });
    // runAsNode is on for the helper (docs/decisions/0002-fuses-run-as-node.md): root mode runs
    // the helper bundle with the app's own runtime, and that must be what needs it.
    expect(FUSES.runAsNode).toBe(true);
    expect(readFileSync(join(REPO, 'electron/engine/elevate.ts'), 'utf8')).toContain("env.ELECTRON_RUN_AS_NODE = '1'");
  });
});
