// `archway fleet` over real hosts: host 1 a dockerd on a unix-socket context, host 2 a second dockerd
// reached through Debian's sshd on loopback by an ssh://alias context; each in its own network, mount
// and user namespace with a PRIVATE binfmt_misc instance that starts empty (so nothing here depends on
// what this machine's own table holds: `archway install all`, another tool's handlers). Plus a context that accepts connections and never
// answers and one whose port refuses: both must be reported within the bound while the others complete.
//
// What "host 2 changed only" means here: host 2's instance belongs to its user namespace, so a handler
// registered there serves only containers of that namespace. It is checked three ways that do not
// depend on Archway's own reading: host 1's instance and this machine's own table (read directly) are
// identical before and after; host 2's instance (read with nsenter) holds the new entry; an arm64 container
// runs on host 2 and fails with "no handler" on host 1.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetMatrix } from '../../shared/fleet';
import { readEntries } from '../docker/binfmt-snapshot';
import { buildRegister } from '../../shared/binfmt/register';
import { catalogRule } from '../../shared/status';
import { bundleForNode } from '../support/node';
import { X86_64_HOST } from '../docker/env';
import { REPO_ROOT } from '../fixtures/foreign';
import { runArgv } from '../kernel/namespace';
import { FLEET_ALIAS as ALIAS, FLEET_ARM64 as ARM64, FLEET_REGISTRAR as REGISTRAR, startFleet, withHome, type Fleet, type Host2, type Sshd } from '../support/fleet-hosts';

const CLI = path.join(REPO_ROOT, 'dist/cli/archway.mjs');
const BOUND_S = 3;

/** This machine's own table and host 1's instance: neither may change when host 2 is asked. */
let fleetRef: Fleet | undefined;
function hostTable(): string[] {
  return [...readEntries().map((e) => `${e.name} ${e.enabled ? 'on' : 'off'} ${e.register}`), ...(fleetRef ? fleetRef.host1.entries().map((n) => `host1 ${n}`) : [])];
}

describe.runIf(X86_64_HOST && process.getuid?.() === 0)('archway fleet over two real hosts', () => {
  let fleet: Fleet;
  let host2: Host2;
  let sshd: Sshd;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-fleet-cli-'));
  let dockerConfig: string;
  const archway = (args: string[]) =>
    runArgv(withHome(sshd.home, [process.execPath, CLI, ...args]), {
      env: { PATH: process.env.PATH, HOME: '/root', DOCKER_CONFIG: dockerConfig, XDG_CONFIG_HOME: path.join(tmp, 'xdg'), LANG: 'C.UTF-8' },
      timeoutMs: 120_000,
    });

  beforeAll(async () => {
    expect(fs.existsSync(CLI), 'run `node scripts/build.mjs cli` first').toBe(true);
    fleet = await startFleet();
    fleetRef = fleet;
    ({ host2, sshd, dockerConfig } = fleet);
    // Host 1's own instance starts empty: no arm64 handler there for the length of the test.
    expect(fleet.host1.entries()).toEqual([]);
  }, 180_000);

  afterAll(async () => {
    try {
      await fleet?.stop();
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  const status = async (contexts: string[], extra: string[] = []) => {
    const t0 = Date.now();
    const r = await archway(['fleet', 'status', ...contexts, '--json', '--timeout', String(BOUND_S), '--registrar', REGISTRAR, ...extra]);
    const ms = Date.now() - t0;
    let m: FleetMatrix;
    try {
      m = JSON.parse(r.stdout) as FleetMatrix;
    } catch {
      throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
    return { r, m, ms };
  };
  const cell = (m: FleetMatrix, host: string, cpu: string) => m.hosts.find((h) => h.id === host)?.cells.find((c) => c.cpu === cpu);

  it('fleet status: both hosts answer, the hanging and the refusing context are reported within the bound', async () => {
    const before = hostTable();
    const { r, m, ms } = await status(['host1', 'host2', 'hang', 'refuse', 'hangssh']);
    expect(r.code, r.stderr).toBe(3); // some host did not answer
    const by = Object.fromEntries(m.hosts.map((h) => [h.id, h]));
    expect(by.host1!.reach, JSON.stringify(by.host1)).toBe('ok');
    expect(by.host2!.reach, JSON.stringify(by.host2)).toBe('ok');
    expect(by.host2!.endpoint).toBe(`ssh://${ALIAS}`);
    expect(by.hang!.reach).toBe('timeout');
    expect(by.refuse!.reach).toBe('refused');
    expect(by.hangssh!.reach).toBe('timeout');
    expect(by.hangssh!.ms!).toBeLessThan(BOUND_S * 1000 + 1500);
    // Asked at once: the hanging host costs its bound, not the others theirs, and no more.
    expect(by.hang!.ms!).toBeGreaterThanOrEqual(BOUND_S * 1000 - 50);
    expect(by.hang!.ms!).toBeLessThan(BOUND_S * 1000 + 1500);
    expect(by.refuse!.ms!).toBeLessThan(BOUND_S * 1000);
    expect(ms).toBeLessThan(60_000);
    // Figures for the record (not asserted beyond the bounds above).
    console.log(`fleet status: whole command ${ms} ms; per host ${m.hosts.map((h) => `${h.id} ${h.ms} ms (${h.reach})`).join(', ')}`);
    for (const h of [by.host1!, by.host2!]) {
      expect(h.machine).toBe('x86_64');
      expect(h.mounted).toBe(true);
      expect(h.emulatorVersion).toMatch(/^\d+\.\d+/); // Debian's qemu-user-static, read from its bytes on that host
      expect(cell(m, h.id, 'x86_64')?.state).toBe('native');
      expect(cell(m, h.id, 'aarch64')?.state).toBe('missing');
    }
    expect(hostTable()).toEqual(before);
    // The table for people says the same.
    const text = await archway(['fleet', 'status', 'host1', 'host2', 'hang', '--timeout', String(BOUND_S), '--registrar', REGISTRAR]);
    expect(text.stdout).toMatch(/^HOST\s+ENDPOINT/m);
    expect(text.stdout).toMatch(/host2\s+ssh:\/\/archway-host2\s+x86_64/);
    expect(text.stdout).toMatch(/hang: no answer after \d/);
  });

  it('fleet install changes host 2 only; one host failing does not stop the others; a probe on host 2 runs arm64', async () => {
    const before = hostTable();
    expect(host2.entries()).not.toContain('qemu-aarch64');
    const r = await archway(['fleet', 'install', 'arm64', '--contexts', 'host2,hang,refuse', '--json', '--timeout', String(BOUND_S), '--registrar', REGISTRAR]);
    const out = JSON.parse(r.stdout) as { ok: boolean; hosts: { host: string; ok: boolean; reach: string; changed: { name: string; changed: boolean }[]; planned: { register?: string }[] }[] };
    expect(r.code, r.stdout + r.stderr).toBe(3); // every failure is a host that could not be used
    const by = Object.fromEntries(out.hosts.map((h) => [h.host, h]));
    expect(by.host2).toMatchObject({ ok: true, reach: 'ok', changed: [{ name: 'qemu-aarch64', changed: true }] });
    expect(by.host2!.planned[0]!.register).toMatch(/^:qemu-aarch64:M::.*:\/usr\/libexec\/qemu-binfmt\/aarch64-binfmt-P:PF$/);
    expect(by.hang).toMatchObject({ ok: false, reach: 'timeout' });
    expect(by.refuse).toMatchObject({ ok: false, reach: 'refused' });

    // Host 2's own instance has it (read without Archway); the host kernel's table is as it was.
    expect(host2.entries()).toContain('qemu-aarch64');
    expect(hostTable()).toEqual(before);

    // A probe on host 2 runs the arm64 image; on host 1 the same image has no handler.
    const p2 = await archway(['--context', 'host2', 'probe', '--platform', 'linux/arm64', '--image', ARM64, '--pull', 'never', '--json']);
    expect(JSON.parse(p2.stdout).results[0], p2.stderr).toMatchObject({ status: 'ok' });
    const p1 = await archway(['--context', 'host1', 'probe', '--platform', 'linux/arm64', '--image', ARM64, '--pull', 'never', '--json']);
    expect(JSON.parse(p1.stdout).results[0], p1.stderr).toMatchObject({ status: 'no-handler' });

    // Status: host 2 ready, host 1 still missing; the baseline shows exactly that difference.
    const { m } = await status(['host1', 'host2'], ['--baseline', 'host1']);
    expect(cell(m, 'host2', 'aarch64')?.state).toBe('ready');
    expect(cell(m, 'host1', 'aarch64')?.state).toBe('missing');
    expect(m.differences).toEqual([{ host: 'host2', cpu: 'aarch64', baseline: 'missing', here: 'ready' }]);
    // Again: nothing to do on host 2 (idempotent), still nothing on host 1.
    const again = await archway(['fleet', 'install', 'arm64', '--contexts', 'host2', '--json', '--registrar', REGISTRAR]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).hosts[0].changed).toEqual([]);
    expect(hostTable()).toEqual(before);
  });

  it('the Machines view\'s path (real router + gateway): matrix, "make host 2 like host 1" planned then applied once, a probe on every host', async () => {
    // Host 1 gets a riscv64 handler for this test (the snapshot puts the table back afterwards).
    if (!fleet.host1.entries().includes('qemu-riscv64')) fleet.host1.register(buildRegister(catalogRule('riscv64', '/usr/bin/qemu-riscv64-static', 'F')));
    expect(host2.entries()).not.toContain('qemu-riscv64');
    const driver = path.join(tmp, 'machines-driver.mjs');
    await bundleForNode(path.join(REPO_ROOT, 'test/fleet/machines-driver.ts'), driver);
    const r = await runArgv(withHome(sshd.home, [process.execPath, driver, REGISTRAR, 'host2', 'host1', ARM64, 'host1,host2,hang']), {
      env: { PATH: process.env.PATH, HOME: '/root', DOCKER_CONFIG: dockerConfig },
      timeoutMs: 120_000,
    });
    const out = JSON.parse(r.stdout) as {
      crashed?: string;
      matrix: FleetMatrix;
      plan: { cpus: string[]; planned: { ok: boolean; register?: string }[] };
      applied: { ok: boolean; results: { name: string; changed: boolean }[] };
      reused: { code: string };
      staleApplied: { ok: boolean; results: unknown[]; error?: { code: string } };
      probes: { host: string; reach: string; result?: { status: string } }[];
    };
    expect(out.crashed, r.stderr).toBeUndefined();
    expect(out.matrix.hosts.find((h) => h.id === 'hang')?.reach).toBe('timeout');
    expect(out.matrix.differences).toContainEqual({ host: 'host2', cpu: 'riscv64', baseline: 'ready', here: 'missing' });
    // Only what host 1 runs and host 2 does not; nothing host 2 has (aarch64) is touched.
    expect(out.plan.cpus).toContain('riscv64');
    expect(out.plan.cpus).not.toContain('aarch64');
    expect(out.plan.planned.every((p) => p.ok)).toBe(true);
    expect(out.applied.ok).toBe(true);
    expect(out.applied.results).toContainEqual(expect.objectContaining({ name: 'qemu-riscv64', changed: true }));
    expect(out.reused.code).toBe('plan-expired'); // a plan is applied once
    // A plan shown before the host changed is refused as a whole, nothing written.
    expect(out.staleApplied).toMatchObject({ ok: false, results: [], error: { code: 'plan-changed' } });
    expect(host2.entries()).toContain('qemu-riscv64');
    expect(host2.entries()).toContain('qemu-aarch64');
    const probe = Object.fromEntries(out.probes.map((p) => [p.host, p]));
    expect(probe.host2?.result?.status).toBe('ok');
    expect(probe.host1?.result?.status).toBe('no-handler');
    expect(probe.hang?.reach).toBe('timeout');
  });

  it('--context NAME: status of host 2 through its engine, the same model as here', async () => {
    const r = await archway(['--context', 'host2', 'status', '--json', '--registrar', REGISTRAR]);
    expect(r.code, r.stderr).toBe(0);
    const st = JSON.parse(r.stdout) as { archs: { cpu: string; state: string }[]; hostMachine: string };
    expect(st.hostMachine).toBe('x86_64');
    expect(st.archs.find((a) => a.cpu === 'aarch64')?.state).toBe('ready');
    // Changes through --context: no record there, so removing needs --force; only host 2 changes.
    const before = hostTable();
    const refused = await archway(['--context', 'host2', 'uninstall', 'arm64', '--registrar', REGISTRAR]);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/keeps no record on ssh:\/\/archway-host2/);
    expect(host2.entries()).toContain('qemu-aarch64');
    const removed = await archway(['--context', 'host2', 'uninstall', 'arm64', '--force', '--registrar', REGISTRAR]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(host2.entries()).not.toContain('qemu-aarch64');
    expect(hostTable()).toEqual(before);
    const unknown = await archway(['--context', 'nope', 'status']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/docker context "nope" does not exist/);
  });
});
