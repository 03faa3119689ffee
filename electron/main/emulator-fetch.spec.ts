import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { machine } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HelperRequest } from '../../shared/helper-protocol';
import { EmulatorFetchRequestSchema, type Prefs } from '../../shared/ipc/contract';
import { Engine } from '../engine';
import { pullRoute } from '../container/pins';
import { storeAddRequest, type PreparedFetch } from '../container/fetch';
import type { ExtractedEmulator } from '../container/emulator-image';
import { parseElf } from '../../shared/elf';
import { archwayPaths } from '../engine/paths';
import { DockerGateway, type ProbeGateway } from './docker';
import { createDispatcher } from './ipc';
import { createRouter, type Emit, type EngineLike, type Router } from './router';

// "Fetch emulators" through the router: planEmulatorFetch → the helper's own dry run of store-add
// (a real Engine on a private file tree) → apply({planId}) through the existing flow, and the
// temporary directory removed after apply, on cancel and on expiry. The Docker side is a gateway
// handing out what electron/container/fetch.ts would (a static host program as the
// "emulator"); without Docker, the real DockerGateway's error.

/** A static program for this host, standing in for an extracted emulator. */
const STATIC = '/usr/bin/qemu-aarch64-static';
const canFake = machine() === 'x86_64' && existsSync(STATIC);

let root: string;
let clock = 1_000_000;
const events: { name: string; payload: unknown }[] = [];
const emit: Emit = (name, payload) => void events.push({ name, payload });
const prefs: Prefs = { lastView: 'engine' };
const applied: HelperRequest[] = [];
const prepared: PreparedFetch[] = [];
let failPreview = false;

function fakePrepare(archs: string[]): Promise<PreparedFetch> {
  const dir = mkdtempSync(join(root, 'archway-emulators-'));
  const file = join(dir, 'qemu-aarch64');
  copyFileSync(STATIC, file);
  const data = readFileSync(file);
  const pin = { repo: 'registry.test/archway-test/binfmt', tag: 'qemu-v7.2.0', digest: `sha256:${'a'.repeat(64)}` };
  const emulators: ExtractedEmulator[] = [
    {
      cpu: 'aarch64',
      emulator: 'qemu-aarch64',
      file,
      sha256: createHash('sha256').update(data).digest('hex'),
      size: data.length,
      elf: parseElf(data)!,
      provenance: { image: `${pin.repo}:${pin.tag}`, digest: pin.digest, qemuVersion: '7.2.0 (Debian 1:7.2+dfsg-7)' },
    },
  ];
  expect(archs).toEqual(['arm64']);
  const p: PreparedFetch = { dir, emulators, request: storeAddRequest(emulators), pin, route: pullRoute(pin, ['https://mirror.test']).words, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  prepared.push(p);
  return Promise.resolve(p);
}

function makeRouter(docker: ProbeGateway): Router {
  const real = new Engine({ paths: archwayPaths(root, join(root, 'binfmt_misc')) });
  const engine: EngineLike = {
    status: () => real.status(),
    plan: (i) => real.plan(i),
    preview: (r) => (failPreview ? Promise.reject(new Error('preview exploded')) : real.preview(r)),
    elevation: () => 'pkexec',
    audit: (n) => real.audit(n),
    // Applying would elevate: record the request instead.
    apply: async (request) => {
      applied.push(request);
      return { response: { version: 1, ok: true, dryRun: false, results: request.ops.map((o) => ({ op: o.op, ok: true, changed: true, message: `stored ${'arch' in o ? o.arch : ''}` })) }, exitCode: 0, stderr: '' } as never;
    },
  };
  let n = 0;
  return createRouter({
    engine,
    docker,
    prefs: { get: () => ({ ...prefs }), set: (p) => ({ ...Object.assign(prefs, p) }) },
    emit,
    app: { version: '0.1.0', shell: 'unit' },
    planTtlMs: 60_000,
    now: () => clock,
    newId: () => `plan-fetch-${++n}`,
  });
}

beforeAll(() => {
  root = mkdtempSync('/tmp/aw-'); // short: store paths stay within the kernel's 127-character interpreter limit
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeEach(() => {
  failPreview = false;
  applied.length = 0;
  prepared.length = 0;
  events.length = 0;
});

describe('planEmulatorFetch: contract', () => {
  it('takes architecture names only, bounded', () => {
    expect(EmulatorFetchRequestSchema.safeParse({ archs: ['arm64', 'linux/s390x', 'all'] }).success).toBe(true);
    expect(EmulatorFetchRequestSchema.safeParse({ archs: [] }).success).toBe(false);
    expect(EmulatorFetchRequestSchema.safeParse({ archs: ['$(reboot)'] }).success).toBe(false);
    expect(EmulatorFetchRequestSchema.safeParse({ archs: Array(33).fill('arm64') }).success).toBe(false);
    expect(EmulatorFetchRequestSchema.safeParse({ archs: ['arm64'], image: 'evil/binfmt' }).success).toBe(false);
    expect(EmulatorFetchRequestSchema.safeParse({ archs: ['arm64'], file: '/etc/shadow' }).success).toBe(false);
  });

  it('the one wrapper refuses a raw request and never reaches the gateway', async () => {
    let called = 0;
    const router = makeRouter({ view: async () => ({}) as never, run: async () => [], prepareEmulators: async () => void called++ as never });
    const dispatch = createDispatcher(router, () => true);
    const r = await dispatch({ url: 'app://archway/index.html', isMainFrame: true }, 'archway:plan-emulator-fetch', { archs: ['arm64'], request: { ops: [] } });
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(called).toBe(0);
    router.dispose();
  });
});

describe('planEmulatorFetch without an engine', () => {
  it('says a container engine is needed, with a hint', async () => {
    const router = makeRouter(new DockerGateway({ env: { DOCKER_HOST: `unix://${join(root, 'docker.sock')}` }, connectTimeoutMs: 1000 }));
    const err = await router.handlers.planEmulatorFetch({ archs: ['arm64'] } as never).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: expect.stringMatching(/daemon-not-running|unreachable|bad-endpoint/), message: expect.stringMatching(/needs a container engine/), hint: expect.any(String) });
    router.dispose();
  });
});

describe.runIf(canFake)('planEmulatorFetch → apply', () => {
  const gateway = (): ProbeGateway => ({ view: async () => ({}) as never, run: async () => [], prepareEmulators: (archs) => fakePrepare(archs) });

  it('plans with the helper\'s own dry run of store-add, with size, the sha256 it will check, and provenance as reported', async () => {
    const router = makeRouter(gateway());
    const plan = await router.handlers.planEmulatorFetch({ archs: ['arm64'] } as never);
    expect(plan.planId).toMatch(/^plan-fetch-/);
    expect(plan.intent).toBeNull();
    expect(plan.request?.ops).toEqual([expect.objectContaining({ op: 'store-add', arch: 'aarch64', file: join(prepared[0]!.dir, 'qemu-aarch64'), sha256: prepared[0]!.emulators[0]!.sha256 })]);
    expect(plan.preview?.dryRun).toBe(true);
    expect(plan.preview?.ok, JSON.stringify(plan.preview)).toBe(true);
    expect(plan.preview?.results[0]?.message).toMatch(/^store qemu-aarch64 \(\d+ bytes, sha256 [0-9a-f]{64}\) as \S+\/[0-9a-f]{64}\/qemu-aarch64; its bytes say QEMU 7\.2\.\d+ \(Debian [^;]+; reported: from registry\.test\/archway-test\/binfmt:qemu-v7\.2\.0@sha256:a{64}, QEMU 7\.2\.0/);
    expect(plan.refused).toEqual([]);
    expect(plan.elevation).toBe('pkexec');
    expect(plan.fetch).toEqual({
      archs: ['arm64'],
      image: `registry.test/archway-test/binfmt:qemu-v7.2.0@sha256:${'a'.repeat(64)}`,
      // The plan says where the engine pulls from: a registry named in the reference is not mirrored.
      route: expect.stringMatching(/from registry\.test directly \(registry-mirrors apply to Docker Hub only\)/),
      emulators: [
        expect.objectContaining({
          cpu: 'aarch64',
          emulator: 'qemu-aarch64',
          sha256: prepared[0]!.emulators[0]!.sha256,
          digest: `sha256:${'a'.repeat(64)}`,
          reported: `reported: from registry.test/archway-test/binfmt:qemu-v7.2.0@sha256:${'a'.repeat(64)}, QEMU 7.2.0 (Debian 1:7.2+dfsg-7)`,
        }),
      ],
    });
    // The temporary copy exists until the plan is applied, cancelled or expires.
    expect(existsSync(prepared[0]!.dir)).toBe(true);
    router.dispose();
  });

  it('apply runs exactly the previewed request once, then removes the temporary directory', async () => {
    const router = makeRouter(gateway());
    const plan = await router.handlers.planEmulatorFetch({ archs: ['arm64'] } as never);
    const r = await router.handlers.apply({ planId: plan.planId } as never);
    expect(r).toMatchObject({ ok: true, exitCode: 0, results: [expect.objectContaining({ op: 'store-add', ok: true })] });
    expect(applied).toEqual([plan.request]);
    expect(existsSync(prepared[0]!.dir)).toBe(false);
    expect(events.map((e) => e.name)).toContain('statusChanged');
    await expect(router.handlers.apply({ planId: plan.planId } as never)).rejects.toMatchObject({ code: 'plan-expired' });
    expect(applied).toHaveLength(1);
    router.dispose();
  });

  it('cancelling the plan removes the temporary directory', async () => {
    const router = makeRouter(gateway());
    const plan = await router.handlers.planEmulatorFetch({ archs: ['arm64'] } as never);
    expect(await router.handlers.cancelPlan({ planId: plan.planId } as never)).toEqual({ cancelled: true });
    expect(existsSync(prepared[0]!.dir)).toBe(false);
    expect(await router.handlers.cancelPlan({ planId: plan.planId } as never)).toEqual({ cancelled: false });
    await expect(router.handlers.apply({ planId: plan.planId } as never)).rejects.toMatchObject({ code: 'plan-expired' });
    expect(applied).toEqual([]);
    router.dispose();
  });

  it('an expired plan is refused and its temporary directory removed', async () => {
    const router = makeRouter(gateway());
    const plan = await router.handlers.planEmulatorFetch({ archs: ['arm64'] } as never);
    clock += 61_000;
    await expect(router.handlers.apply({ planId: plan.planId } as never)).rejects.toMatchObject({ code: 'plan-expired', hint: expect.any(String) });
    expect(existsSync(prepared[0]!.dir)).toBe(false);
    // Expired plans are also swept when the next plan is made.
    const a = await router.handlers.planEmulatorFetch({ archs: ['arm64'] } as never);
    clock += 61_000;
    await router.handlers.planEmulatorFetch({ archs: ['arm64'] } as never);
    await expect.poll(() => existsSync(prepared[1]!.dir)).toBe(false);
    expect(a.planId).toBeTruthy();
    expect(existsSync(prepared[2]!.dir)).toBe(true);
    router.dispose();
    await expect.poll(() => existsSync(prepared[2]!.dir)).toBe(false);
    expect(applied).toEqual([]);
  });

  it('a failing preview leaves nothing behind', async () => {
    failPreview = true;
    const router = makeRouter(gateway());
    await expect(router.handlers.planEmulatorFetch({ archs: ['arm64'] } as never)).rejects.toThrow(/preview exploded/);
    expect(existsSync(prepared[0]!.dir)).toBe(false);
    router.dispose();
  });
});
