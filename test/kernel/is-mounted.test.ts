/**
 * "Is binfmt_misc mounted exactly here?" (electron/engine/binfmtfs.ts isMounted, asked through
 * `archway status --json`'s mount.mounted) against a real private binfmt_misc mount: true only for
 * the mount point itself, spelled canonically — not a stray directory with a register file, not a
 * symlink to the mount, not a trailing slash or a file inside it. (It asks statfs/stat/realpath now
 * instead of reading /proc/self/mountinfo per call; these are the answers the mountinfo reading gave.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO_ROOT } from '../fixtures/foreign';
import { privateBinfmt, requireBuilt, type PrivateBinfmt } from './namespace';

const CLI = join(REPO_ROOT, 'dist/cli/archway.mjs');
const BINFMT = '/proc/sys/fs/binfmt_misc';
let ns: PrivateBinfmt;
let root: string;

async function mounted(binfmt: string): Promise<boolean> {
  const r = await ns.run([process.execPath, CLI, 'status', '--json'], { env: { ...process.env, ARCHWAY_ROOT: root, ARCHWAY_BINFMT: binfmt } });
  expect(r.code, r.stderr).toBe(0);
  const st = JSON.parse(r.stdout) as { mount: { path: string; mounted: boolean } };
  expect(st.mount.path).toBe(binfmt);
  return st.mount.mounted;
}

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  ns = await privateBinfmt();
  root = mkdtempSync(join(tmpdir(), 'archway-mounted-'));
});

afterAll(async () => {
  await ns?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('isMounted', () => {
  it('is true for the mount point of the private instance', async () => {
    expect(await mounted(BINFMT)).toBe(true);
  });
  it('is false for a directory that only looks like one (a stray register file)', async () => {
    const fake = join(root, 'fake-binfmt');
    rmSync(fake, { recursive: true, force: true });
    await ns.run(['mkdir', '-p', fake]);
    writeFileSync(join(root, 'fake-register'), '');
    await ns.run(['cp', join(root, 'fake-register'), join(fake, 'register')]);
    expect(await mounted(fake)).toBe(false);
  });
  it('is false for a symlink to the mount, a trailing slash, a file inside it, a missing path', async () => {
    const link = join(root, 'link-to-binfmt');
    symlinkSync(BINFMT, link);
    expect(await mounted(link)).toBe(false);
    expect(await mounted(`${BINFMT}/`)).toBe(false);
    expect(await mounted(`${BINFMT}/status`)).toBe(false);
    expect(await mounted(join(root, 'does-not-exist'))).toBe(false);
  });
});
