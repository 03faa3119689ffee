import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine';
import { archwayPaths } from '../engine/paths';
import { DockerGateway } from './docker';
import { handlerStateFor } from '../../shared/status';
import { createRouter, type Emit, type Router } from './router';
import { StateFile } from './state';
import { DEFAULT_FLAGS, debianWrapper, qemuRegister } from '../../test/support/register-strings';

// The router against a real Engine on a private file tree (nothing mounted there) and a real
// DockerGateway pointed at a socket where no daemon listens.
let root: string;
let router: Router;
let clock = 1_000_000;
const events: { name: string; payload: unknown }[] = [];
const emit: Emit = (name, payload) => void events.push({ name, payload });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'archway-router-'));
  let n = 0;
  router = createRouter({
    engine: new Engine({ paths: archwayPaths(root, join(root, 'binfmt_misc')) }),
    docker: new DockerGateway({ env: { DOCKER_HOST: `unix://${join(root, 'docker.sock')}` }, connectTimeoutMs: 1000 }),
    prefs: new StateFile(join(root, 'state', 'state.json')),
    emit,
    app: { version: '0.1.0', shell: 'unit' },
    planTtlMs: 60_000,
    now: () => clock,
    newId: () => `plan-0000-${++n}`,
  });
});
afterAll(() => {
  router.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('router', () => {
  it('plans with the helper\'s own dry run and keeps the request in main', async () => {
    const plan = await router.handlers.plan({ action: 'install', archs: ['arm64'] } as never);
    expect(plan.planId).toMatch(/^plan-0000-/);
    expect(plan.request?.ops).toEqual([expect.objectContaining({ op: 'install', arch: 'aarch64' })]);
    expect(plan.preview?.dryRun).toBe(true);
    expect(plan.preview?.results.map((r) => r.register)).toEqual([qemuRegister('aarch64', debianWrapper('aarch64'), DEFAULT_FLAGS.wrapper)]);
    // Root changes the table directly; anyone else is asked for a password through pkexec.
    expect(plan.elevation).toBe(process.geteuid?.() === 0 ? 'direct' : 'pkexec');
    expect(plan.refused).toEqual([]);
    // A refusal in the helper's dry run is surfaced as such, with its own code.
    const missing = join(root, 'no-such-qemu-aarch64');
    const bad = await router.handlers.plan({ action: 'install', archs: ['arm64'], source: { path: missing } } as never);
    expect(bad.refused).toEqual([
      expect.objectContaining({ op: 'install', arch: 'aarch64', ok: false, changed: false, error: expect.objectContaining({ code: 'no-emulator', message: `${missing} does not exist` }) }),
    ]);
  });

  it('a plan is applied once; a second apply or an old plan is refused with a hint', async () => {
    // Nothing is installed, so "uninstall all" has nothing to do: no helper run needed.
    const plan = await router.handlers.plan({ action: 'uninstall', archs: ['all'] } as never);
    expect(plan.request).toBeNull();
    events.length = 0;
    expect(await router.handlers.apply({ planId: plan.planId } as never)).toEqual({ ok: true, results: [], repairs: [], exitCode: null });
    await expect(router.handlers.apply({ planId: plan.planId } as never)).rejects.toMatchObject({ code: 'plan-expired' });
    const old = await router.handlers.plan({ action: 'uninstall', archs: ['all'] } as never);
    clock += 61_000;
    await expect(router.handlers.apply({ planId: old.planId } as never)).rejects.toMatchObject({ code: 'plan-expired', hint: expect.any(String) });
  });

  it('refreshStatus tells every view', () => {
    events.length = 0;
    const s = router.refreshStatus();
    expect(events).toEqual([{ name: 'statusChanged', payload: s }]);
    expect(s.mount.mounted).toBe(false);
  });

  it('no engine is a state with a reason and a hint, not a failure', async () => {
    const v = await router.handlers.getContainerEngine({ refresh: true } as never);
    expect(v.state).toBe('absent');
    if (v.state === 'absent') {
      expect(v.error.code).toMatch(/daemon-not-running|unreachable|bad-endpoint/);
      expect(v.error.hint).toBeTruthy();
    }
  });

  it('a test run without an engine ends with probeDone carrying the error', async () => {
    events.length = 0;
    const { runId } = await router.handlers.startProbe({ image: 'busybox', platforms: ['linux/arm64'] } as never);
    await expect.poll(() => events.find((e) => e.name === 'probeDone'), { timeout: 5000 }).toBeTruthy();
    const done = events.find((e) => e.name === 'probeDone')!.payload as { runId: string; results: unknown[]; error?: { code: string } };
    expect(done.runId).toBe(runId);
    expect(done.results).toEqual([]);
    expect(done.error?.code).toBeTruthy();
    expect(await router.handlers.cancelProbe({ runId } as never)).toEqual({ cancelled: false });
  });

  it('prefs round-trip through the state file', async () => {
    const file = join(root, 'state', 'state.json');
    expect(await router.handlers.getPrefs(undefined as never)).toEqual({ lastView: 'architectures' });
    expect(await router.handlers.setPrefs({ lastView: 'engine' } as never)).toEqual({ lastView: 'engine' });
    expect(await router.handlers.getPrefs(undefined as never)).toEqual({ lastView: 'engine' });
    // Written to disk: a new process (a new StateFile) opens on the same view.
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ lastView: 'engine' });
    expect(new StateFile(file).get()).toEqual({ lastView: 'engine' });
  });
});

describe('handlerStateFor', () => {
  it('maps arch states to what the probe classifier needs', async () => {
    const s = await router.handlers.getStatus(undefined as never);
    expect(handlerStateFor(s, 'aarch64')).toBe('missing');
    expect(handlerStateFor(s, 'x86_64')).toBeUndefined();
    expect(handlerStateFor(s, 'not-a-cpu')).toBeUndefined();
  });

  it('says nothing for a rootless engine (its containers may not see the host table): probes and shells alike', async () => {
    const s = await router.handlers.getStatus(undefined as never);
    expect(handlerStateFor(s, 'aarch64', { rootless: true })).toBeUndefined();
    expect(handlerStateFor(s, 'aarch64', { rootless: false })).toBe('missing');
  });
});
