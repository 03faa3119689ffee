/**
 * The emulator store, tried as a hostile local user would. The real helper runs as root with
 * PKEXEC_UID set to a throw-away uid (no account needed: only the number matters), inside a private
 * binfmt_misc instance whose user namespace maps every uid to itself (so file owners are real) with
 * tmpfs over /var/lib, /var/log and /etc/binfmt.d (the real system paths, which are the only ones the
 * helper uses under pkexec, are private too).
 *
 * - store-add of /dev/zero, a FIFO, an ELF core file, a file the caller cannot read (another user's
 *   0600 file; root's program inside another user's 0700 directory), a symlink, and the caller's own
 *   static x86-64 program under a sha256 other than its own: each refused with its own typed error,
 *   the store unchanged.
 * - A second store-add for the same architecture does not change what an installed and persisted
 *   handler runs: register string and persist file name the first sha256's path, that path still
 *   holds those bytes, and the foreign program still runs.
 * - What the caller reports about an emulator is shown as reported (CLI status text and JSON), and
 *   control characters reach neither `archway status` nor `archway log`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, copyFileSync, lchownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { foreignBusybox, REPO_ROOT } from '../fixtures/foreign';
import { requireBuilt, type PrivateBinfmt } from '../kernel/namespace';
import { identityBinfmt } from './identity-ns';
import { CLI, HELPER } from './support';

const CALLER = 40000 + Math.floor(Math.random() * 10000);
const OTHER = CALLER + 1;
const STORE = '/var/lib/archway/emulators';
const QEMU = '/usr/bin/qemu-aarch64-static';
const HOST_PROGRAM = '/bin/busybox'; // a static x86-64 program: what a hostile caller would build

let ns: PrivateBinfmt;
let work: string;
let armBusybox: string;
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
let f: Record<'qemu' | 'mine' | 'core' | 'fifo' | 'link' | 'otherSecret' | 'rootInPrivate', string>;

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  armBusybox = await foreignBusybox('arm64');
  ns = await identityBinfmt();
  work = mkdtempSync('/tmp/archway-store-');
  chmodSync(work, 0o755);
  const mineDir = join(work, 'caller');
  mkdirSync(mineDir, { mode: 0o700 });
  chownSync(mineDir, CALLER, CALLER);
  const otherDir = join(work, 'other-home');
  mkdirSync(otherDir, { mode: 0o700 });
  chownSync(otherDir, OTHER, OTHER);
  const own = (p: string, uid: number, mode: number) => {
    chownSync(p, uid, uid);
    chmodSync(p, mode);
    return p;
  };
  f = {
    qemu: own((copyFileSync(QEMU, join(mineDir, 'qemu-aarch64')), join(mineDir, 'qemu-aarch64')), CALLER, 0o755),
    mine: own((copyFileSync(HOST_PROGRAM, join(mineDir, 'mine')), join(mineDir, 'mine')), CALLER, 0o755),
    core: join(mineDir, 'core'),
    fifo: join(mineDir, 'fifo'),
    link: join(mineDir, 'link'),
    otherSecret: own((copyFileSync(HOST_PROGRAM, join(work, 'other-secret')), join(work, 'other-secret')), OTHER, 0o600),
    rootInPrivate: own((copyFileSync(HOST_PROGRAM, join(otherDir, 'prog')), join(otherDir, 'prog')), 0, 0o755),
  };
  // An ELF core file: the same bytes with e_type 4 (ET_CORE).
  const core = readFileSync(HOST_PROGRAM);
  core.writeUInt16LE(4, 16);
  writeFileSync(f.core, core);
  own(f.core, CALLER, 0o755);
  execFileSync('mkfifo', ['-m', '0644', f.fifo]);
  own(f.fifo, CALLER, 0o644);
  symlinkSync(f.qemu, f.link);
  lchownSync(f.link, CALLER, CALLER);
}, 300_000);

afterAll(async () => {
  await ns?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const helper = async (ops: unknown[]) => {
  const r = await ns.run([process.execPath, HELPER], { input: JSON.stringify({ version: 1, ops }), env: { ...process.env, PKEXEC_UID: String(CALLER) } });
  let json: { ok: boolean; results: { ok: boolean; message: string; error?: { code: string; message: string } }[]; error?: { code: string; message: string } } | undefined;
  try {
    json = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    json = undefined;
  }
  return { ...r, json };
};
const storeAdd = (file: string, sha256: string, provenance: Record<string, string> = { image: 'docker.io/tonistiigi/binfmt:qemu-v9.2.2' }) => ({ op: 'store-add', arch: 'aarch64', file, sha256, provenance });
/** Every path under the store with size, mode and owner (empty when the store does not exist). */
const storeListing = async () => (await ns.run(['sh', '-c', `cd ${STORE} 2>/dev/null && find . -printf '%p %s %m %U\\n' | sort; true`])).stdout;
const inNs = async (argv: string[]) => {
  const r = await ns.run(argv);
  return r.code === 0 ? r.stdout : null;
};
/** No C0 control but \n and \t, no DEL, no C1 (U+0080–U+009F). */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('store-add refuses what the caller could not store', () => {
  const cases: [string, () => [string, string], string, RegExp][] = [
    ['/dev/zero', () => ['/dev/zero', '0'.repeat(64)], 'unsafe-interpreter', /character device/],
    ['a FIFO', () => [f.fifo, '0'.repeat(64)], 'unsafe-interpreter', /FIFO/],
    ['an ELF core file (e_type 4)', () => [f.core, sha(f.core)], 'unsafe-interpreter', /type 4, not an executable/],
    ["another user's 0600 file", () => [f.otherSecret, sha(f.otherSecret)], 'not-readable', new RegExp(`belongs to uid ${OTHER}`)],
    ["root's program inside another user's 0700 directory", () => [f.rootInPrivate, sha(f.rootInPrivate)], 'not-readable', /other-home.*not open to uid/],
    ['a symlink (to an emulator the caller owns)', () => [f.link, sha(f.qemu)], 'unsafe-interpreter', /symbolic link/],
    ["the caller's own static x86-64 program under another sha256", () => [f.mine, sha(f.qemu)], 'content-mismatch', /has sha256 [0-9a-f]{64}, not the/],
  ];
  it.each(cases)('%s: refused with its own error, nothing enters the store', async (_label, args, code, message) => {
    const [file, digest] = args();
    const before = await storeListing();
    const r = await helper([storeAdd(file, digest)]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.json?.results[0]?.error?.code, r.stdout).toBe(code);
    expect(r.json?.results[0]?.error?.message).toMatch(message);
    expect(await storeListing()).toBe(before);
  });

  it('a reported provenance with control characters is refused by the request schema', async () => {
    const r = await helper([storeAdd(f.qemu, sha(f.qemu), { image: 'docker.io/x\u001b]0;pwned\u0007', qemuVersion: '9.2.2' })]);
    expect(r.code).toBe(2);
    expect(r.json?.error?.code).toBe('bad-request');
    expect(await storeListing()).toBe('');
  });
});

describe('a second store-add does not change what an installed, persisted handler runs', () => {
  const first = () => sha(f.qemu);
  const firstPath = () => `${STORE}/${first()}/qemu-aarch64`;
  const claimed = { image: 'docker.io/tonistiigi/binfmt:qemu-v9.2.2', digest: `sha256:${'a'.repeat(64)}`, qemuVersion: '9.2.2' };

  it('store-add puts the approved bytes at a path that names their sha256, root-owned', async () => {
    const r = await helper([storeAdd(f.qemu, first(), claimed)]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await inNs(['stat', '-c', '%u %a', firstPath()])).toBe('0 755\n');
    expect((await inNs(['sha256sum', firstPath()]))?.split(' ')[0]).toBe(first());
  });

  it('install --source store registers and persists that path; the foreign program runs', async () => {
    const r = await helper([{ op: 'install', arch: 'aarch64', interpreter: { source: 'store' }, persist: true }]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await inNs(['cat', '/proc/sys/fs/binfmt_misc/qemu-aarch64'])).toContain(`interpreter ${firstPath()}\n`);
    expect(await inNs(['cat', '/etc/binfmt.d/qemu-aarch64.conf'])).toContain(`:${firstPath()}:`);
    expect(await inNs([armBusybox, 'uname', '-m'])).toBe('aarch64\n');
  });

  it('a second store-add for aarch64 (other bytes, correctly named) leaves the handler, its persist file and its bytes as they were', async () => {
    const r = await helper([storeAdd(f.mine, sha(f.mine), { image: 'someone/else:latest' })]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await inNs(['cat', '/proc/sys/fs/binfmt_misc/qemu-aarch64'])).toContain(`interpreter ${firstPath()}\n`);
    expect(await inNs(['cat', '/etc/binfmt.d/qemu-aarch64.conf'])).toContain(`:${firstPath()}:`);
    expect((await inNs(['sha256sum', firstPath()]))?.split(' ')[0]).toBe(first());
    expect(await inNs([armBusybox, 'uname', '-m'])).toBe('aarch64\n');
    // Both entries live side by side.
    expect(await storeListing()).toContain(`./${sha(f.mine)}/qemu-aarch64 `);
  });

  it('archway status shows the caller\'s claims as reported, never as a verified version (text and JSON)', async () => {
    const reported = `reported: from ${claimed.image}@${claimed.digest}, QEMU 9.2.2`;
    // Wide enough for every column: the aarch64 row's EMULATOR cell names the source and the claims, labelled.
    const wide = await ns.run([process.execPath, CLI, 'status'], { env: { ...process.env, COLUMNS: '400' } });
    expect(wide.code, wide.stderr).toBe(0);
    const row = wide.stdout.split('\n').find((l) => /^aarch64\s/.test(l));
    // The version shown unlabelled is the one the helper read from the stored bytes (Debian's 7.2), never the claim.
    expect(row, wide.stdout).toMatch(new RegExp(`archway-store QEMU 7\\.2\\.\\d+ \\(Debian [^)]*\\) \\(${reported.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
    // At 80 columns the table drops EMULATOR first and says so.
    const narrow = await ns.run([process.execPath, CLI, 'status'], { env: { ...process.env, COLUMNS: '80' } });
    expect(narrow.code, narrow.stderr).toBe(0);
    expect(narrow.stdout).toMatch(/\(EMULATOR\b[^)]*hidden to fit 80 columns/);
    // Either way the claimed version appears nowhere but inside its "reported:" label.
    for (const text of [wide, narrow]) expect(text.stdout.replaceAll(reported, '')).not.toMatch(/9\.2\.2/);
    const json = await ns.run([process.execPath, CLI, 'status', '--json']);
    const h = (JSON.parse(json.stdout) as { handlers: { name: string; emulator: Record<string, unknown> }[] }).handlers.find((x) => x.name === 'qemu-aarch64');
    expect(h?.emulator).toEqual({ source: 'archway-store', reported: `reported: from ${claimed.image}@${claimed.digest}, QEMU 9.2.2`, qemuVersion: expect.stringMatching(/^7\.2\.\d+ \(Debian /), sha256: first() });
  });
});

describe('no control characters reach the terminal', () => {
  it('archway log and archway status print none after a hostile audit entry and handler', async () => {
    const hostile = `evil\u001b]0;owned\u0007 \u009b2J\u001b[31m red \u0085 \u007f\r`;
    const entry = { time: new Date().toISOString(), uid: CALLER, op: 'store-add', arch: 'aarch64', ok: true, message: hostile };
    const w = await ns.run(['sh', '-c', `printf '%s\\n' "$1" >> /var/log/archway/audit.log`, 'sh', JSON.stringify(entry)]);
    expect(w.code, w.stderr).toBe(0);
    // A handler another tool registered, whose name and interpreter carry an escape and a C1 CSI.
    const reg = await ns.run([process.execPath, '-e', `require('fs').writeFileSync('/proc/sys/fs/binfmt_misc/register', ':evil\\u001b[2J:M::\\\\x7fELF\\\\x02\\\\x01\\\\x01\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x02\\\\x00\\\\xfa\\\\x00::/tmp/x\\u009b31m:')`]);
    for (const args of [['log'], ['log', '--json'], ['status'], ['status', '--all'], ['status', '--json']]) {
      const r = await ns.run([process.execPath, CLI, ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(CONTROL.test(r.stdout), `${args.join(' ')} printed a control character: ${JSON.stringify(r.stdout.match(CONTROL))}`).toBe(false);
      // The OSC title ("owned") goes with its sequence; the text around it stays.
      if (args.join(' ') === 'log') expect(r.stdout).toMatch(/store-add aarch64: evil +red/);
      if (args[0] === 'status' && reg.code === 0) expect(r.stdout).toMatch(/evil/);
    }
  });
});
