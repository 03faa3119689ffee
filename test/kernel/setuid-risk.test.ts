/**
 * The C flag, tried as a hostile local user would: a private binfmt_misc instance in a user
 * namespace that maps 65536 ids (so uid 1000 inside it is a real unprivileged user), Archway's state
 * on a tmpfs mounted inside that namespace, Debian's static QEMU, and a real setuid-root aarch64
 * program (test/fixtures/euid-program.ts: it exits with its effective uid).
 *
 * The attack: uid 1000 runs the setuid-root foreign program with QEMU_LOG=unimp
 * QEMU_LOG_FILENAME=<path>. With C the kernel gives QEMU the program's credentials (euid 0) and
 * QEMU opens its log file as root: a root-owned file wherever the user chose.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO_ROOT } from '../fixtures/foreign';
import { euidProgramAarch64, exitForEuid } from '../fixtures/euid-program';
import { privateBinfmt, requireBuilt, type PrivateBinfmt } from './namespace';

const CLI = join(REPO_ROOT, 'dist/cli/archway.mjs');
const USER = 1000;
const AARCH64_MAGIC = '\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00';
const AARCH64_MASK = '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff';

let ns: PrivateBinfmt;
/** A host directory with a tmpfs mounted over it inside the namespace (invisible outside). */
let dir: string;
let state: string;
let program: string;

async function inNs(script: string, env: Record<string, string> = {}) {
  return ns.run(['sh', '-c', script], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
}

function archway(args: string[]) {
  return ns.run([process.execPath, CLI, ...args], { env: { ...process.env, ARCHWAY_ROOT: state } });
}

async function flagsNow(): Promise<string | undefined> {
  const r = await inNs('cat /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null || true');
  return /^flags: (.*)$/m.exec(r.stdout)?.[1];
}

/** uid 1000 runs the setuid-root program with QEMU's log redirected to a fresh file; what happened? */
async function attack(tag: string): Promise<{ exit: number | null; logOwner: number | null }> {
  const log = `${dir}/pub/${tag}.log`;
  const r = await ns.run(['setpriv', `--reuid=${USER}`, `--regid=${USER}`, '--clear-groups', program], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', QEMU_LOG: 'unimp', QEMU_LOG_FILENAME: log },
  });
  const st = await inNs(`stat -c %u ${log} 2>/dev/null || echo none`);
  const owner = st.stdout.trim();
  return { exit: r.code, logOwner: owner === 'none' ? null : Number(owner) };
}

async function status() {
  const r = await archway(['status', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    handlers: { name: string; rule: { flags: string; interpreter: string }; owner: { kind: string }; checks: { id: string; level: string; message: string; intent?: { action: string; archs: string[] } }[] }[];
  };
}

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  ns = await privateBinfmt({ ids: 65536 });
  dir = mkdtempSync(join(tmpdir(), 'archway-setuid-'));
  state = `${dir}/state`;
  program = `${dir}/su-aarch64`;
  const hex = euidProgramAarch64().toString('hex');
  const setup = await inNs(
    `set -e; mount -t tmpfs -o mode=755 tmpfs ${dir}; mkdir -p ${state} ${dir}/pub; chmod 1777 ${dir}/pub; ` +
      `${process.execPath} -e "require('fs').writeFileSync('${program}', Buffer.from('${hex}', 'hex'))"; ` +
      `chown 0:0 ${program}; chmod 4755 ${program}`,
    { PATH: `${process.env.PATH}` },
  );
  expect(setup.code, setup.stderr).toBe(0);
});

afterAll(async () => {
  await ns?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('flag C and a hostile local user (private instance, real QEMU, uid 1000)', () => {
  it('the user really is unprivileged, and the program is setuid root', async () => {
    const id = await ns.run(['setpriv', `--reuid=${USER}`, `--regid=${USER}`, '--clear-groups', 'id', '-u']);
    expect(id.stdout.trim()).toBe(String(USER));
    const st = await inNs(`stat -c '%u %a' ${program}`);
    expect(st.stdout.trim()).toBe('0 4755');
  });

  it('default install: no C, and the user gets no root-owned file (the program keeps the caller\'s uid)', async () => {
    const r = await archway(['install', 'arm64']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const flags = await flagsNow();
    expect(flags).toBeDefined();
    expect(flags).toContain('F');
    expect(flags).not.toContain('C');
    const a = await attack('default');
    expect(a.exit).toBe(exitForEuid(USER));
    expect(a.logOwner).not.toBe(0);
  });

  it('status has no setuid risk on a handler without C', async () => {
    const h = (await status()).handlers.find((x) => x.name === 'qemu-aarch64')!;
    expect(h.checks.find((c) => c.id === 'setuid-risk')).toBeUndefined();
  });

  it('--dry-run --allow-setuid names the risk in one sentence before anything changes', async () => {
    const r = await archway(['install', 'arm64', '--allow-setuid', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/QEMU_LOG_FILENAME/);
    expect(r.stdout).toMatch(/root-owned files/);
    expect(await flagsNow()).not.toContain('C');
  });

  it('explicit opt-in (--allow-setuid): the setuid program gets its own credentials — and the risk is real', async () => {
    const r = await archway(['install', 'arm64', '--allow-setuid']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await flagsNow()).toContain('C');
    const a = await attack('optin');
    expect(a.exit).toBe(exitForEuid(0));
    expect(a.logOwner).toBe(0);
  });

  it('status marks the C handler with the risk and a typed drop-c intent', async () => {
    const h = (await status()).handlers.find((x) => x.name === 'qemu-aarch64')!;
    const risk = h.checks.find((c) => c.id === 'setuid-risk');
    expect(risk?.level).toBe('warning');
    expect(risk?.message).toMatch(/QEMU_LOG_FILENAME/);
    expect(risk?.intent).toEqual({ action: 'drop-c', archs: ['aarch64'] });
  });

  it('archway drop-c removes C from Archway\'s own handler; the attack fails again', async () => {
    const r = await archway(['drop-c', 'arm64']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await flagsNow()).not.toContain('C');
    const a = await attack('dropped');
    expect(a.exit).toBe(exitForEuid(USER));
    expect(a.logOwner).not.toBe(0);
  });

  it('a foreign tool\'s OCF handler (tonistiigi/binfmt style) is marked, Drop C takes it over, uninstall restores it', async () => {
    expect((await archway(['uninstall', 'arm64'])).code).toBe(0);
    const theirs = `:qemu-aarch64:M::${AARCH64_MAGIC}:${AARCH64_MASK}:/usr/bin/qemu-aarch64-static:OCF`;
    const reg = await inNs(`printf '%s' '${theirs}' > /proc/sys/fs/binfmt_misc/register`);
    expect(reg.code, reg.stderr).toBe(0);
    const h = (await status()).handlers.find((x) => x.name === 'qemu-aarch64')!;
    expect(h.owner.kind).not.toBe('archway');
    expect(h.checks.find((c) => c.id === 'setuid-risk')?.intent).toEqual({ action: 'drop-c', archs: ['aarch64'] });
    expect((await attack('theirs')).logOwner).toBe(0);

    const r = await archway(['drop-c', 'arm64']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/takes over/);
    const after = await inNs('cat /proc/sys/fs/binfmt_misc/qemu-aarch64');
    expect(after.stdout).toMatch(/^interpreter \/usr\/bin\/qemu-aarch64-static$/m);
    expect(/^flags: (.*)$/m.exec(after.stdout)?.[1]).toBe('OF');
    const a = await attack('taken-over');
    expect(a.exit).toBe(exitForEuid(USER));
    expect(a.logOwner).not.toBe(0);

    expect((await archway(['uninstall', 'arm64'])).code).toBe(0);
    expect(await flagsNow()).toBe('OCF');
  });

  it('flags without F are refused, with a hint, and nothing changes', async () => {
    const before = await ns.snapshot();
    const r = await archway(['install', 's390x', '--flags', 'P']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/F/);
    expect(await ns.snapshot()).toEqual(before);
  });
});
