/**
 * `archway status --check PLATFORM…` against a real, private binfmt_misc instance (a user and
 * mount namespace, as cli-kernel.test.ts): a ready arm64 handler (real foreign busybox runs) passes,
 * a missing riscv64 fails with the command that fixes it. Also: a status table of real handlers
 * fits COLUMNS=60.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { foreignBusybox, REPO_ROOT } from '../fixtures/foreign';
import { privateBinfmt, requireBuilt, type PrivateBinfmt } from './namespace';

const CLI = join(REPO_ROOT, 'dist/cli/archway.mjs');

let ns: PrivateBinfmt;
let root: string;
let arm64: string;

function archway(args: string[], env: NodeJS.ProcessEnv = {}) {
  return ns.run([process.execPath, CLI, ...args], { env: { PATH: process.env.PATH, LANG: 'C.UTF-8', ARCHWAY_ROOT: root, ...env } });
}

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  arm64 = await foreignBusybox('arm64');
  ns = await privateBinfmt();
  root = mkdtempSync(join(tmpdir(), 'archway-root-'));
});

afterAll(async () => {
  await ns?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('archway status --check in a private binfmt_misc', () => {
  it('before anything is installed: arm64 does not run (exit 1, says how to fix it)', async () => {
    expect((await ns.run([arm64, 'uname', '-m'])).code).not.toBe(0);
    const r = await archway(['status', '--check', 'linux/arm64']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^✗ linux\/arm64: does not run here \(missing\).*fix: archway install aarch64$/m);
  });

  it('a ready arm64 handler passes (exit 0); with a missing riscv64 it fails (exit 1), one line per platform', async () => {
    const inst = await archway(['install', 'arm64', '--flags', 'F']);
    expect(inst.code, inst.stdout + inst.stderr).toBe(0);
    expect((await ns.run([arm64, 'uname', '-m'])).stdout.trim()).toBe('aarch64');

    const ok = await archway(['status', '--check', 'linux/arm64', 'arm64', 'amd64']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(ok.stdout).toMatch(/^✓ linux\/arm64: runs here \(ready\)/m);
    expect(ok.stdout).toMatch(/^✓ amd64: runs here \(native\)/m);

    const bad = await archway(['status', '--check', 'linux/arm64', 'linux/riscv64']);
    expect(bad.code).toBe(1);
    const lines = bad.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^✓ linux\/arm64: runs here/);
    expect(lines[1]).toMatch(/^✗ linux\/riscv64: does not run here \(missing\): no handler: riscv64 programs fail with "exec format error" — fix: archway install riscv64$/);

    const json = await archway(['status', '--check', 'linux/arm64', 'linux/riscv64', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: false,
      platforms: [
        expect.objectContaining({ input: 'linux/arm64', cpu: 'aarch64', platform: 'linux/arm64', runs: true, state: 'ready' }),
        expect.objectContaining({ input: 'linux/riscv64', cpu: 'riscv64', platform: 'linux/riscv64', runs: false, state: 'missing', fix: 'archway install riscv64' }),
      ],
    });

    const ascii = await archway(['status', '--check', 'linux/riscv64'], { LANG: 'C' });
    expect(ascii.stdout).toMatch(/^x linux\/riscv64: .* - fix: archway install riscv64$/m);
  });

  it('a disabled handler does not count; the fix is enable', async () => {
    expect((await archway(['disable', 'arm64'])).code).toBe(0);
    const r = await archway(['status', '--check', 'arm64']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/does not run here \(disabled\).*fix: archway enable aarch64$/m);
    expect((await archway(['enable', 'arm64'])).code).toBe(0);
    expect((await archway(['status', '--check', 'arm64'])).code).toBe(0);
  });

  it('an unknown platform is a usage error (exit 2)', async () => {
    const r = await archway(['status', '--check', 'linux/sparc128']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown architecture');
  });

  it('COLUMNS=60: every line of status (real handlers, long interpreter paths) fits', async () => {
    expect((await archway(['install', 's390x'])).code).toBe(0); // Debian's P wrapper: a long path
    for (const args of [['status'], ['status', '--all']]) {
      const r = await archway(args, { COLUMNS: '60' });
      for (const line of r.stdout.split('\n')) expect([...line].length, `${args.join(' ')}: ${line}`).toBeLessThanOrEqual(60);
    }
    const wide = await archway(['status'], { COLUMNS: '200' });
    expect(wide.stdout).toContain('/usr/libexec/qemu-binfmt/s390x-binfmt-P');
    expect((await archway(['uninstall', 'arm64', 's390x'])).code).toBe(0);
  });
});
