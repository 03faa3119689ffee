/**
 * Proves the real-polkit harness in ./polkit.ts works, on its own: it puts a
 * stand-in program (fixtures/stand-in-helper.mjs, which only reports how it was
 * run) at the helper's exec.path, so a failure here points at the harness, not
 * at the helper. The real helper through pkexec and polkitd is tested in
 * test/trust/pkexec.test.ts, with this same harness.
 *
 * Run (as root):  npx vitest run --project integration test/polkit/polkit-infra.test.ts
 *
 * Everything is real: system bus, polkitd, pkexec, a throw-away user, rules in
 * /etc/polkit-1/rules.d. afterAll removes everything and then checks that the
 * machine is back in the state it was in before the suite.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCleanups } from '../support/node';
import {
  DEFAULT_HELPER_INSTALL_PATH,
  PKEXEC_NO_AGENT_MESSAGE,
  PKEXEC_NO_TTY_MESSAGE,
  PKEXEC_NOT_AUTHORIZED_MESSAGE,
  PKEXEC_REFUSED_EXIT_CODE,
  POLKIT_ACTIONS_DIR,
  POLKIT_RULES_DIR,
  SYSTEM_BUS_SOCKET,
  addRule,
  checkAuthorization,
  createTestUser,
  grantRule,
  installPolicy,
  polkitIsRunning,
  runAsUser,
  startPolkit,
  systemBusIsRunning,
  type InstalledPolicy,
  type PolkitHandle,
  type TestUser,
} from './polkit';

const execFileP = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const POLICY_FILE = path.join(repoRoot, 'build/polkit/dev.archway.helper.policy');
const STAND_IN = path.join(here, 'fixtures/stand-in-helper.mjs');
const ACTION_ID = 'dev.archway.helper.run';
const HELPER = DEFAULT_HELPER_INSTALL_PATH;

interface StandInReport {
  uid: number;
  euid: number;
  gid: number;
  pkexecUid: string | null;
  argv: string[];
  stdin: string;
  cwd: string;
  envKeys: string[];
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

/** What this suite may touch. It must be identical before and after. */
async function machineState(): Promise<Record<string, unknown>> {
  const passwd = await fs.readFile('/etc/passwd', 'utf8');
  const group = await fs.readFile('/etc/group', 'utf8');
  return {
    policy: await exists(path.join(POLKIT_ACTIONS_DIR, path.basename(POLICY_FILE))),
    helper: await exists(HELPER),
    helperDir: await exists(path.dirname(HELPER)),
    rules: (await fs.readdir(POLKIT_RULES_DIR)).sort(),
    // /run/dbus/pid and the socket may be stale leftovers before the suite
    // (startPolkit deletes those); they are checked separately in afterAll.
    runDbus:
      (await fs.readdir('/run/dbus').catch(() => null))
        ?.filter((f) => f !== 'pid' && f !== 'system_bus_socket')
        .sort() ?? null,
    busRunning: await systemBusIsRunning(),
    polkitRunning: await polkitIsRunning(),
    testUsers: passwd.split('\n').filter((l) => l.startsWith('archway-pk-')),
    testGroups: group.split('\n').filter((l) => l.startsWith('archway-pk-')),
  };
}

function pkexecHelper(user: TestUser, input: string, extraArgs: string[] = [], pkexecFlags: string[] = []) {
  return runAsUser(user, ['pkexec', ...pkexecFlags, HELPER, ...extraArgs], { input, timeoutMs: 30_000 });
}

describe('polkit harness (real dbus-daemon + polkitd + pkexec)', () => {
  let before: Record<string, unknown>;
  let polkit: PolkitHandle | undefined;
  let policy: InstalledPolicy | undefined;
  let user: TestUser | undefined;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    before = await machineState();
    polkit = await startPolkit();
    cleanups.push(() => polkit!.stop());
    policy = await installPolicy({ policyFile: POLICY_FILE, helperSource: STAND_IN });
    cleanups.push(() => policy!.uninstall());
    user = await createTestUser();
    cleanups.push(() => user!.remove());
  });

  afterAll(async () => {
    await runCleanups(cleanups, 'polkit harness');
    // Proves cleanup: nothing this suite did is left on the machine.
    expect(await machineState()).toEqual(before);
    if (polkit?.startedBus) {
      // dbus-daemon leaves these behind when killed; stop() must delete them.
      expect(await exists('/run/dbus/pid')).toBe(false);
      expect(await exists(SYSTEM_BUS_SOCKET)).toBe(false);
    }
  });

  it('policy file is valid against polkit’s DTD and polkitd loaded it with the intended defaults', async () => {
    const dtd = '/usr/share/polkit-1/policyconfig-1.dtd';
    try {
      await execFileP('xmllint', ['--noout', '--nonet', '--dtdvalid', dtd, POLICY_FILE]);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') throw new Error('xmllint not found. Install it with: apt-get install -y libxml2-utils');
      throw new Error(`${POLICY_FILE} does not validate against ${dtd}:\n${e.stderr ?? e.message}`);
    }

    const { stdout } = await execFileP('pkaction', ['--verbose', '--action-id', ACTION_ID]);
    expect(stdout).toContain('vendor:            Archway');
    expect(stdout).toContain(
      'message:           Authentication is required for Archway to change which foreign-architecture programs the kernel runs (binfmt_misc): $(command_line)',
    );
    expect(stdout).toMatch(/implicit any:\s+auth_admin\n/);
    expect(stdout).toMatch(/implicit inactive:\s+auth_admin\n/);
    expect(stdout).toMatch(/implicit active:\s+auth_admin\n/);
    expect(stdout).toContain(`org.freedesktop.policykit.exec.path -> ${HELPER}`);

    const st = await fs.stat(HELPER);
    expect({ uid: st.uid, gid: st.gid, mode: (st.mode & 0o7777).toString(8) }).toEqual({ uid: 0, gid: 0, mode: '755' });
    const dir = await fs.stat(path.dirname(HELPER));
    expect({ uid: dir.uid, mode: (dir.mode & 0o7777).toString(8) }).toEqual({ uid: 0, mode: '755' });
  });

  it('(b) without a rule pkexec refuses: exit 127 and the "no tty for the text agent" message; the helper never runs', async () => {
    const u = user!;
    // polkit would ask for admin authentication. The subject has no logind session
    // (inactive), so the <allow_any> default applies: auth_admin, which is not kept.
    expect(await checkAuthorization(u.name, ACTION_ID)).toEqual({ answer: 'challenge', retainsAfterChallenge: false });

    const r = await pkexecHelper(u, 'should never be read\n');
    expect(r).toMatchObject({ code: PKEXEC_REFUSED_EXIT_CODE, stdout: '', stderr: PKEXEC_NO_TTY_MESSAGE, timedOut: false });

    const noAgent = await pkexecHelper(u, 'x', [], ['--disable-internal-agent']);
    expect(noAgent).toMatchObject({ code: PKEXEC_REFUSED_EXIT_CODE, stdout: '', stderr: PKEXEC_NO_AGENT_MESSAGE });
  });

  it('(b) a rule that says NO gives exit 127 "Not authorized"', async () => {
    const u = user!;
    const deny = await addRule({ user: u.name, actionId: ACTION_ID, result: 'NO' });
    try {
      expect((await checkAuthorization(u.name, ACTION_ID)).answer).toBe('not-authorized');
      const r = await pkexecHelper(u, 'x');
      expect(r).toMatchObject({ code: PKEXEC_REFUSED_EXIT_CODE, stdout: '', stderr: PKEXEC_NOT_AUTHORIZED_MESSAGE });
    } finally {
      await deny.revoke();
    }
    expect((await checkAuthorization(u.name, ACTION_ID)).answer).toBe('challenge');
  });

  it('(a) with grantRule, pkexec runs the helper as root without a prompt; PKEXEC_UID is the caller and stdin reaches it', async () => {
    const u = user!;
    const rule = await grantRule(u.name, ACTION_ID);
    try {
      expect(path.dirname(rule.file)).toBe(POLKIT_RULES_DIR);
      expect(await checkAuthorization(u.name, ACTION_ID)).toEqual({ answer: 'authorized', retainsAfterChallenge: false });

      const input = JSON.stringify({ op: 'status', handlers: ['qemu-aarch64'] }) + '\nsecond line ✓\n';
      const r = await pkexecHelper(u, input, ['status', '--json', 'arg with spaces']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as StandInReport;
      expect(report).toMatchObject({
        uid: 0,
        euid: 0,
        gid: 0,
        pkexecUid: String(u.uid),
        argv: ['status', '--json', 'arg with spaces'],
        stdin: input,
      });
      expect(report.envKeys).toContain('PKEXEC_UID');
    } finally {
      await rule.revoke();
    }
  });

  it('(a) the environment the caller passes does not reach the helper', async () => {
    const u = user!;
    const rule = await grantRule(u.name, ACTION_ID);
    try {
      const r = await runAsUser(u, ['pkexec', HELPER], { input: '', env: { USER_SECRET: 'x' } });
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as StandInReport;
      expect(report.envKeys).not.toContain('USER_SECRET');
      // pkexec (polkit 122) rebuilds the environment: with runAsUser's env only these reach the helper.
      expect(report.envKeys).toEqual(['HOME', 'LANG', 'LOGNAME', 'PATH', 'PKEXEC_UID', 'USER']);
    } finally {
      await rule.revoke();
    }
  });

  it('(c) a YES rule means no authentication at all, so nothing is cached: calls succeed until revoke, then fail at once', async () => {
    const u = user!;
    const rule = await grantRule(u.name, ACTION_ID);
    let revoked = false;
    try {
      for (let i = 0; i < 3; i++) {
        const r = await pkexecHelper(u, `call ${i}`);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
        expect((JSON.parse(r.stdout) as StandInReport).stdin).toBe(`call ${i}`);
      }
      await rule.revoke();
      revoked = true;
      // No temporary authorization was created, so the very next call is refused.
      const after = await pkexecHelper(u, 'after revoke');
      expect(after).toMatchObject({ code: PKEXEC_REFUSED_EXIT_CODE, stdout: '', stderr: PKEXEC_NO_TTY_MESSAGE });
    } finally {
      if (!revoked) await rule.revoke();
    }
  });

  it('(c) auth_admin_keep only matters after an interactive authentication: without an agent a KEEP rule is refused like auth_admin', async () => {
    const u = user!;
    const keep = await addRule({ user: u.name, actionId: ACTION_ID, result: 'AUTH_ADMIN_KEEP' });
    try {
      expect(await checkAuthorization(u.name, ACTION_ID)).toEqual({ answer: 'challenge', retainsAfterChallenge: true });
      for (let i = 0; i < 2; i++) {
        const r = await pkexecHelper(u, 'x');
        expect(r).toMatchObject({ code: PKEXEC_REFUSED_EXIT_CODE, stdout: '', stderr: PKEXEC_NO_TTY_MESSAGE });
      }
    } finally {
      await keep.revoke();
    }
    expect(await checkAuthorization(u.name, ACTION_ID)).toEqual({ answer: 'challenge', retainsAfterChallenge: false });
  });
});
