/**
 * The Chromium test harness: the BUILT renderer (out/renderer) served over HTTP with the app's own
 * CSP and file resolution, in Debian's Chromium, with `window.archway` built by the same createApi()
 * as the preload — over Playwright's exposeBinding, backed by the real main-process dispatcher
 * (sender check + validation) and router with a real Engine.
 */
import { spawn } from 'node:child_process';
import { build } from 'esbuild';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createDispatcher, eventEmitter, type Dispatch } from '../../electron/main/ipc';
import { APP_ORIGIN, isTrustedSender, resolveAppRequest, responseHeaders } from '../../electron/main/security';
import type { Emit } from '../../electron/main/router';
import type { Router } from '../../electron/main/router';
import { bundleForNode } from '../support/node';
import type { RouterProcessConfig } from './router-process';

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

export interface RouterProcess {
  /** For launchHarness: the child's router behind the same Router interface (events go to the page). */
  makeRouter: (emit: Emit) => Router;
  /** The uid the router process runs as, and whether under no_new_privs (what it reported when it started). */
  uid: number;
  noNewPrivs: boolean;
  /** Its stderr so far (for failure messages). */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * The real router in a child process (router-process.ts), built with the gateways `config` asks
 * for (fleet, rootless), run by `wrap(argv)`: e.g. in a mount namespace whose /root holds the ssh
 * config (fleet-hosts.ts withHome), or as another user (`runuser -u NAME --`). The harness's own
 * dispatcher (sender check + validation) stays in this process and calls the child's handlers.
 */
export async function startRouterProcess(
  config: RouterProcessConfig,
  opts: { wrap?: (argv: string[]) => string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<RouterProcess> {
  // World-readable: another user runs it.
  const dir = mkdtempSync(join(tmpdir(), 'archway-router-'));
  chmodSync(dir, 0o755);
  const bundle = join(dir, 'router-process.mjs');
  await bundleForNode(join(import.meta.dirname, 'router-process.ts'), bundle);
  chmodSync(bundle, 0o644);
  const argv = (opts.wrap ?? ((a) => a))([process.execPath, bundle, JSON.stringify(config)]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: dir });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  let emit: ((name: string, payload: unknown) => void) | undefined;
  const early: [string, unknown][] = [];
  let ready: (who: { uid: number; noNewPrivs: boolean }) => void;
  const started = new Promise<{ uid: number; noNewPrivs: boolean }>((resolve) => (ready = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const m = JSON.parse(line) as { ready?: { uid: number; noNewPrivs: boolean }; id?: number; ok?: boolean; value?: unknown; error?: { code: string; message: string; hint?: string }; event?: string; payload?: unknown };
    if (m.ready !== undefined) ready(m.ready);
    else if (m.event) emit ? emit(m.event, m.payload) : early.push([m.event, m.payload]);
    else if (m.id !== undefined) {
      const c = calls.get(m.id);
      calls.delete(m.id);
      if (m.ok) c?.resolve(m.value);
      else c?.reject(Object.assign(new Error(m.error!.message), { code: m.error!.code, ...(m.error!.hint ? { hint: m.error!.hint } : {}) }));
    }
  });
  void exited.then(() => {
    for (const c of calls.values()) c.reject(new Error(`the router process exited: ${err.slice(-2000)}`));
    calls.clear();
  });
  const who = await Promise.race([started, exited.then(() => Promise.reject(new Error(`the router process exited while starting:\n${err}`)))]);
  const handlers = new Proxy({} as Router['handlers'], {
    get: (_t, name) => (payload: unknown) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        calls.set(id, { resolve, reject });
        child.stdin.write(`${JSON.stringify({ id, name, payload })}\n`);
      }),
  });
  const stop = async () => {
    child.stdin.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(t);
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    ...who,
    stderr: () => err,
    stop,
    makeRouter: (e) => {
      emit = e as (name: string, payload: unknown) => void;
      for (const [n, p] of early.splice(0)) emit(n, p);
      return {
        handlers,
        refreshStatus: () => {
          throw new Error('refreshStatus runs in the router process');
        },
        dispose: () => child.stdin.end(),
        shutdown: stop,
      };
    },
  };
}

export interface WindowOnRouterProcess {
  harness: Harness;
  router: RouterProcess;
  /** Uncaught page errors so far. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** The built renderer served, a router process started (startRouterProcess), Chromium on the page; close() ends all three. */
export async function openWithRouterProcess(config: RouterProcessConfig, opts: Parameters<typeof startRouterProcess>[1] = {}): Promise<WindowOnRouterProcess> {
  requireRenderer();
  const server = await serveRenderer();
  let router: RouterProcess | undefined;
  let harness: Harness | undefined;
  const close = async () => {
    await harness?.close();
    await router?.stop();
    await server.close();
  };
  try {
    router = await startRouterProcess(config, opts);
    harness = await launchHarness({ origin: server.origin, makeRouter: router.makeRouter });
    const pageErrors: string[] = [];
    harness.page.on('pageerror', (e) => pageErrors.push(e.message));
    await harness.page.goto(`${server.origin}/index.html`);
    return { harness, router, pageErrors, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
