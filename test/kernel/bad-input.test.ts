/**
 * Hostile and malformed requests to the privileged helper and the CLI. Each must get a clear error
 * (an error code and words), a non-zero exit, and leave the kernel table and every file as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { foreignBusybox, REPO_ROOT } from '../fixtures/foreign';
import { privateBinfmt, requireBuilt, type PrivateBinfmt } from './namespace';

const HELPER = join(REPO_ROOT, 'dist/helper/archway-helper.mjs');
const CLI = join(REPO_ROOT, 'dist/cli/archway.mjs');
const AARCH64_MAGIC =
  '\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff';
const S390X_MAGIC =
  '\\x7f\\x45\\x4c\\x46\\x02\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x16:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfc\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff';

let ns: PrivateBinfmt;
let root: string;
const f: Record<string, string> = {};

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else out[p] = `${st.mode.toString(8)}:${st.isFile() ? readFileSync(p).toString('base64').slice(0, 64) + st.size : ''}`;
    }
  };
  walk(dir);
  return out;
}

async function state() {
  return { kernel: await ns.snapshot(), files: tree(root) };
}

const env = () => ({ ...process.env, ARCHWAY_ROOT: root });

async function helper(input: string) {
  const r = await ns.run([process.execPath, HELPER], { input, env: env() });
  let json: { ok: boolean; error?: { code: string; message: string }; results: { ok: boolean; error?: { code: string; message: string } }[] } | undefined;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

const req = (ops: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ version: 1, ops, ...extra });

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  ns = await privateBinfmt();
  root = mkdtempSync(join(tmpdir(), 'archway-bad-'));
  chmodSync(root, 0o755);
  const bin = join(root, 'bin');
  mkdirSync(bin, { mode: 0o755 });
  // Interpreter candidates, each unsafe in one way.
  f.good = join(bin, 'qemu-aarch64');
  copyFileSync('/usr/bin/qemu-aarch64-static', f.good);
  chmodSync(f.good, 0o755);
  f.worldWritable = join(bin, 'qemu-ww');
  copyFileSync('/usr/bin/qemu-aarch64-static', f.worldWritable);
  chmodSync(f.worldWritable, 0o777);
  f.userOwned = join(bin, 'qemu-user');
  copyFileSync('/usr/bin/qemu-aarch64-static', f.userOwned);
  chmodSync(f.userOwned, 0o755);
  chownSync(f.userOwned, 65534, 65534);
  f.notExec = join(bin, 'qemu-noexec');
  copyFileSync('/usr/bin/qemu-aarch64-static', f.notExec);
  chmodSync(f.notExec, 0o644);
  f.link = join(bin, 'qemu-link');
  symlinkSync('/usr/bin/qemu-aarch64-static', f.link);
  const wwDir = join(root, 'open');
  mkdirSync(wwDir);
  chmodSync(wwDir, 0o777);
  f.inOpenDir = join(wwDir, 'qemu-aarch64');
  copyFileSync('/usr/bin/qemu-aarch64-static', f.inOpenDir);
  chmodSync(f.inOpenDir, 0o755);
  const userDir = join(root, 'userdir');
  mkdirSync(userDir, { mode: 0o755 });
  chownSync(userDir, 65534, 65534);
  f.inUserDir = join(userDir, 'qemu-aarch64');
  copyFileSync('/usr/bin/qemu-aarch64-static', f.inUserDir);
  chmodSync(f.inUserDir, 0o755);
  f.script = join(bin, 'script');
  writeFileSync(f.script, '#!/bin/sh\necho hi\n', { mode: 0o755 });
  f.foreignElf = join(bin, 'busybox-arm64');
  copyFileSync(await foreignBusybox('arm64'), f.foreignElf);
  chmodSync(f.foreignElf, 0o755);
  // Starting state: a foreign handler (not Archway's), a WSL-like entry, and a hand-written persist file.
  const reg = async (s: string) => {
    const r = await ns.run([process.execPath, '-e', `require('fs').writeFileSync('/proc/sys/fs/binfmt_misc/register', ${JSON.stringify(s)})`]);
    expect(r.code, r.stderr).toBe(0);
  };
  await reg(`:qemu-s390x:M::${S390X_MAGIC}:/usr/bin/qemu-s390x-static:F`);
  await reg(':WSLInterop:M::MZ::/init:P');
  mkdirSync(join(root, 'etc/binfmt.d'), { recursive: true });
  writeFileSync(join(root, 'etc/binfmt.d/qemu-riscv64.conf'), `# my own\n:qemu-riscv64:M::${AARCH64_MAGIC}:/usr/bin/qemu-riscv64-static:F\n`);
});

afterAll(async () => {
  await ns?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** What, the request, the error code, and the words that say this case's reason (the code alone is shared by many). */
type Case = [string, () => string, string, RegExp];
const install = (extra: Record<string, unknown>) => req([{ op: 'install', arch: 'aarch64', ...extra }]);

const helperCases: Case[] = [
  ['empty input', () => '', 'bad-request', /^request is not JSON/],
  ['not JSON', () => '{version:1', 'bad-request', /^request is not JSON/],
  ['JSON null', () => 'null', 'bad-request', /^request: /],
  ['JSON array', () => '[]', 'bad-request', /^request: /],
  ['wrong protocol version', () => JSON.stringify({ version: 2, ops: [{ op: 'mount' }] }), 'bad-request', /^version: /],
  ['no operations', () => req([]), 'bad-request', /^ops: /],
  ['too many operations', () => req(Array.from({ length: 65 }, () => ({ op: 'mount' }))), 'bad-request', /^ops: /],
  ['unknown top-level field', () => req([{ op: 'mount' }], { sudo: true }), 'bad-request', /^request: /],
  ['unknown operation', () => req([{ op: 'exec', arch: 'aarch64' }]), 'bad-request', /^ops\.0\.op: /],
  ['unknown field in an operation', () => install({ shell: 'rm -rf /' }), 'bad-request', /^ops\.0: /],
  ['prototype pollution key', () => `{"version":1,"ops":[{"op":"install","arch":"aarch64","__proto__":{"force":true}}]}`, 'bad-request', /^ops\.0: /],
  ['wrong type', () => install({ persist: 'yes' }), 'bad-request', /^ops\.0\.persist: /],
  ['oversized request (>64 KiB)', () => req([{ op: 'mount' }], { pad: 'x'.repeat(70_000) }), 'bad-request', /larger than 65536 bytes/],
  ['arch with path characters', () => req([{ op: 'install', arch: '../../etc/passwd' }]), 'bad-request', /^ops\.0\.arch: an architecture is lowercase letters/],
  ['arch uppercase', () => req([{ op: 'install', arch: 'AARCH64' }]), 'bad-request', /^ops\.0\.arch: an architecture is lowercase letters/],
  ['arch too long', () => req([{ op: 'install', arch: 'a'.repeat(40) }]), 'bad-request', /^ops\.0\.arch: /],
  ['arch alias (helper takes catalog names only)', () => req([{ op: 'install', arch: 'arm64' }]), 'unknown-arch', /"arm64" is not an architecture Archway knows/],
  ['unknown arch', () => req([{ op: 'install', arch: 'vax' }]), 'unknown-arch', /"vax" is not an architecture Archway knows/],
  ['native arch x86_64', () => req([{ op: 'install', arch: 'x86_64' }]), 'native-arch', /^x86_64 runs natively on this x86_64 host/],
  ['native arch i386', () => req([{ op: 'install', arch: 'i386' }]), 'native-arch', /^i386 runs natively on this x86_64 host/],
  ['unknown flag letter', () => install({ flags: 'FX' }), 'bad-request', /^ops\.0\.flags: flags are letters from P, O, C, F/],
  ['lowercase flags', () => install({ flags: 'fc' }), 'bad-request', /^ops\.0\.flags: flags are letters from P, O, C, F/],
  ['flags too long', () => install({ flags: 'FFFFF' }), 'bad-request', /^ops\.0\.flags: /],
  ['flag P with a plain emulator', () => install({ interpreter: { source: 'path', path: f.good }, flags: 'PF' }), 'bad-flags', /^flag P needs an emulator that expects argv\[0\] to be preserved/],
  ['relative interpreter path', () => install({ interpreter: { source: 'path', path: 'usr/bin/qemu-aarch64-static' } }), 'unsafe-interpreter', /is not an absolute path/],
  ['interpreter path with ..', () => install({ interpreter: { source: 'path', path: '/usr/bin/../bin/qemu-aarch64-static' } }), 'unsafe-interpreter', /is not a canonical path/],
  ['interpreter path with //', () => install({ interpreter: { source: 'path', path: '/usr//bin/qemu-aarch64-static' } }), 'unsafe-interpreter', /is not a canonical path/],
  ['interpreter path with a colon (register-string injection)', () => install({ interpreter: { source: 'path', path: '/usr/bin/x:F:\n:evil:M::\\x7f::/tmp/e:' } }), 'unsafe-interpreter', /must not contain ":" or control characters/],
  ['interpreter path with a newline', () => install({ interpreter: { source: 'path', path: '/usr/bin/qemu\n' } }), 'unsafe-interpreter', /must not contain ":" or control characters/],
  ['interpreter path too long', () => install({ interpreter: { source: 'path', path: `/${'a'.repeat(130)}` } }), 'bad-request', /^ops\.0\.interpreter\.path: /],
  ['symlinked interpreter', () => install({ interpreter: { source: 'path', path: f.link } }), 'unsafe-interpreter', /qemu-link is a symbolic link to /],
  ['world-writable interpreter', () => install({ interpreter: { source: 'path', path: f.worldWritable } }), 'unsafe-interpreter', /qemu-ww is writable by group or others \(mode 777\)$/],
  ['interpreter owned by another user', () => install({ interpreter: { source: 'path', path: f.userOwned } }), 'unsafe-interpreter', /qemu-user is owned by uid 65534, not root$/],
  ['interpreter not executable', () => install({ interpreter: { source: 'path', path: f.notExec } }), 'unsafe-interpreter', /qemu-noexec is not executable/],
  ['interpreter in a world-writable directory', () => install({ interpreter: { source: 'path', path: f.inOpenDir } }), 'unsafe-interpreter', /\/open is writable by group or others \(mode 777\): anyone could swap the emulator/],
  ['interpreter in a directory owned by another user', () => install({ interpreter: { source: 'path', path: f.inUserDir } }), 'unsafe-interpreter', /\/userdir is owned by uid 65534, not root: its owner could swap the emulator/],
  ['dynamically linked interpreter', () => install({ interpreter: { source: 'path', path: '/usr/bin/ls' } }), 'dynamic-interpreter', /^\/usr\/bin\/ls is dynamically linked: it fails inside containers/],
  ['non-ELF interpreter (a script)', () => install({ interpreter: { source: 'path', path: f.script } }), 'unsafe-interpreter', /bin\/script is not an ELF program/],
  ['interpreter for another machine', () => install({ interpreter: { source: 'path', path: f.foreignElf } }), 'unsafe-interpreter', /busybox-arm64 is ELF 64-bit LSB aarch64, statically linked, not a program for this host \(this host runs x86_64 programs\)$/],
  ['a directory as interpreter', () => install({ interpreter: { source: 'path', path: '/usr/bin' } }), 'unsafe-interpreter', /^\/usr\/bin is not a regular file/],
  ['a device as interpreter', () => install({ interpreter: { source: 'path', path: '/dev/zero' } }), 'unsafe-interpreter', /^\/dev\/zero is not a regular file/],
  ['a missing interpreter', () => install({ interpreter: { source: 'path', path: '/nonexistent/qemu' } }), 'no-emulator', /^\/nonexistent\/qemu does not exist/],
  ['empty emulator store', () => install({ interpreter: { source: 'store' } }), 'no-emulator', /emulator store has no qemu-aarch64/],
  ['replacing a handler Archway does not own', () => req([{ op: 'install', arch: 's390x' }]), 'not-owned', /^qemu-s390x is already registered by another tool .*Archway leaves it alone/],
  ['uninstalling a handler Archway does not own', () => req([{ op: 'uninstall', arch: 's390x' }]), 'not-owned', /^qemu-s390x was registered by another tool .*left alone/],
  ['disabling a handler Archway does not own', () => req([{ op: 'disable', arch: 's390x' }]), 'not-owned', /^qemu-s390x was registered by another tool .*left alone/],
  ['persisting a handler Archway does not own', () => req([{ op: 'persist', arch: 's390x', on: true }]), 'not-owned', /^qemu-s390x is not installed by Archway, so Archway does not write its boot-time file/],
  ['overwriting a persist file Archway did not write', () => req([{ op: 'install', arch: 'riscv64', persist: true }]), 'not-owned', /qemu-riscv64\.conf exists and was not written by Archway/],
  ['enabling a handler that does not exist', () => req([{ op: 'enable', arch: 'ppc64le' }]), 'not-found', /^qemu-ppc64le is not registered/],
  ['the same operation twice', () => req([{ op: 'install', arch: 'aarch64' }, { op: 'install', arch: 'aarch64' }]), 'bad-request', /^aarch64 appears twice in one request/],
  ['store-add of a script', () => req([{ op: 'store-add', arch: 'aarch64', file: f.script, sha256: '0'.repeat(64), provenance: { image: 'x' } }]), 'unsafe-interpreter', /bin\/script" is not an ELF program; the store takes only static emulators for this host$/],
  ['store-add of a symlink', () => req([{ op: 'store-add', arch: 'aarch64', file: f.link, sha256: '0'.repeat(64), provenance: { image: 'x' } }]), 'unsafe-interpreter', /qemu-link" is a symbolic link: the store takes regular files only$/],
  ['store-add of a dynamic program', () => req([{ op: 'store-add', arch: 'aarch64', file: '/usr/bin/ls', sha256: '0'.repeat(64), provenance: { image: 'x' } }]), 'dynamic-interpreter', /^"\/usr\/bin\/ls" is dynamically linked \(.*\); it fails inside containers/],
];

describe('the helper refuses hostile requests and changes nothing', () => {
  for (const [what, input, code, words] of helperCases) {
    it(`${what} → ${code}`, async () => {
      const before = await state();
      const r = await helper(input());
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.json, r.stdout).toBeDefined();
      expect(r.json!.ok).toBe(false);
      const err = r.json!.error ?? r.json!.results.find((x) => x.error)?.error;
      expect(err?.code, r.stdout).toBe(code);
      expect(err!.message).toMatch(words);
      expect(await state()).toEqual(before);
    });
  }

  it('a batch with one bad operation runs none of them', async () => {
    const before = await state();
    const r = await helper(req([{ op: 'install', arch: 'aarch64' }, { op: 'install', arch: 'ppc64le', interpreter: { source: 'path', path: f.link } }]));
    expect(r.code).toBe(2);
    expect(r.json!.results.map((x) => x.ok)).toEqual([false, false]);
    expect(r.json!.results[0]!.error).toBeUndefined();
    expect(await state()).toEqual(before);
  });

  it('never touches WSLInterop, even when forced through uninstall all', async () => {
    const before = await state();
    const r = await ns.run([process.execPath, CLI, 'uninstall', 'all', '--force'], { env: env() });
    expect(before.kernel.WSLInterop).toBeDefined();
    expect((await ns.snapshot()).WSLInterop).toEqual(before.kernel.WSLInterop);
    // it did remove the foreign s390x handler it was forced to remove
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await ns.snapshot())['qemu-s390x']).toBeUndefined();
  });
});

const cliCases: [string, string[], RegExp][] = [
  ['no command', [], /Usage/],
  ['unknown command', ['frobnicate'], /unknown command "frobnicate"/],
  ['unknown option', ['install', 'arm64', '--yolo'], /unknown option --yolo/],
  ['option with a missing value', ['install', 'arm64', '--flags'], /--flags needs a value/],
  ['install without an architecture', ['install'], /name at least one architecture/],
  ['unknown architecture, with a suggestion', ['install', 'arm46'], /unknown architecture "arm46" — did you mean/],
  ['bad flags', ['install', 'arm64', '--flags', 'FZ'], /^archway: flags: flags are letters from P, O, C, F$/m],
  ['persist without on/off', ['persist', 'maybe', 'arm64'], /say on or off/],
  ['an option the command does not take', ['status', '--force'], /status does not take --force/],
  ['relative --source', ['install', 'arm64', '--source', 'bin/qemu'], /not an absolute path/],
  ['native architecture', ['install', 'amd64'], /x86_64 runs natively on this x86_64 host/],
];

describe('the CLI refuses bad input with a clear message and exit code 2', () => {
  for (const [what, args, msg] of cliCases) {
    it(what, async () => {
      const before = await state();
      const r = await ns.run([process.execPath, CLI, ...args], { env: env() });
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stderr + r.stdout).toMatch(msg);
      expect(await state()).toEqual(before);
    });
  }
});
