/**
 * Shared steps of the suites that test the real pkexec + polkitd path (test/trust/pkexec.test.ts,
 * test/trust/polkit-policy.test.ts): staging the helper as a source checkout installs it, bundling
 * the elevation driver, and typing a password into polkit's text agent.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../fixtures/foreign';
import { bundleForNode } from '../support/node';
import { installPolicy, startPolkit, type InstalledPolicy, type PolkitHandle, type TestUser } from './polkit';

/** The project's polkit policy, as packages install it. */
export const POLICY = join(REPO_ROOT, 'build/polkit/dev.archway.helper.policy');

/**
 * In `work` (mode 0755): the helper as scripts/install-helper.mjs installs it (absolute node in the
 * shebang), and test/trust/elevate-driver.ts bundled for plain Node (readable by a test user).
 */
export async function stageHelperAndDriver(work: string): Promise<{ staged: string; driver: string }> {
  const staged = join(work, 'archway-helper');
  const inst = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/install-helper.mjs'), '--dest', staged], { encoding: 'utf8' });
  if (inst.status !== 0) throw new Error(`install-helper failed: ${inst.stderr}`);
  const driver = join(work, 'elevate-driver.mjs');
  await bundleForNode(join(REPO_ROOT, 'test/trust/elevate-driver.ts'), driver);
  fs.chmodSync(driver, 0o644);
  return { staged, driver };
}

/**
 * The real path, ready: a work directory (0755), the staged helper installed at `helperInstallPath`
 * with the project's policy, the elevation driver, and polkitd running. Each step pushes its own
 * clean-up onto `cleanups`, in order.
 */
export async function setUpRealPath(
  prefix: string,
  helperInstallPath: string,
  cleanups: (() => Promise<void> | void)[],
): Promise<{ work: string; driver: string; polkit: PolkitHandle; policy: InstalledPolicy }> {
  const work = fs.mkdtempSync(join(tmpdir(), prefix));
  fs.chmodSync(work, 0o755);
  cleanups.push(() => fs.rmSync(work, { recursive: true, force: true }));
  // The helper as a source checkout installs it: scripts/install-helper.mjs (absolute node in the shebang).
  const { staged, driver } = await stageHelperAndDriver(work);
  const polkit = await startPolkit();
  cleanups.push(() => polkit.stop());
  const policy = await installPolicy({ policyFile: POLICY, helperSource: staged, helperInstallPath });
  cleanups.push(() => policy.uninstall());
  return { work, driver, polkit, policy };
}

/**
 * Run argv as `user` under script(1) (a pty, so polkit's text agent can prompt), type `password`
 * at each "Password:" prompt, and return everything printed plus the number of prompts.
 */
export function withPasswordPrompts(user: TestUser, argv: string[], password: string): Promise<{ output: string; prompts: number; code: number | null }> {
  const command = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', ['--reuid', String(user.uid), '--regid', String(user.gid), '--init-groups', '--', '/usr/bin/script', '-qfec', command, '/dev/null'], {
      env: { PATH: '/usr/bin:/bin', HOME: '/', USER: user.name, LOGNAME: user.name, LANG: 'C.UTF-8', SHELL: '/bin/sh', TERM: 'dumb' },
      cwd: '/',
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let prompts = 0;
    let seen = 0;
    // The agent turns echo off with TCSAFLUSH after printing the prompt, which drops anything typed
    // before that: answer a moment later, as a person would, and type again (up to 3 times) if the
    // agent has printed nothing since — the first answer was flushed.
    const answer = (tries: number) => {
      const before = output.length;
      child.stdin.write(`${password}\n`);
      if (tries > 1) {
        setTimeout(() => {
          if (output.length === before && output.trimEnd().endsWith('Password:')) answer(tries - 1);
        }, 2_500).unref();
      }
    };
    const onData = (d: Buffer) => {
      output += d.toString('utf8');
      const count = (output.match(/Password:/g) ?? []).length;
      while (seen < count) {
        seen++;
        prompts++;
        setTimeout(() => answer(3), 300);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      reject(new Error(`timed out; output so far:\n${output}`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.end();
      resolve({ output, prompts, code });
    });
  });
}
