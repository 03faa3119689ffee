// Endpoint resolution on a machine that also has a rootless Podman: a throw-away user (with
// subordinate ids) runs `podman system service` on its own $XDG_RUNTIME_DIR socket. With no
// DOCKER_HOST and no context, Archway must use what the docker CLI uses (/var/run/docker.sock),
// offer the rootless Podman in `archway engines`, and use it only once the user chooses it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerEngineOffer } from '../../shared/probe';
import { REPO_ROOT } from '../fixtures/foreign';
import { createRootlessUser, rootlessToolsAvailable, startUserPodmanService, type RootlessUser } from '../support/rootless-user';
import { podmanAvailable } from './podman';

const CLI = path.join(REPO_ROOT, 'dist/cli/archway.mjs');
const haveTools = () => rootlessToolsAvailable() && spawnSync('sh', ['-c', 'command -v docker']).status === 0;

describe.runIf(process.getuid?.() === 0 && podmanAvailable() && haveTools())('endpoint: as the docker CLI resolves it, with a rootless Podman present', () => {
  let u: RootlessUser;
  let uid = -1;
  let home = '';
  let runtime = '';
  let podmanSock = '';
  let service: { stop(): Promise<void> } | undefined;
  /** Run argv as the throw-away user with a clean environment (no DOCKER_HOST, no context). */
  const asUser = (argv: string[], extraEnv: Record<string, string> = {}) => u.run(argv, { env: extraEnv, timeoutMs: 60_000 });
  const archway = (args: string[], env: Record<string, string> = {}) => asUser([process.execPath, CLI, ...args], env);
  const engines = async (env: Record<string, string> = {}) => {
    const r = await archway(['engines', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as ContainerEngineOffer[];
  };

  beforeAll(async () => {
    expect(fs.existsSync(CLI), 'run `npm run build` first').toBe(true);
    u = await createRootlessUser('awep');
    ({ uid, home, runtime } = u);
    const svc = await startUserPodmanService(u);
    service = svc;
    podmanSock = svc.socket;
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await u?.remove();
  }, 60_000);

  it('DOCKER_HOST unset, no context: the same endpoint as the docker CLI, not the rootless Podman socket', async () => {
    const docker = await asUser(['docker', 'context', 'inspect', '--format', '{{.Endpoints.docker.Host}}']);
    expect(docker.code, docker.stderr).toBe(0);
    const dockerHost = docker.stdout.trim();
    expect(dockerHost).toBe('unix:///var/run/docker.sock');
    const list = await engines();
    const current = list.filter((o) => o.current);
    expect(current).toHaveLength(1);
    expect(current[0]!.endpoint).toBe(dockerHost);
    // And what a command really connects to: the probe names the docker CLI's socket (this user
    // may not open it, exactly as `docker version` says).
    const probe = await archway(['probe', '--platform', 'linux/amd64', '--image', 'none:x', '--json']);
    expect(probe.code).toBe(3);
    const refused = JSON.parse(probe.stdout) as { error: { code: string; message: string } };
    expect(refused.error.message).toContain('unix:///var/run/docker.sock');
    expect(refused.error.message).not.toContain(podmanSock);
  });

  it('offers the rootless Podman with what it is', async () => {
    const list = await engines();
    const podman = list.find((o) => o.name === 'podman-rootless');
    expect(podman).toMatchObject({ endpoint: `unix://${podmanSock}`, engine: 'Podman Engine', rootless: true, current: false, what: 'Podman (rootless)' });
    expect(podman!.version).toMatch(/^\d+\.\d+/);
  });

  it('a choice is remembered per user and used; DOCKER_HOST still wins; a socket without an engine changes nothing', async () => {
    const choiceFile = path.join(home, '.config/archway/engine.json');
    const bad = await archway(['engines', 'use', `${runtime}/nothing.sock`]);
    expect(bad.code, bad.stderr).toBe(3);
    expect(bad.stderr).toMatch(/Nothing was changed/);
    expect(fs.existsSync(choiceFile)).toBe(false);
    const unknown = await archway(['engines', 'use', 'dockerr']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"dockerr" is not an engine Archway knows');

    const use = await archway(['engines', 'use', 'podman-rootless']);
    expect(use.code, use.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(choiceFile, 'utf8'))).toEqual({ host: `unix://${podmanSock}` });
    expect(fs.statSync(choiceFile).uid).toBe(uid);
    const now = (await engines()).filter((o) => o.current);
    expect(now).toMatchObject([{ name: 'podman-rootless', endpoint: `unix://${podmanSock}`, engine: 'Podman Engine', what: 'Podman (rootless), in use (chosen)' }]);

    const overridden = (await engines({ DOCKER_HOST: 'unix:///var/run/docker.sock' })).filter((o) => o.current);
    expect(overridden).toMatchObject([{ endpoint: 'unix:///var/run/docker.sock', what: 'Docker (system), in use (DOCKER_HOST)' }]);

    const reset = await archway(['engines', 'use', 'default']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(fs.existsSync(choiceFile)).toBe(false);
    expect((await engines()).find((o) => o.current)?.endpoint).toBe('unix:///var/run/docker.sock');
  });
});
