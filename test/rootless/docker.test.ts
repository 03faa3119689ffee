// Rootless emulation with real rootless Docker (issue 10): Debian's dockerd-rootless.sh under
// rootlesskit, as a throw-away unprivileged user, with an s390x busybox image loaded into that
// user's daemon. With the host's qemu-s390x out of the way the container fails with "exec format
// error"; `archway install s390x --scope docker` as the user (no_new_privs: nothing could become
// root) makes it print s390x, with the host's table and Archway's root state unchanged. Restarting
// the daemon (a new rootlesskit namespace) loses the handler; `archway rootless reapply` restores it.
// (Networking: see startUserDockerd — this machine's /dev/net/tun is root-only, so the daemon runs
// with rootlesskit's host network; the user and mount namespaces are rootlesskit's as usual.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BinfmtSnapshot } from '../docker/binfmt-snapshot';
import { REPO_ROOT } from '../fixtures/foreign';
import { createRootlessUser, rootlessDockerAvailable, rootlessToolsAvailable, startUserDockerd, type RootlessUser } from '../support/rootless-user';
import { hostBaseline, hostTable, loadForeignImage, ROOT_STATE, treeDigest } from './support';

const CLI = path.join(REPO_ROOT, 'dist/cli/archway.mjs');
const IMAGE = 'archway-test/rootless-docker:s390x';

describe.runIf(process.getuid?.() === 0 && rootlessToolsAvailable() && rootlessDockerAvailable())('rootless Docker: handlers in rootlesskit\'s namespace, as the user, no root', () => {
  let u: RootlessUser;
  let daemon: { socket: string; stop(): Promise<void> } | undefined;
  let snap: BinfmtSnapshot | undefined;
  let tableBefore: Record<string, string> = {};
  let rootStateBefore: Record<string, string> = {};
  const dockerEnv = () => ({ DOCKER_HOST: `unix://${daemon!.socket}` });
  const run = () => u.run(['docker', 'run', '--rm', '--network', 'none', '--platform', 'linux/s390x', IMAGE, 'uname', '-m'], { env: dockerEnv() });
  const archway = (args: string[]) => u.run(['setpriv', '--no-new-privs', process.execPath, CLI, ...args], { env: dockerEnv() });
  const statusJson = async () => {
    const r = await archway(['status', '--scope', 'docker', '--json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { running: boolean; pid?: number; instance: string; missing: string[]; uses: { cpu: string; uses: string; handler?: string }[] };
  };

  beforeAll(async () => {
    expect(fs.existsSync(CLI), 'run `node scripts/build.mjs cli` first').toBe(true);
    u = await createRootlessUser('awrd');
    daemon = await startUserDockerd(u);
    await loadForeignImage(u, IMAGE, ['docker', 'load'], dockerEnv());
    ({ snap, table: tableBefore, rootState: rootStateBefore } = await hostBaseline());
  }, 240_000);

  afterAll(async () => {
    await daemon?.stop();
    await u?.remove();
    await snap?.restore();
  }, 60_000);

  it('before: exec format error; after archway install s390x --scope docker (as the user): s390x; host untouched', async () => {
    const before = await run();
    expect(before.code).not.toBe(0);
    expect(`${before.stdout}${before.stderr}`).toMatch(/exec format error/i);
    const found = await statusJson();
    expect(found.running).toBe(true);
    expect(found.instance).not.toBe('own');
    // The namespace found is dockerd's, from $XDG_RUNTIME_DIR/docker.pid.
    expect(found.pid).toBe(Number(fs.readFileSync(`${u.runtime}/docker.pid`, 'utf8').trim()));

    const r = await archway(['install', 's390x', '--scope', 'docker']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stderr).toMatch(/rootless Docker's own binfmt_misc instance/);
    const after = await run();
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout.trim()).toBe('s390x');
    expect((await statusJson()).uses.find((x) => x.cpu === 's390x')).toMatchObject({ uses: 'engine', handler: 'qemu-s390x' });
    expect(hostTable()).toEqual(tableBefore);
    expect(treeDigest(ROOT_STATE)).toEqual(rootStateBefore);
  });

  it('a daemon restart ends the instance; rootless reapply (the user unit\'s command) restores it', async () => {
    await daemon!.stop();
    daemon = await startUserDockerd(u);
    const gone = await statusJson();
    expect(gone.missing).toEqual(['s390x']);
    expect(`${(await run()).stderr}`).toMatch(/exec format error/i);
    const re = await archway(['rootless', 'reapply']);
    expect(re.code, `${re.stdout}\n${re.stderr}`).toBe(0);
    expect(re.stdout).toMatch(/rootless Docker: registered s390x again/);
    const back = await run();
    expect(back.stdout.trim()).toBe('s390x');
    expect(hostTable()).toEqual(tableBefore);
    expect(treeDigest(ROOT_STATE)).toEqual(rootStateBefore);
  });
});
