/**
 * QEMU versions side by side, against the real kernel (a private binfmt_misc instance) with the real
 * CLI and helper bundles: two genuine host programs stored as two versions of qemu-aarch64, `archway
 * emulators use` switching the handler AND its boot-time file to the other and back (kernel entry and
 * file read back each time, a real arm64 busybox run through each), a version on the known-regressions
 * list producing the status warning with its `use` intent, and the refusals.
 *
 * The two versions: Debian's /usr/bin/qemu-aarch64-static (QEMU 7.2.22), and a copy of it whose
 * version string is rewritten in place to read "9.2.0" (same length, nothing else touched). Both are
 * static x86-64 ELF programs that really emulate aarch64 (the copy runs the same machine code); the
 * copy is not QEMU 9.2.0's code, only its name — which is exactly what the store, the version column
 * and the regression table go by (the version string the bytes carry). Each is imported with
 * `archway emulators import DIR` (a directory of programs), through the helper's store-add.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { foreignBusybox, REPO_ROOT } from '../fixtures/foreign';
import { debianWrapper, qemuRegister } from '../support/register-strings';
import { privateBinfmt, requireBuilt, type PrivateBinfmt } from './namespace';
import { qemuAarch64Versions } from '../fixtures/qemu-versions';
import { SETUID_RISK } from '../../shared/binfmt/flags';

const CLI = join(REPO_ROOT, 'dist/cli/archway.mjs');
const DISTRO = '/usr/bin/qemu-aarch64-static';

let ns: PrivateBinfmt;
let root: string;
let arm64: string;
let shaA: string;
let shaB: string;
let versionA: string;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function archway(args: string[]) {
  // No engine anywhere: DOCKER_HOST names a socket that does not exist.
  return ns.run([process.execPath, CLI, ...args], { env: { ...process.env, ARCHWAY_ROOT: root, DOCKER_HOST: `unix://${root}/no-engine.sock` } });
}
const store = (s: string) => join(root, 'var/lib/archway/emulators', s, 'qemu-aarch64');
const persistFile = () => join(root, 'etc/binfmt.d/qemu-aarch64.conf');
async function kernelInterpreter(name = 'qemu-aarch64'): Promise<{ interpreter?: string; flags?: string }> {
  const text = (await ns.snapshot())[name];
  return { interpreter: /^interpreter (.*)$/m.exec(text ?? '')?.[1], flags: /^flags: (.*)$/m.exec(text ?? '')?.[1] };
}
async function statusJson() {
  const r = await archway(['status', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { handlers: { name: string; emulator: { source: string; qemuVersion?: string; sha256?: string }; checks: { id: string; level: string; message: string; fix?: string; intent?: unknown }[] }[] };
}
async function expectRunsArm64() {
  expect((await ns.run([arm64, 'uname', '-m'])).stdout.trim()).toBe('aarch64');
}

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  arm64 = await foreignBusybox('arm64');
  ns = await privateBinfmt();
  // Short: store paths must fit the kernel's 127-character interpreter limit.
  root = mkdtempSync('/tmp/aw-');
  const v = qemuAarch64Versions('9.2.0');
  versionA = v.originalVersion;
  const [a, b] = [v.original, v.renamed];
  mkdirSync(join(root, 'src-a'));
  mkdirSync(join(root, 'src-b'));
  copyFileSync(DISTRO, join(root, 'src-a/qemu-aarch64'));
  writeFileSync(join(root, 'src-b/qemu-aarch64'), b);
  chmodSync(join(root, 'src-b/qemu-aarch64'), 0o755);
  shaA = sha(a);
  shaB = sha(b);
  expect(shaA).not.toBe(shaB);
});

afterAll(async () => {
  await ns?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('two versions of one emulator, switched with emulators use', () => {
  it('imports both programs into the store side by side, with the version their bytes carry and the reported provenance', async () => {
    for (const d of ['src-a', 'src-b']) {
      const r = await archway(['emulators', 'import', join(root, d)]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    expect(readFileSync(store(shaA)).equals(readFileSync(DISTRO))).toBe(true);
    expect(sha(readFileSync(store(shaB)))).toBe(shaB);
    const list = await archway(['emulators', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const rows = (JSON.parse(list.stdout) as { emulators: { cpu: string; source: string; sha256: string; version?: string; size: number; reported?: string; handlers: string[] }[] }).emulators;
    const stored = rows.filter((x) => x.source === 'store' && x.cpu === 'aarch64');
    expect(stored.map((x) => x.sha256).sort()).toEqual([shaA, shaB].sort());
    expect(stored.find((x) => x.sha256 === shaA)).toMatchObject({ version: expect.stringMatching(new RegExp(`^${versionA.replace(/\./g, '\\.')} \\(Debian `)), size: readFileSync(DISTRO).length, reported: `reported: imported from ${join(root, 'src-a')}, QEMU ${stored.find((x) => x.sha256 === shaA)!.version}` });
    expect(stored.find((x) => x.sha256 === shaB)).toMatchObject({ version: '9.2.0', handlers: [] });
  });

  it('install --source store --persist takes the newest (9.2.0): status shows its version and warns of the known regression, offering the other', async () => {
    const r = await archway(['install', 'aarch64', '--source', 'store', '--persist']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await kernelInterpreter()).toEqual({ interpreter: store(shaB), flags: 'F' });
    expect(readFileSync(persistFile(), 'utf8')).toContain(`:${store(shaB)}:F`);
    await expectRunsArm64();
    const h = (await statusJson()).handlers.find((x) => x.name === 'qemu-aarch64')!;
    expect(h.emulator).toMatchObject({ source: 'archway-store', qemuVersion: '9.2.0', sha256: shaB });
    const warn = h.checks.find((c) => c.id === 'qemu-regression');
    expect(warn?.level).toBe('warning');
    expect(warn?.message).toContain('https://github.com/tonistiigi/binfmt/issues/245');
    expect(warn?.intent).toEqual({ action: 'use', archs: ['aarch64'], emulator: { sha256: shaA } });
    expect(warn?.fix).toContain(`archway emulators use aarch64 ${shaA}`);
    const text = await archway(['status']);
    expect(text.stdout).toContain('QEMU 9.2.0');
    expect(text.stdout).toMatch(/known\s+regressions/);
  });

  it('use --dry-run shows the new register string and the boot-time file, and changes nothing', async () => {
    const before = await ns.snapshot();
    const file = readFileSync(persistFile(), 'utf8');
    const r = await archway(['emulators', 'use', 'aarch64', versionA, '--dry-run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`register: ${qemuRegister('aarch64', store(shaA), 'F')}`);
    expect(r.stdout).toContain(`files: ${persistFile()}`);
    expect(await ns.snapshot()).toEqual(before);
    expect(readFileSync(persistFile(), 'utf8')).toBe(file);
  });

  it('use VERSION switches the kernel entry and the boot-time file to the other version; the warning goes', async () => {
    // Through the helper program (dist/helper as a separate root process, request on stdin — the serve path pkexec also starts), not in-process.
    const r = await ns.run([process.execPath, CLI, 'emulators', 'use', 'aarch64', versionA], {
      env: { ...process.env, ARCHWAY_ROOT: root, DOCKER_HOST: `unix://${root}/no-engine.sock`, ARCHWAY_HELPER_PROCESS: '1' },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await kernelInterpreter()).toEqual({ interpreter: store(shaA), flags: 'F' });
    const file = readFileSync(persistFile(), 'utf8');
    expect(file).toContain(`${qemuRegister('aarch64', store(shaA), 'F')}\n`);
    expect(file).not.toContain(store(shaB));
    await expectRunsArm64();
    const h = (await statusJson()).handlers.find((x) => x.name === 'qemu-aarch64')!;
    expect(h.emulator.sha256).toBe(shaA);
    // Archway's record remembers what ran before (the window's Use previous goes back to it).
    const rec = JSON.parse(readFileSync(join(root, 'var/lib/archway/state.json'), 'utf8')) as { handlers: Record<string, { usedBefore?: string }> };
    expect(rec.handlers['qemu-aarch64']?.usedBefore).toBe(store(shaB));
    expect(h.checks.some((c) => c.id === 'qemu-regression')).toBe(false);
    const list = JSON.parse((await archway(['emulators', 'list', '--json'])).stdout) as { emulators: { sha256: string; source: string; handlers: string[]; persistFiles: string[] }[] };
    expect(list.emulators.find((x) => x.source === 'store' && x.sha256 === shaA)).toMatchObject({ handlers: ['qemu-aarch64'], persistFiles: [persistFile()] });
    expect(list.emulators.find((x) => x.source === 'store' && x.sha256 === shaB)).toMatchObject({ handlers: [], persistFiles: [] });
  });

  it('use SHA256 switches back; use distro takes the Debian wrapper with P; both checked in the kernel and the file', async () => {
    expect((await archway(['emulators', 'use', 'aarch64', shaB.slice(0, 12)])).code).toBe(0);
    expect(await kernelInterpreter()).toEqual({ interpreter: store(shaB), flags: 'F' });
    expect(readFileSync(persistFile(), 'utf8')).toContain(`${qemuRegister('aarch64', store(shaB), 'F')}\n`);
    await expectRunsArm64();
    const d = await archway(['emulators', 'use', 'aarch64', 'distro']);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(await kernelInterpreter()).toEqual({ interpreter: debianWrapper('aarch64'), flags: 'PF' });
    expect(readFileSync(persistFile(), 'utf8')).toContain(`${qemuRegister('aarch64', debianWrapper('aarch64'), 'PF')}\n`);
    await expectRunsArm64();
    expect((await archway(['emulators', 'use', 'aarch64', versionA])).code).toBe(0);
    expect(await kernelInterpreter()).toEqual({ interpreter: store(shaA), flags: 'F' });
  });

  it('refuses a version that is not stored and a handler Archway does not own (saying how to take it over); nothing changes', async () => {
    const before = await ns.snapshot();
    const file = readFileSync(persistFile(), 'utf8');
    const none = await archway(['emulators', 'use', 'aarch64', '1.0.0']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no stored qemu-aarch64 matches "1\.0\.0".*9\.2\.0/s);
    const theirs = qemuRegister('s390x', '/usr/bin/qemu-s390x-static', 'F');
    const w = await ns.run([process.execPath, '-e', `require('fs').writeFileSync('/proc/sys/fs/binfmt_misc/register', ${JSON.stringify(theirs)})`]);
    expect(w.code, w.stderr).toBe(0);
    const mid = await ns.snapshot();
    const foreign = await archway(['emulators', 'use', 's390x', 'distro']);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain('not Archway');
    expect(foreign.stderr).toContain('archway install s390x --take-over');
    expect(await ns.snapshot()).toEqual(mid);
    const { ['qemu-s390x']: _added, ...rest } = mid;
    expect(rest).toEqual(before);
    expect(readFileSync(persistFile(), 'utf8')).toBe(file);
    expect(existsSync(join(root, 'etc/binfmt.d/qemu-s390x.conf'))).toBe(false);
  });

  it('a handler that keeps flag C: the switch shows the setuid risk where it is chosen (dry run and apply)', async () => {
    const c = await archway(['install', 'aarch64', '--source', 'store', '--allow-setuid']);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    expect((await kernelInterpreter()).flags).toContain('C');
    const dry = await archway(['emulators', 'use', 'aarch64', 'distro', '--dry-run']);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`risk: ${SETUID_RISK}`);
    const run = await archway(['emulators', 'use', 'aarch64', 'distro']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`risk: ${SETUID_RISK}`);
    expect((await kernelInterpreter()).interpreter).toBe(debianWrapper('aarch64'));
  });
});
