/**
 * Plans bound to content: an emulator file swapped between the plan (what the CLI prints, what the
 * window's dialog shows) and the apply is refused by the helper (plan-changed), and nothing changes.
 * Both faces, for real: the Engine as the CLI drives it and the desktop's router (plan id → apply),
 * inside a private binfmt_misc instance, with the built helper run as (namespace) root.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO_ROOT } from '../fixtures/foreign';
import { bundleForNode } from '../support/node';
import { privateBinfmt, requireBuilt, type PrivateBinfmt } from './namespace';

const HELPER = join(REPO_ROOT, 'dist/helper/archway-helper.mjs');
let ns: PrivateBinfmt;
let work: string;
let driver: string;

async function attempt(mode: 'engine' | 'router', swapWith: string | null, tag: string) {
  const root = join(work, `root-${tag}`);
  const emuDir = join(work, `emu-${tag}`);
  const interp = join(emuDir, 'qemu-s390x');
  rmSync(emuDir, { recursive: true, force: true });
  mkdirSync(emuDir, { mode: 0o755 });
  copyFileSync('/usr/bin/qemu-s390x-static', interp);
  chmodSync(interp, 0o755);
  const before = await ns.snapshot();
  const r = await ns.run([process.execPath, driver, mode, root, HELPER, interp, swapWith ?? '-'], { env: { ...process.env, ARCHWAY_ROOT: root } });
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { planned?: boolean; ok?: boolean; error?: { code?: string; message?: string }; crashed?: string };
  return { out, stderr: r.stderr, before, after: await ns.snapshot(), root };
}

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  ns = await privateBinfmt();
  work = mkdtempSync(join(tmpdir(), 'archway-bind-'));
  chmodSync(work, 0o755);
  driver = join(work, 'driver.mjs');
  await bundleForNode(join(REPO_ROOT, 'test/kernel/plan-binding-driver.ts'), driver);
});

afterAll(async () => {
  await ns?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('an apply carries what its plan showed', () => {
  for (const mode of ['engine', 'router'] as const) {
    it(`${mode}: the emulator swapped after the plan is refused (plan-changed), nothing changes`, async () => {
      const a = await attempt(mode, '/usr/bin/qemu-ppc64le-static', `${mode}-swap`);
      expect(a.out.crashed, a.stderr).toBeUndefined();
      expect(a.out.planned, JSON.stringify(a.out)).toBe(true);
      expect(a.out.ok).toBe(false);
      expect(a.out.error?.code).toBe('plan-changed');
      expect(a.after).toEqual(a.before);
      expect(existsSync(join(a.root, 'var/lib/archway/state.json'))).toBe(false);
    });

    it(`${mode}: the same plan, unswapped, applies`, async () => {
      const a = await attempt(mode, null, `${mode}-ok`);
      expect(a.out.crashed, a.stderr).toBeUndefined();
      expect(a.out.ok, JSON.stringify(a.out)).toBe(true);
      expect(a.after['qemu-s390x']).toMatch(/^interpreter .*emu-.*\/qemu-s390x$/m);
      expect((await ns.run(['sh', '-c', 'echo -1 > /proc/sys/fs/binfmt_misc/qemu-s390x'])).code).toBe(0);
    });
  }
});
