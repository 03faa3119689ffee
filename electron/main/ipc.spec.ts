import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../shared/ipc/api';
import { EVENTS, INVOKE_NAMES, INVOKES, type Prefs } from '../../shared/ipc/contract';
import { Engine } from '../engine';
import { archwayPaths } from '../engine/paths';
import { DockerGateway } from './docker';
import { createDispatcher, electronSender, eventEmitter, registerIpc, type SenderInfo } from './ipc';
import { createRouter, type Router } from './router';
import { isTrustedSender } from './security';

const APP: SenderInfo = { url: 'app://archway/index.html', isMainFrame: true };

let root: string;
let router: Router;
const calls: string[] = [];
const emitted: [string, unknown][] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'archway-ipc-'));
  // A real Engine on a private file tree and a binfmt_misc path where nothing is mounted.
  const engine = new Engine({ paths: archwayPaths(root, join(root, 'binfmt_misc')) });
  const prefs: Prefs = { lastView: 'architectures' };
  const real = createRouter({
    engine,
    docker: new DockerGateway({ env: { DOCKER_HOST: `unix://${join(root, 'no-docker.sock')}` }, connectTimeoutMs: 1000 }),
    prefs: { get: () => ({ ...prefs }), set: (p) => Object.assign(prefs, p) },
    emit: eventEmitter((c, p) => emitted.push([c, p])),
    app: { version: 'test', shell: 'unit' },
  });
  // Record which handlers the wrapper lets through.
  const handlers = new Proxy(real.handlers, {
    get: (t, k: string) => (req: never) => {
      calls.push(k);
      return (t as Record<string, (r: never) => unknown>)[k]!(req);
    },
  });
  router = { ...real, handlers };
});

afterAll(() => {
  router.dispose();
  rmSync(root, { recursive: true, force: true });
});

const dispatch = () => createDispatcher(router, (s) => isTrustedSender(s));

describe('the IPC wrapper', () => {
  it('answers a trusted request with the router\'s value', async () => {
    const r = await dispatch()(APP, INVOKES.getStatus.channel, undefined);
    expect(r.ok).toBe(true);
    expect((r as { value: { mount: { mounted: boolean } } }).value.mount.mounted).toBe(false);
  });

  it('refuses senders that are not the top frame of an app:// page, before the router runs', async () => {
    const before = calls.length;
    for (const sender of [null, { url: 'app://archway/index.html', isMainFrame: false }, { url: 'https://archway/index.html', isMainFrame: true }, { url: 'app://evil/index.html', isMainFrame: true }, { url: 'file:///tmp/x.html', isMainFrame: true }]) {
      const r = await dispatch()(sender, INVOKES.getStatus.channel, undefined);
      expect(r).toMatchObject({ ok: false, error: { code: 'untrusted-sender' } });
    }
    expect(calls.length).toBe(before);
  });

  it('refuses unknown channels, extra arguments and invalid payloads with a code and a message', async () => {
    const refused: string[] = [];
    const d = createDispatcher(router, (s) => isTrustedSender(s), { onRefused: (r) => refused.push(r.code) });
    const before = calls.length;
    expect(await d(APP, 'archway:rm-rf', {})).toMatchObject({ ok: false, error: { code: 'unknown-channel' } });
    expect(await d(APP, INVOKES.getStatus.channel, undefined, 1)).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    const bad = await d(APP, INVOKES.plan.channel, { action: 'format-disk', archs: ['arm64'] });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect((bad as { error: { message: string } }).error.message).toContain('action');
    // strict objects: an extra field is refused, not ignored
    expect(await d(APP, INVOKES.plan.channel, { action: 'install', archs: ['arm64'], helperPath: '/tmp/evil' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await d(APP, INVOKES.startProbe.channel, { image: '--privileged', platforms: ['linux/arm64'] })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await d(APP, INVOKES.apply.channel, { planId: '../../etc' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(calls.length).toBe(before);
    expect(refused).toEqual(['unknown-channel', 'invalid-request', 'invalid-request', 'invalid-request', 'invalid-request', 'invalid-request']);
  });

  it('serialises errors from behind the boundary with their code, message and hint', async () => {
    const r = await dispatch()(APP, INVOKES.plan.channel, { action: 'install', archs: ['arm65'] });
    expect(r).toMatchObject({ ok: false, error: { code: 'unknown-arch' } });
    expect((r as { error: { message: string } }).error.message).toContain('arm65');
    const stale = await dispatch()(APP, INVOKES.apply.channel, { planId: 'aaaaaaaa-bbbb' });
    expect(stale).toMatchObject({ ok: false, error: { code: 'plan-expired', hint: expect.stringContaining('again') } });
  });
});

describe('registerIpc', () => {
  it('registers every contract channel through the wrapper, with the sender taken from the frame', async () => {
    const handlers = new Map<string, (e: unknown, ...args: unknown[]) => unknown>();
    const fakeIpcMain = {
      handle: (ch: string, fn: (e: unknown, ...args: unknown[]) => unknown) => void handlers.set(ch, fn),
      removeHandler: (ch: string) => void handlers.delete(ch),
    };
    const undo = registerIpc(fakeIpcMain as never, dispatch());
    expect([...handlers.keys()].sort()).toEqual(INVOKE_NAMES.map((n) => INVOKES[n].channel).sort());
    const h = handlers.get(INVOKES.getPrefs.channel)!;
    expect(await h({ senderFrame: { url: 'app://archway/index.html', parent: null } }, undefined)).toEqual({ ok: true, value: { lastView: 'architectures' } });
    expect(await h({ senderFrame: { url: 'app://archway/index.html', parent: {} } }, undefined)).toMatchObject({ ok: false, error: { code: 'untrusted-sender' } });
    expect(await h({ senderFrame: null }, undefined)).toMatchObject({ ok: false, error: { code: 'untrusted-sender' } });
    expect(await h({ senderFrame: { url: 'app://archway/index.html', parent: null } }, undefined, 'extra')).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    undo();
    expect(handlers.size).toBe(0);
  });

  it('electronSender reads the frame URL and whether it is the top frame', () => {
    expect(electronSender({ senderFrame: { url: 'app://archway/', parent: null } } as never)).toEqual({ url: 'app://archway/', isMainFrame: true });
    expect(electronSender({ senderFrame: null } as never)).toBeNull();
  });
});

describe('one API, two transports', () => {
  it('createApi over the dispatcher: calls resolve with values, refusals reject with plain {code,message,hint}', async () => {
    const d = dispatch();
    const listeners = new Map<string, (p: unknown) => void>();
    const api = createApi({ invoke: (c, p) => d(APP, c, p), on: (c, l) => (listeners.set(c, l), () => listeners.delete(c)) });
    expect(Object.keys(api).sort()).toEqual([...INVOKE_NAMES, 'onContainerEngineChanged', 'onHandlerEvents', 'onNotification', 'onProbeDone', 'onProbeEvent', 'onStatusChanged', 'onShellOpened', 'onShellOutput', 'onShellExit'].sort());
    expect(await api.setPrefs({ lastView: 'activity' })).toEqual({ lastView: 'activity' });
    const err = await api.plan({ action: 'install', archs: ['nope'] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ArchwayError', code: 'unknown-arch' });
    expect(err).not.toBeInstanceOf(Error);
    const seen: unknown[] = [];
    const off = api.onStatusChanged((s) => seen.push(s));
    listeners.get(EVENTS.statusChanged.channel)!({ x: 1 });
    expect(seen).toEqual([{ x: 1 }]);
    off();
    expect(listeners.has(EVENTS.statusChanged.channel)).toBe(false);
  });

  it('a reply that is not an envelope is an error, not a value', async () => {
    const api = createApi({ invoke: async () => 'hello', on: () => () => undefined });
    await expect(api.getStatus()).rejects.toMatchObject({ code: 'bad-reply' });
  });
});
