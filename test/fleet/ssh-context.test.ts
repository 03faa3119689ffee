// A docker context with an ssh:// host alias: Archway runs the system ssh (so ~/.ssh/config's alias,
// key and known_hosts apply) with `docker system dial-stdio` on the remote side, as the docker CLI
// does. Before, the in-process SSH library read no ssh config and failed with "Invalid username".
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../fixtures/foreign';
import { runArgv } from '../kernel/namespace';
import { startIsolatedHost, startSshd, withHome, writeDockerConfig, type Host2, type Sshd } from '../support/fleet-hosts';

const CLI = path.join(REPO_ROOT, 'dist/cli/archway.mjs');
const ALIAS = 'archway-host2';

describe.runIf(process.getuid?.() === 0)('ssh:// docker contexts through the system ssh', () => {
  let host2: Host2;
  let sshd: Sshd;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-sshctx-'));
  let dockerConfig: string;
  const archway = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runArgv(withHome(sshd.home, [process.execPath, CLI, ...args]), {
      env: { PATH: process.env.PATH, HOME: '/root', DOCKER_CONFIG: dockerConfig, XDG_CONFIG_HOME: path.join(tmp, 'xdg'), ...env },
      timeoutMs: 60_000,
    });

  beforeAll(async () => {
    expect(fs.existsSync(CLI), 'run `node scripts/build.mjs cli` first').toBe(true);
    host2 = await startIsolatedHost();
    sshd = await startSshd({ alias: ALIAS, remoteDockerHost: `unix://${host2.socket}` });
    dockerConfig = writeDockerConfig(path.join(tmp, 'docker'), [{ name: 'host2', host: `ssh://${ALIAS}` }]);
  }, 120_000);

  afterAll(async () => {
    await sshd?.stop();
    await host2?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('DOCKER_CONTEXT=NAME with an ssh://alias host reaches the remote engine (was: "Invalid username")', async () => {
    const r = await archway(['engines', '--json'], { DOCKER_CONTEXT: 'host2' });
    expect(r.code, r.stderr).toBe(0);
    const offers = JSON.parse(r.stdout) as { name: string; endpoint: string; error?: { message: string }; version?: string; current: boolean }[];
    const current = offers.find((o) => o.current);
    expect(current, r.stdout).toBeDefined();
    expect(current!.endpoint).toBe(`ssh://${ALIAS}`);
    expect(current!.error?.message).toBeUndefined();
    expect(current!.version).toMatch(/^\d+\.\d+/);
    // The connection went through this test's sshd, as root, with the key from the alias's config.
    expect(sshd.log()).toMatch(/Accepted publickey for root from 127\.0\.0\.1/);
  });
});
