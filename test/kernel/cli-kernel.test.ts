/**
 * The core against the real kernel, hermetically: a private binfmt_misc instance in a user
 * namespace, Debian's static QEMU, real foreign busybox binaries, the real CLI and helper bundles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { foreignBusybox } from '../fixtures/foreign';
import { expectExecFormatError, privateBinfmt, requireBuilt, type PrivateBinfmt } from './namespace';
import { DEFAULT_FLAGS, debianWrapper, qemuRegister } from '../support/register-strings';
import { REPO_ROOT } from '../fixtures/foreign';

const CLI = join(REPO_ROOT, 'dist/cli/archway.mjs');

let ns: PrivateBinfmt;
let root: string;
let arm64: string;
let s390x: string;

function archway(args: string[]) {
  return ns.run([process.execPath, CLI, ...args], { env: { ...process.env, ARCHWAY_ROOT: root } });
}

async function statusJson() {
  const r = await archway(['status', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    supported: string[];
    emulators: string[] | null;
    handlers: { name: string; enabled: boolean; owner: { kind: string }; persistent: boolean; rule: { flags: string; interpreter: string }; checks: { id: string; level: string; message: string }[]; cpus: string[] }[];
    archs: { cpu: string; state: string; winner?: string; summary: string }[];
  };
}

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  [arm64, s390x] = await Promise.all([foreignBusybox('arm64'), foreignBusybox('s390x')]);
  ns = await privateBinfmt();
  root = mkdtempSync(join(tmpdir(), 'archway-root-'));
});

afterAll(async () => {
  await ns?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('archway against a private binfmt_misc', () => {
  it('starts empty: foreign programs fail with exec format error', async () => {
    await expectExecFormatError(ns, [arm64, 'uname', '-m']);
    const st = await statusJson();
    expect(st.handlers).toEqual([]);
    expect(st.emulators).toBeNull();
    expect(st.supported).toEqual(expect.arrayContaining(['linux/amd64', 'linux/386']));
    expect(st.supported).not.toContain('linux/arm64');
  });

  it('--dry-run prints the exact register strings and changes nothing', async () => {
    const before = await ns.snapshot();
    const r = await archway(['install', 'arm64', 'linux/s390x', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    const registers = r.stdout.split('\n').flatMap((l) => /^\s*register: (.*)$/.exec(l)?.[1] ?? []);
    expect(registers.sort()).toEqual([qemuRegister('aarch64', debianWrapper('aarch64'), DEFAULT_FLAGS.wrapper), qemuRegister('s390x', debianWrapper('s390x'), DEFAULT_FLAGS.wrapper)].sort());
    expect(await ns.snapshot()).toEqual(before);
  });

  it('installs arm64 and s390x from Debian emulators; real foreign binaries run', async () => {
    const r = await archway(['install', 'arm64', 's390x']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await ns.run([arm64, 'uname', '-m'])).stdout.trim()).toBe('aarch64');
    expect((await ns.run([s390x, 'uname', '-m'])).stdout.trim()).toBe('s390x');
    const st = await statusJson();
    const h = st.handlers.find((x) => x.name === 'qemu-aarch64')!;
    expect(h.owner.kind).toBe('archway');
    expect(h.rule.flags).toBe(DEFAULT_FLAGS.wrapper);
    expect(h.checks.find((c) => c.id === 'interpreter-static')?.level).toBe('ok');
    expect(st.archs.find((a) => a.cpu === 'aarch64')?.state).toBe('ready');
    expect(st.supported).toEqual(expect.arrayContaining(['linux/arm64', 'linux/s390x']));
    expect(st.emulators).toEqual(expect.arrayContaining(['qemu-aarch64', 'qemu-s390x']));
    // installing again is a no-op, not an error
    const again = await archway(['install', 'aarch64']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already installed');
  });

  it('explicit flags without P pick the plain static emulator instead of Debian\'s P wrapper', async () => {
    const r = await archway(['install', 'ppc64le', '--flags', 'F', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/register: :qemu-ppc64le:M::.*:\/usr\/bin\/qemu-ppc64le-static:F$/m);
  });

  it('disable makes exec fail; enable restores it', async () => {
    expect((await archway(['disable', 'arm64'])).code).toBe(0);
    await expectExecFormatError(ns, [arm64, 'uname', '-m']);
    expect((await statusJson()).archs.find((a) => a.cpu === 'aarch64')?.state).toBe('disabled');
    expect((await archway(['enable', 'arm64'])).code).toBe(0);
    expect((await ns.run([arm64, 'uname', '-m'])).stdout.trim()).toBe('aarch64');
  });

  it('persist on writes /etc/binfmt.d/qemu-aarch64.conf atomically; off removes it', async () => {
    const file = join(root, 'etc/binfmt.d/qemu-aarch64.conf');
    expect((await archway(['persist', 'on', 'arm64'])).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('# Managed by Archway')).toBe(true);
    expect(text).toContain(':qemu-aarch64:M::\\x7f\\x45\\x4c\\x46');
    expect((await statusJson()).handlers.find((x) => x.name === 'qemu-aarch64')?.persistent).toBe(true);
    expect((await archway(['persist', 'off', 'arm64'])).code).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect((await statusJson()).handlers.find((x) => x.name === 'qemu-aarch64')?.persistent).toBe(false);
  });

  it('uninstall removes the handler (and its persist file); exec fails again', async () => {
    expect((await archway(['persist', 'on', 's390x'])).code).toBe(0);
    const r = await archway(['uninstall', 'arm64', 's390x']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(root, 'etc/binfmt.d/qemu-s390x.conf'))).toBe(false);
    await expectExecFormatError(ns, [arm64, 'uname', '-m']);
    expect((await statusJson()).handlers).toEqual([]);
    const log = await archway(['log', '--json']);
    const entries = JSON.parse(log.stdout) as { op: string; uid: number; before: string | null; after: string | null }[];
    expect(entries.filter((e) => e.op === 'install')).toHaveLength(2);
    expect(entries.find((e) => e.op === 'uninstall')?.before).toContain(':qemu-');
  });

  it('notices handlers that vanished (a systemd-binfmt style flush) and puts them back exactly as they were', async () => {
    const first = await archway(['install', 's390x', '--flags', 'F']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const before = (await ns.snapshot())['qemu-s390x'];
    expect(before).toContain('interpreter /usr/bin/qemu-s390x-static');
    // what systemd-binfmt does on (re)start: remove every entry
    const flush = await ns.run([process.execPath, '-e', "require('fs').writeFileSync('/proc/sys/fs/binfmt_misc/status', '-1')"]);
    expect(flush.code, flush.stderr).toBe(0);
    const st = JSON.parse((await archway(['status', '--json'])).stdout) as { vanished: { name: string; cpu: string }[]; warnings: string[] };
    expect(st.vanished).toEqual([expect.objectContaining({ name: 'qemu-s390x', cpu: 's390x' })]);
    expect(st.warnings.join('\n')).toContain('archway install s390x');
    expect((await archway(['status'])).stdout).toContain('gone from the kernel');
    // no options: Archway's recorded emulator and flags, not the defaults (which would pick the P wrapper)
    const back = await archway(['install', 's390x']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect((await ns.snapshot())['qemu-s390x']).toBe(before);
    expect((await ns.run([s390x, 'uname', '-m'])).stdout.trim()).toBe('s390x');
    expect((await archway(['uninstall', 's390x'])).code).toBe(0);
  });

  it('shows a pinned interpreter whose file was deleted, and it still runs (F)', async () => {
    const dir = join(root, 'pinned');
    mkdirSync(dir, { mode: 0o755 });
    const emu = join(dir, 'qemu-aarch64');
    copyFileSync('/usr/bin/qemu-aarch64-static', emu);
    chmodSync(emu, 0o755);
    const r = await archway(['install', 'arm64', '--source', emu]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    unlinkSync(emu);
    expect((await ns.run([arm64, 'uname', '-m'])).stdout.trim()).toBe('aarch64');
    const h = (await statusJson()).handlers.find((x) => x.name === 'qemu-aarch64')!;
    const check = h.checks.find((c) => c.id === 'interpreter-exists')!;
    expect(check.message).toContain('pinned, file gone — still works');
    expect(check.level).toBe('info');
    // The aarch64 row, not just the word somewhere ("already" contains "ready" too).
    const text = (await archway(['status'])).stdout;
    const row = text.split('\n').find((l) => l.startsWith('aarch64 '));
    expect(row, text).toMatch(/^aarch64\s+linux\/arm64\s+✓ ready\s+F\s+\S*\/pinned\/qemu-aarch64$/);
    expect((await archway(['uninstall', 'arm64'])).code).toBe(0);
  });

  it('leaves a handler it does not own alone, takes it over on request, and restores it on uninstall', async () => {
    const foreign =
      ':qemu-aarch64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-aarch64-static:F';
    const w = await ns.run([process.execPath, '-e', `require('fs').writeFileSync('/proc/sys/fs/binfmt_misc/register', ${JSON.stringify(foreign)})`]);
    expect(w.code, w.stderr).toBe(0);
    const before = await ns.snapshot();
    const refused = await archway(['install', 'arm64']);
    expect(refused.code).toBe(2);
    expect(refused.stderr + refused.stdout).toMatch(/already registered by .*--take-over/s);
    const removeRefused = await archway(['uninstall', 'arm64']);
    expect(removeRefused.code).toBe(2);
    expect(await ns.snapshot()).toEqual(before);

    const took = await archway(['install', 'arm64', '--take-over']);
    expect(took.code, took.stdout + took.stderr).toBe(0);
    let st = await statusJson();
    expect(st.handlers.find((x) => x.name === 'qemu-aarch64')?.owner.kind).toBe('archway');
    expect((await ns.run([arm64, 'uname', '-m'])).stdout.trim()).toBe('aarch64');

    expect((await archway(['uninstall', 'arm64'])).code).toBe(0);
    st = await statusJson();
    const restored = st.handlers.find((x) => x.name === 'qemu-aarch64')!;
    expect(restored.rule.interpreter).toBe('/usr/bin/qemu-aarch64-static');
    expect(restored.rule.flags).toBe('F');
    expect(restored.owner.kind).not.toBe('archway');
    expect(await ns.snapshot()).toEqual(before);
  });

  it('reports conflicts: two enabled handlers for one arch, the newest wins', async () => {
    const second =
      ':zz-aarch64-other:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-aarch64-static:F';
    await ns.run([process.execPath, '-e', `require('fs').writeFileSync('/proc/sys/fs/binfmt_misc/register', ${JSON.stringify(second)})`]);
    const st = await statusJson();
    const a = st.archs.find((x) => x.cpu === 'aarch64')!;
    expect(a.state).toBe('conflict');
    expect(a.winner).toBe('zz-aarch64-other');
    expect(a.summary).toContain('qemu-aarch64');
    for (const n of ['zz-aarch64-other', 'qemu-aarch64']) {
      await ns.run([process.execPath, '-e', `require('fs').writeFileSync('/proc/sys/fs/binfmt_misc/${n}', '-1')`]);
    }
    expect((await statusJson()).handlers).toEqual([]);
  });

  it('refuses to install what the host runs natively', async () => {
    const before = await ns.snapshot();
    const r = await archway(['install', 'x86_64']);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toMatch(/natively/);
    expect(await ns.snapshot()).toEqual(before);
  });
});
