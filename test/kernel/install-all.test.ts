/**
 * `archway install all` when another tool owns some of the handlers: those architectures are
 * skipped with the planner's reason (as `uninstall all` skips what it does not own), the rest are
 * installed; naming the architecture explicitly still refuses the whole request. Real kernel,
 * private binfmt_misc instance, Debian's QEMU, the built CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { foreignBusybox, REPO_ROOT } from '../fixtures/foreign';
import { privateBinfmt, requireBuilt, type PrivateBinfmt } from './namespace';
import { qemuRegister } from '../support/register-strings';

const CLI = join(REPO_ROOT, 'dist/cli/archway.mjs');
// Another tool's handler for arm64 (no binfmt.d file, no binfmt-support entry, no Archway record).
const THEIRS = qemuRegister('aarch64', '/usr/bin/qemu-aarch64-static', 'F');

let ns: PrivateBinfmt;
let root: string;
let s390x: string;

function archway(args: string[]) {
  return ns.run([process.execPath, CLI, ...args], { env: { ...process.env, ARCHWAY_ROOT: root } });
}

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  s390x = await foreignBusybox('s390x');
  ns = await privateBinfmt();
  // Short: store paths under it must stay within the kernel's 127-character interpreter limit.
  root = mkdtempSync('/tmp/aw-');
  const w = await ns.run([process.execPath, '-e', `require('fs').writeFileSync('/proc/sys/fs/binfmt_misc/register', ${JSON.stringify(THEIRS)})`]);
  expect(w.code, w.stderr).toBe(0);
});

afterAll(async () => {
  await ns?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('install all next to another tool\'s handler', () => {
  it('the dry run skips the foreign-owned architecture with the reason and plans the rest', async () => {
    const before = await ns.snapshot();
    const r = await archway(['install', 'all', '--dry-run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[-·] skip aarch64: qemu-aarch64 is already registered by another tool .*Archway leaves it alone/m);
    expect(r.stdout).toMatch(/register qemu-s390x → /);
    expect(r.stdout).not.toMatch(/register qemu-aarch64 /);
    expect(await ns.snapshot()).toEqual(before);

    const j = await archway(['install', 'all', '--dry-run', '--json']);
    expect(j.code, j.stderr).toBe(0);
    const out = JSON.parse(j.stdout) as { ok: boolean; results: { name: string }[]; skipped: { arch: string; why: string }[] };
    expect(out.ok).toBe(true);
    expect(out.skipped.find((s) => s.arch === 'aarch64')?.why).toMatch(/already registered by another tool/);
    expect(out.results.map((x) => x.name)).toContain('qemu-s390x');
    expect(out.results.map((x) => x.name)).not.toContain('qemu-aarch64');
  });

  it('naming the architecture explicitly still refuses the whole request, changing nothing', async () => {
    const before = await ns.snapshot();
    for (const args of [['install', 'arm64', 's390x'], ['install', 'all', 'arm64']]) {
      const r = await archway(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr + r.stdout).toMatch(/already registered by .*--take-over/s);
    }
    expect(await ns.snapshot()).toEqual(before);
  });

  it('installs the rest and leaves the other tool\'s handler byte-identical', async () => {
    const theirs = (await ns.snapshot())['qemu-aarch64'];
    const r = await archway(['install', 'all']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/skip aarch64: qemu-aarch64 is already registered by another tool/);
    const after = await ns.snapshot();
    expect(after['qemu-aarch64']).toBe(theirs);
    expect(after['qemu-s390x']).toMatch(/^enabled\n/);
    expect(Object.keys(after).filter((n) => n.startsWith('qemu-')).length).toBeGreaterThan(20);
    expect((await ns.run([s390x, 'uname', '-m'])).stdout.trim()).toBe('s390x');
    // And uninstall all takes back only Archway's own, skipping theirs with the reason.
    const u = await archway(['uninstall', 'all']);
    expect(u.code, u.stdout + u.stderr).toBe(0);
    expect(u.stdout).toMatch(/skip aarch64: qemu-aarch64 belongs to/);
    expect(Object.keys(await ns.snapshot()).filter((n) => n.startsWith('qemu-'))).toEqual(['qemu-aarch64']);
  });
});
