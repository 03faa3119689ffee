// rootlessMayShow lets plain `archway status` skip the rootless code; it must never say "nothing to
// show" when electron/rootless/report.ts `reports` would show something. Real files in a temporary
// XDG_RUNTIME_DIR and XDG_STATE_HOME (no mock of the file system).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RECORD_VERSION } from '../../shared/record';
import { rootlessMayShow } from './present';
import { reports } from './report';

let dir: string;
let env: NodeJS.ProcessEnv;
/** A uid no process here runs as, so no machine-wide /tmp/podman-run-<uid> can exist by accident. */
const UID = 4_000_123;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'archway-present-'));
  env = { HOME: join(dir, 'home'), XDG_RUNTIME_DIR: join(dir, 'run'), XDG_STATE_HOME: join(dir, 'state') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('rootlessMayShow: whether plain status needs the rootless code', () => {
  it('no pid file and no record of either engine: nothing to show, and reports agrees', () => {
    expect(rootlessMayShow(env, UID)).toBe(false);
    expect(reports(null, env)).toEqual([]);
  });

  it('a record of handlers asked for in rootless Podman: shown (as missing while Podman is not running)', () => {
    const stateDir = join(dir, 'state', 'archway', 'rootless-podman');
    mkdirSync(stateDir, { recursive: true });
    const register = ':qemu-aarch64:M::\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-aarch64-static:FC';
    const record = { version: RECORD_VERSION, handlers: { 'qemu-aarch64': { cpu: 'aarch64', register, source: 'distro', installedAt: '2026-01-01T00:00:00Z', installedBy: UID, persist: false } } };
    writeFileSync(join(stateDir, 'state.json'), JSON.stringify(record));
    expect(rootlessMayShow(env, UID)).toBe(true);
    const rs = reports(null, env);
    expect(rs.map((r) => [r.scope, r.missing])).toEqual([['podman', ['aarch64']]]);
  });

  it("a pid file of either engine: the rootless code decides (rootless Docker's docker.pid, Podman's pause.pid)", () => {
    mkdirSync(join(dir, 'run'), { recursive: true });
    writeFileSync(join(dir, 'run', 'docker.pid'), '999999999\n');
    expect(rootlessMayShow(env, UID)).toBe(true);
    rmSync(join(dir, 'run', 'docker.pid'));
    mkdirSync(join(dir, 'run', 'libpod', 'tmp'), { recursive: true });
    writeFileSync(join(dir, 'run', 'libpod', 'tmp', 'pause.pid'), '999999999\n');
    expect(rootlessMayShow(env, UID)).toBe(true);
  });
});
