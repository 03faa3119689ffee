/**
 * Under pkexec the helper trusts no environment variable, independently of pkexec's own clean-up
 * of the environment (defence in depth: another elevation tool, an older pkexec, or a setuid
 * wrapper might pass it through). In a private namespace with tmpfs over /var/lib, /var/log and
 * /etc/binfmt.d (so the "real" system paths are private too), the helper is started as root with
 * PKEXEC_UID set and ARCHWAY_ROOT / ARCHWAY_BINFMT / ARCHWAY_TEST_KILL_AT pointing elsewhere: it
 * must act on the real paths, never die at the test hook, and record PKEXEC_UID as the caller.
 * The control run (no PKEXEC_UID) shows the same variables do take effect for a root caller.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO_ROOT } from '../fixtures/foreign';
import { privateBinfmt, requireBuilt, type PrivateBinfmt } from '../kernel/namespace';
import { HELPER } from './support';

let ns: PrivateBinfmt;
let dir: string;

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  ns = await privateBinfmt();
  for (const d of ['/var/lib', '/var/log', '/etc/binfmt.d']) {
    const r = await ns.run(['mount', '-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'archway-env', d]);
    if (r.code !== 0) throw new Error(`mount tmpfs on ${d}: ${r.stderr}`);
  }
  dir = mkdtempSync(join(tmpdir(), 'archway-env-'));
  chmodSync(dir, 0o777);
});

afterAll(async () => {
  await ns?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cat = async (p: string) => {
  const r = await ns.run(['cat', p]);
  return r.code === 0 ? r.stdout : null;
};
const request = JSON.stringify({ version: 1, ops: [{ op: 'install', arch: 's390x', persist: true }] });

describe('the helper ignores ARCHWAY_ROOT, ARCHWAY_BINFMT and ARCHWAY_TEST_KILL_AT when PKEXEC_UID is set', () => {
  it('control: run by root without PKEXEC_UID, the variables take effect (so the next test can fail)', async () => {
    const root = join(dir, 'control');
    mkdirSync(root);
    const r = await ns.run([process.execPath, HELPER], { input: request, env: { ...process.env, ARCHWAY_ROOT: root, ARCHWAY_TEST_KILL_AT: 'install:persisted' } });
    expect(r.signal === 'SIGKILL' || r.code === 137, `${r.code} ${r.stdout}${r.stderr}`).toBe(true);
    expect(readdirSync(root).sort()).toEqual(['etc', 'var']);
  });

  it('with PKEXEC_UID: the real paths, no test hook, and PKEXEC_UID recorded as the caller', async () => {
    const evil = join(dir, 'evil');
    mkdirSync(evil, { mode: 0o777 });
    const r = await ns.run([process.execPath, HELPER], {
      input: request,
      env: { ...process.env, PKEXEC_UID: '4242', ARCHWAY_ROOT: evil, ARCHWAY_BINFMT: evil, ARCHWAY_TEST_KILL_AT: 'install:journaled' },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readdirSync(evil)).toEqual([]);
    const rec = JSON.parse((await cat('/var/lib/archway/state.json'))!) as { handlers: Record<string, { installedBy: number }> };
    expect(rec.handlers['qemu-s390x']?.installedBy).toBe(4242);
    expect(await cat('/etc/binfmt.d/qemu-s390x.conf')).toMatch(/^# Managed by Archway/);
    expect(await cat('/proc/sys/fs/binfmt_misc/qemu-s390x')).toMatch(/^enabled\n/);
    const audit = (await cat('/var/log/archway/audit.log'))!.trim().split('\n').map((l) => JSON.parse(l) as { uid: number; op: string });
    expect(audit.map((e) => [e.op, e.uid])).toEqual([['install', 4242]]);
  });

  it('a PKEXEC_UID that is not a uid is refused before anything happens', async () => {
    // '' once counted as uid 0 (Number('') === 0): a change would have been logged as root's.
    for (const bad of ['abc', '-1', '1.5', '', ' 7', '0x10', '1e3', '4294967295', '99999999999']) {
      const r = await ns.run([process.execPath, HELPER], { input: request, env: { ...process.env, PKEXEC_UID: bad } });
      expect(r.code, bad).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe('bad-request');
    }
  });
});
