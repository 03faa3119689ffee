/**
 * The Chromium test harness: the BUILT renderer (out/renderer) served over HTTP with the app's own
 * CSP and file resolution, in Debian's Chromium, with `window.archway` built by the same createApi()
 * as the preload — over Playwright's exposeBinding, backed by the real main-process dispatcher
 * (sender check + validation) and router with a real Engine.
 */
import { build } from 'esbuild';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createDispatcher, eventEmitter, type Dispatch } from '../../electron/main/ipc';
import { APP_ORIGIN, isTrustedSender, resolveAppRequest, responseHeaders } from '../../electron/main/security';
import type { Emit } from '../../electron/main/router';
import type { Router } from '../../electron/main/router';

export const REPO = join(import.meta.dirname, '..', '..');
export const RENDERER_DIR = join(REPO, 'out/renderer');
export const ARTIFACTS = join(REPO, 'test-artifacts');
export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function requireRenderer(): void {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) throw new Error('out/renderer is missing: run `npm run build` first (npm test does it)');
}

/** Serve out/renderer exactly as the app:// protocol does (same resolution, same headers). */
export async function serveRenderer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const r = resolveAppRequest(`${APP_ORIGIN}${req.url ?? '/'}`, RENDERER_DIR);
    if (!r.ok) {
      res.writeHead(r.status).end();
      return;
    }
    try {
      const body = readFileSync(r.file);
      res.writeHead(200, responseHeaders(r.mime)).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return {
    origin: `http://127.0.0.1:${addr.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let clientScript: string | undefined;
async function harnessClient(): Promise<string> {
  if (!clientScript) {
    const r = await build({
      entryPoints: [join(import.meta.dirname, 'harness-client.ts')],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'chrome120',
      write: false,
      logLevel: 'silent',
    });
    clientScript = r.outputFiles[0]!.text;
  }
  return clientScript;
}

export interface Harness {
  context: BrowserContext;
  page: Page;
  /** Main → renderer events, as main's `webContents.send` would deliver them. */
  emit: Emit;
  dispatch: Dispatch;
  refused: { code: string; channel: string }[];
  close(): Promise<void>;
}

export interface LaunchOptions {
  origin: string;
  /** Builds the router; its events go to the page. */
  makeRouter: (emit: Emit) => Router;
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
}

export async function launchHarness(opts: LaunchOptions): Promise<Harness> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'archway-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: opts.viewport ?? { width: 1280, height: 820 },
    colorScheme: opts.colorScheme ?? 'light',
    // Only our local server: anything else would be remote content.
    offline: false,
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  // Remote content is never loaded: fail the test loudly if the page tries.
  await context.route((url) => !url.href.startsWith(opts.origin) && !url.protocol.startsWith('data'), (route) => route.abort('blockedbyclient'));
  const pending: Promise<unknown>[] = [];
  const emit = eventEmitter((channel, payload) => {
    pending.push(
      page.evaluate(([c, p]) => window.__archwayDeliver?.(c, p), [channel, payload] as const).catch(() => undefined),
    );
  });
  const router = opts.makeRouter(emit);
  const refused: Harness['refused'] = [];
  const isOurPage = (url: string) => url.startsWith(`${opts.origin}/`);
  const dispatch = createDispatcher(router, (s) => isTrustedSender(s, isOurPage), { onRefused: (r) => refused.push({ code: r.code, channel: r.channel }) });
  await page.exposeBinding('__archwayInvoke', (source, channel: string, payload: unknown) =>
    dispatch({ url: source.frame.url(), isMainFrame: source.frame === source.page.mainFrame() }, channel, payload),
  );
  await page.addInitScript({ content: await harnessClient() });
  return {
    context,
    page,
    emit,
    dispatch,
    refused,
    close: async () => {
      router.dispose();
      await Promise.allSettled(pending);
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
