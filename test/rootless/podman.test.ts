// Rootless emulation with real rootless Podman (issue 10). A throw-away unprivileged user (with
// subordinate ids) has a foreign (s390x) busybox image in its own Podman store. With the host's
// qemu-s390x absent for the test, `podman run --platform linux/s390x` fails with "exec format
// error"; `archway install s390x --scope podman`, run as that user under no_new_privs (so no
// setuid program — pkexec, sudo — could have made anything run as root), makes it print s390x. The
// host's binfmt_misc table and Archway's root state (/var/lib/archway, /var/log/archway) are
// byte-identical before and after. Then `podman system migrate` ends the namespace: status shows the
// handler gone, and `archway rootless reapply` brings it back.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../fixtures/foreign';
import { hostBaseline, hostTable, loadForeignImage, ROOT_STATE, treeDigest } from './support';
import type { BinfmtSnapshot } from '../docker/binfmt-snapshot';
import { createRootlessUser, rootlessToolsAvailable, startUserPodmanService, type RootlessUser } from '../support/rootless-user';

// What users run (package.json bin): the unit written by `rootless unit` names this script.
const CLI = path.join(REPO_ROOT, 'bin/archway.cjs');
const IMAGE = 'localhost/archway-test/rootless:s390x';
const RUN = ['podman', 'run', '--rm', '--network', 'none', '--platform', 'linux/s390x', IMAGE, 'uname', '-m'];

describe.runIf(process.getuid?.() === 0 && rootlessToolsAvailable())('rootless Podman: handlers in its own binfmt_misc instance, as the user, no root', () => {
  let u: RootlessUser;
  let snap: BinfmtSnapshot | undefined;
  let tableBefore: Record<string, string> = {};
  let rootStateBefore: Record<string, string> = {};
  /** archway as the user, under no_new_privs: a setuid program (pkexec, sudo) could not gain root. */
  const archway = (args: string[], env: Record<string, string> = {}) => u.run(['setpriv', '--no-new-privs', process.execPath, CLI, ...args], { env });
  const statusJson = async () => {
    const r = await archway(['status', '--scope', 'podman', '--json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { running: boolean; instance: string; missing: string[]; uses: { cpu: string; uses: string; handler?: string }[]; status?: { handlers: { name: string; enabled: boolean; rule: { flags: string } }[] } };
  };

  beforeAll(async () => {
    expect(fs.existsSync(CLI), 'run `node scripts/build.mjs cli` first').toBe(true);
    u = await createRootlessUser('awrl');
    await loadForeignImage(u, IMAGE.replace(/^localhost\//, ''), ['podman', 'load']);
    ({ snap, table: tableBefore, rootState: rootStateBefore } = await hostBaseline());
  }, 180_000);

  afterAll(async () => {
    await u?.remove();
    await snap?.restore();
  }, 60_000);

  it('before: the s390x container fails with "exec format error" (no handler anywhere it can see)', async () => {
    const r = await u.run(RUN);
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/exec format error/i);
    const st = await statusJson();
    expect(st.running).toBe(true); // podman load started the pause process
    expect(st.instance).not.toBe('own');
    // Detection: the kernel is probed (a throw-away user namespace mounts binfmt_misc), both engines looked for.
    const det = await archway(['rootless', '--json']);
    expect(det.code, det.stderr).toBe(0);
    const d = JSON.parse(det.stdout) as { kernel: { supported: boolean; how: string }; engines: { scope: string; running: boolean; pid?: number; why?: string }[] };
    expect(d.kernel).toMatchObject({ supported: true, how: 'probe' });
    expect(d.engines.find((e) => e.scope === 'podman')).toMatchObject({ running: true, pid: Number(fs.readFileSync(`${u.runtime}/libpod/tmp/pause.pid`, 'utf8').trim()) });
    expect(d.engines.find((e) => e.scope === 'docker')?.why).toMatch(/no rootless Docker namespace is running/);
    // A scope whose engine is not running: a clear error, nothing changed anywhere.
    const none = await archway(['install', 's390x', '--scope', 'docker']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no rootless Docker namespace is running[^\n]*docker.pid: absent/);
    expect(none.stderr).toMatch(/systemctl --user start docker/);
    expect(hostTable()).toEqual(tableBefore);
  });

  it('a probe through the user\'s rootless Podman reports no-handler with the no-password fix, not the host-wide one', async () => {
    const svc = await startUserPodmanService(u);
    try {
      const r = await archway(['probe', '--platform', 'linux/s390x', '--image', IMAGE, '--pull', 'never', '--json'], { DOCKER_HOST: `unix://${svc.socket}`, LANG: 'C.UTF-8' });
      expect(r.code, r.stderr).toBe(1);
      const [res] = (JSON.parse(r.stdout) as { results: { status: string; fix?: string; intent?: unknown }[] }).results;
      expect(res).toMatchObject({ status: 'no-handler', intent: { action: 'install', archs: ['s390x'], scope: 'podman' } });
      expect(res!.fix).toBe('enable s390x for your rootless Podman — no password: archway install s390x --scope podman');
    } finally {
      await svc.stop();
    }
  });

  it('archway install s390x --scope podman, as the user with no_new_privs: the container prints s390x; host table and root state unchanged', async () => {
    const r = await archway(['install', 's390x', '--scope', 'podman']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/register qemu-s390x/);
    expect(r.stderr).not.toMatch(/pkexec|administrator/);
    const run = await u.run(RUN);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('s390x');

    expect(hostTable()).toEqual(tableBefore);
    expect(treeDigest(ROOT_STATE)).toEqual(rootStateBefore);
    // The record and activity are the user's, in the user's state directory.
    const dir = path.join(u.home, '.local/state/archway/rootless-podman');
    for (const f of ['state.json', 'activity.log']) expect(fs.statSync(path.join(dir, f)).uid).toBe(u.uid);
    const log = await archway(['log', '--scope', 'podman', '--json']);
    expect(log.code, log.stderr).toBe(0);
    const activity = JSON.parse(log.stdout) as { uid: number; op: string; arch: string; ok: boolean }[];
    expect(activity.at(-1)).toMatchObject({ uid: u.uid, op: 'install', arch: 's390x', ok: true });

    const st = await statusJson();
    expect(st.instance).toBe('own');
    expect(st.uses.find((x) => x.cpu === 's390x')).toMatchObject({ uses: 'engine', handler: 'qemu-s390x' });
    expect(st.missing).toEqual([]);
  });

  it('the flag rules are the host\'s: no C unless chosen (with its risk named), F always', async () => {
    const st = await statusJson();
    expect(st.status?.handlers.find((h) => h.name === 'qemu-s390x')).toMatchObject({ rule: { flags: expect.not.stringContaining('C') } });
    const c = await archway(['install', 's390x', '--scope', 'podman', '--flags', 'FC', '--dry-run']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/risk: .*setuid/i);
    const noF = await archway(['install', 's390x', '--scope', 'podman', '--flags', 'P', '--dry-run']);
    expect(noF.code).toBe(2);
    expect(noF.stdout + noF.stderr).toMatch(/lack F/);
    const persist = await archway(['install', 's390x', '--scope', 'podman', '--persist']);
    expect(persist.code).toBe(2);
    expect(persist.stderr).toMatch(/rootless unit/);
  });

  it('podman system migrate ends the namespace: status shows the handler gone; rootless reapply restores it', async () => {
    const migrate = await u.run(['podman', 'system', 'migrate']);
    expect(migrate.code, migrate.stderr).toBe(0);
    const gone = await statusJson();
    expect(gone.missing).toEqual(['s390x']);
    expect(gone.instance).not.toBe('own');
    const all = await archway(['status']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/asked for but gone[^\n]*s390x|you asked for s390x/);
    expect(all.stdout).toContain('archway rootless reapply --scope podman');
    const fails = await u.run(RUN);
    expect(`${fails.stdout}${fails.stderr}`).toMatch(/exec format error/i);

    // What the user unit runs (archway rootless unit writes it), run as the user as systemd would.
    const unit = await archway(['rootless', 'unit', '--json']);
    expect(unit.code, unit.stderr).toBe(0);
    const unitFile = (JSON.parse(unit.stdout) as { unit: string }).unit;
    expect(unitFile).toBe(path.join(u.home, '.config/systemd/user/archway-rootless.service'));
    const text = fs.readFileSync(unitFile, 'utf8');
    expect(text).toMatch(/^After=podman.socket podman.service docker.service$/m);
    const exec = /^ExecStart=(.+)$/m.exec(text)![1]!.split(' ');
    expect(exec).toEqual([process.execPath, CLI, 'rootless', 'reapply']);
    const re = await u.run(exec);
    expect(re.code, `${re.stdout}\n${re.stderr}`).toBe(0);
    expect(re.stdout).toMatch(/registered s390x again/);
    const run = await u.run(RUN);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('s390x');
    const back = await statusJson();
    expect(back.missing).toEqual([]);
    expect(back.instance).toBe('own');
    // Nothing left to do: a second reapply changes nothing.
    const again = await archway(['rootless', 'reapply', '--scope', 'podman']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already there/);

    expect(hostTable()).toEqual(tableBefore);
    expect(treeDigest(ROOT_STATE)).toEqual(rootStateBefore);
  });

  it('disable, enable and uninstall work in the engine\'s instance the same way', async () => {
    const off = await archway(['disable', 's390x', '--scope', 'podman']);
    expect(off.code, off.stderr).toBe(0);
    expect(`${(await u.run(RUN)).stderr}`).toMatch(/exec format error/i);
    const on = await archway(['enable', 's390x', '--scope', 'podman']);
    expect(on.code, on.stderr).toBe(0);
    expect((await u.run(RUN)).stdout.trim()).toBe('s390x');
    const rm = await archway(['uninstall', 's390x', '--scope', 'podman']);
    expect(rm.code, rm.stderr).toBe(0);
    const st = await statusJson();
    expect(st.status?.handlers.map((h) => h.name) ?? []).not.toContain('qemu-s390x');
    expect(st.missing).toEqual([]);
    // The engine's instance still exists (empty): the host's table stays out of its containers' reach.
    expect(st.instance).toBe('own');
    expect(hostTable()).toEqual(tableBefore);
    expect(treeDigest(ROOT_STATE)).toEqual(rootStateBefore);
  });
});
