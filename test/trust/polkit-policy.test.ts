/**
 * The polkit policy, under the real pkexec + polkitd: the project's .policy installed, the built
 * helper at its exec.path (scripts/install-helper.mjs), a throw-away user who is polkit's admin
 * identity for the action and has a password, and the app's own elevation code (runHelper from
 * electron/engine/elevate.ts, bundled into test/trust/elevate-driver.ts) with pkttyagent on a pty.
 *
 * - polkitd reads the installed action as auth_admin for active sessions, never auth_admin_keep.
 * - Each request is its own password prompt, and the prompt names the operation
 *   ("archway-helper plan-only install s390x"): pkexec passes the helper's command line to polkitd
 *   as $(command_line) and the policy's message shows it.
 * - The helper refuses a request on stdin that its command line does not name.
 *
 * Only dry runs go through pkexec here (the helper plans and changes nothing), so the host's
 * binfmt_misc table and Archway's system files are never written. (No logind here: the subject is
 * never "active", so polkit applies <allow_any>; see test/polkit/polkit.ts. The allow_active value
 * is checked as polkitd reports it.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../fixtures/foreign';
import { requireBuilt } from '../kernel/namespace';
import { runCleanups } from '../support/node';
import { DEFAULT_HELPER_INSTALL_PATH, POLKIT_RULES_DIR, createTestUser, type PolkitHandle, type TestUser } from '../polkit/polkit';
import type { Outcome } from './elevate-driver';
import { setUpRealPath, withPasswordPrompts } from '../polkit/real-path';
import { HELPER as BUILT_HELPER } from './support';

const ACTION = 'dev.archway.helper.run';
const NODE = fs.realpathSync(process.execPath);

let polkit: PolkitHandle | undefined;
let user: TestUser | undefined;
let driver: string;
let password: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  ({ driver, polkit } = await setUpRealPath('archway-polkit-policy-', DEFAULT_HELPER_INSTALL_PATH, cleanups));
  user = await createTestUser();
  cleanups.push(() => user!.remove());
  password = `pw-${randomBytes(9).toString('base64url')}`;
  const pw = spawnSync('chpasswd', { input: `${user.name}:${password}\n`, encoding: 'utf8' });
  if (pw.status !== 0) throw new Error(`chpasswd: ${pw.stderr}`);
  // The user is polkit's admin identity for this action (as a desktop user in group sudo would be).
  const adminRule = join(POLKIT_RULES_DIR, `09-archway-policy-admin-${user.name}.rules`);
  const logBefore = polkit.polkitdLog ? fs.readFileSync(polkit.polkitdLog, 'utf8').split('Reloading rules').length : 0;
  fs.writeFileSync(`${adminRule}.tmp`, `polkit.addAdminRule(function (action, subject) {\n  if (action.id === ${JSON.stringify(ACTION)} && subject.user === ${JSON.stringify(user.name)}) return [${JSON.stringify(`unix-user:${user.name}`)}];\n  return null;\n});\n`, { mode: 0o644 });
  fs.renameSync(`${adminRule}.tmp`, adminRule);
  cleanups.push(() => fs.rmSync(adminRule, { force: true }));
  // polkitd reloads rules on inotify and logs it: wait for that (bounded), not a fixed time.
  if (polkit.polkitdLog) {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && fs.readFileSync(polkit.polkitdLog, 'utf8').split('Reloading rules').length <= logBefore) await new Promise((r) => setTimeout(r, 50));
  } else {
    await new Promise((r) => setTimeout(r, 2_000));
  }
}, 180_000);

afterAll(async () => {
  await runCleanups(cleanups, 'polkit policy suite');
});

describe('the polkit action, as polkitd sees it', () => {
  it('asks auth_admin of active sessions, with no keep (every request is authenticated on its own)', () => {
    const r = spawnSync('pkaction', ['--action-id', ACTION, '--verbose'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/implicit active:\s+auth_admin\n/);
    expect(r.stdout).not.toMatch(/auth_admin_keep|auth_self/);
    expect(r.stdout).toMatch(/implicit any:\s+auth_admin\n/);
    expect(r.stdout).toMatch(/implicit inactive:\s+auth_admin\n/);
  });
});

describe('pkexec + polkitd + the installed helper, with a password', () => {
  it('two requests from one process are two prompts, and each prompt names its operation', async () => {
    const first = { version: 1, ops: [{ op: 'install', arch: 's390x', flags: 'F' }], dryRun: true };
    const second = { version: 1, ops: [{ op: 'uninstall', arch: 'mips64el' }, { op: 'disable', arch: 'alpha' }], dryRun: true };
    const session = await withPasswordPrompts(user!, [NODE, driver, 'agent', JSON.stringify([first, second]), JSON.stringify([])], password);
    const result = JSON.parse(session.output.slice(session.output.indexOf('RESULT ') + 7).split('\n')[0]!) as { mine: Outcome[] };
    expect(session.prompts, session.output).toBe(2);
    // Both ran (as root, through pkexec): a helper response, not a refusal by polkit.
    for (const o of result.mine) expect(o.response, JSON.stringify(o)).toBeDefined();
    const [p1, p2] = session.output.split('Password:');
    expect(p1).toContain(`${DEFAULT_HELPER_INSTALL_PATH} plan-only install s390x flags=F`);
    expect(p2).toContain(`${DEFAULT_HELPER_INSTALL_PATH} plan-only uninstall mips64el disable alpha`);
    expect(p1).toMatch(/change which foreign-architecture programs the kernel runs/);
  });
});

describe('the helper checks its command line against the request', () => {
  it('refuses stdin that the command line (what the prompt showed) does not name; accepts the matching one', () => {
    const req = { version: 1, ops: [{ op: 'uninstall', arch: 's390x' }], dryRun: true };
    const bad = spawnSync(process.execPath, [BUILT_HELPER, 'plan-only', 'install', 's390x'], { input: JSON.stringify(req), encoding: 'utf8' });
    expect(bad.status, bad.stdout).toBe(2);
    expect(JSON.parse(bad.stdout).error).toMatchObject({ code: 'bad-request', message: expect.stringMatching(/not the one the command line named/) });
    const good = spawnSync(process.execPath, [BUILT_HELPER, 'plan-only', 'uninstall', 's390x'], { input: JSON.stringify(req), encoding: 'utf8' });
    expect(JSON.parse(good.stdout).error?.code).not.toBe('bad-request');
  });
});
