/**
 * One instance, one state: Archway run inside a private binfmt_misc instance (a user namespace with
 * its own mount) keeps its record, journal, lock and audit log under $XDG_STATE_HOME/archway/<instance>/
 * and writes nothing to the host's /var/lib/archway or /var/log/archway. Inside the namespace a tmpfs
 * covers /var/lib and /var/log (the host's copies are never at risk), so whatever lands there is seen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO_ROOT } from '../fixtures/foreign';
import { privateBinfmt, requireBuilt, type PrivateBinfmt } from './namespace';

const CLI = join(REPO_ROOT, 'dist/cli/archway.mjs');
let ns: PrivateBinfmt;
let dir: string;

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: `${dir}/xdg`, HOME: `${dir}/home` };
  delete e.ARCHWAY_ROOT;
  delete e.ARCHWAY_BINFMT;
  return e;
}
const archway = (args: string[]) => ns.run([process.execPath, CLI, ...args], { env: env() });
const sh = (script: string) => ns.run(['sh', '-c', script], { env: env() });

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  ns = await privateBinfmt();
  dir = mkdtempSync(join(tmpdir(), 'archway-instance-'));
  const r = await sh(`set -e; mount -t tmpfs tmpfs /var/lib; mount -t tmpfs tmpfs /var/log; mount -t tmpfs tmpfs ${dir}; mkdir -p ${dir}/xdg ${dir}/home`);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  await ns?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a private binfmt_misc instance keeps its own state', () => {
  it('install, status and log work from $XDG_STATE_HOME/archway/<instance>; /var/lib and /var/log stay empty', async () => {
    const map = await sh('cat /proc/self/uid_map');
    expect(map.stdout.trim().split(/\s+/).join(' ')).not.toBe('0 0 4294967295');
    const r = await archway(['install', 's390x']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const files = await sh(`find /var/lib /var/log -mindepth 1; echo --; find ${dir}/xdg -type f | sort`);
    const [inVar, inXdg] = files.stdout.split('--\n');
    expect(inVar!.trim()).toBe('');
    expect(inXdg).toMatch(new RegExp(`^${dir}/xdg/archway/userns-\\d+/state\\.json$`, 'm'));
    expect(inXdg).toMatch(/\/audit\.log$/m);
    const st = JSON.parse((await archway(['status', '--json'])).stdout) as { handlers: { name: string; owner: { kind: string } }[] };
    expect(st.handlers.find((h) => h.name === 'qemu-s390x')?.owner.kind).toBe('archway');
    const log = JSON.parse((await archway(['log', '--json'])).stdout) as { op: string; name?: string }[];
    expect(log.some((e) => e.op === 'install' && e.name === 'qemu-s390x')).toBe(true);
    expect((await archway(['uninstall', 's390x'])).code).toBe(0);
    expect((await sh('find /var/lib /var/log -mindepth 1')).stdout.trim()).toBe('');
  });
});
