// Endpoint resolution on a machine that also has a rootless Podman: a throw-away user (with
// subordinate ids) runs `podman system service` on its own $XDG_RUNTIME_DIR socket. With no
// DOCKER_HOST and no context, Archway must use what the docker CLI uses (/var/run/docker.sock),
// offer the rootless Podman in `archway engines`, and use it only once the user chooses it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerEngineOffer } from '../../shared/probe';
import { REPO_ROOT } from '../fixtures/foreign';
import { runArgv } from '../kernel/namespace';
import { ping } from './dockerd';
import { podmanAvailable } from './podman';

const CLI = path.join(REPO_ROOT, 'dist/cli/archway.mjs');
const haveTools = () => ['useradd', 'userdel', 'runuser', 'newuidmap', 'docker'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);

describe.runIf(process.getuid?.() === 0 && podmanAvailable() && haveTools())('endpoint: as the docker CLI resolves it, with a rootless Podman present', () => {
  const user = `awep${randomBytes(3).toString('hex')}`;
  let uid = -1;
  let home = '';
  let runtime = '';
  let podmanSock = '';
  let service: ChildProcess | undefined;
  /** Run argv as the throw-away user with a clean environment (no DOCKER_HOST, no context). */
  const asUser = (argv: string[], extraEnv: Record<string, string> = {}) =>
    runArgv(
      [
        'runuser', '-u', user, '--', 'env', '-i',
        `HOME=${home}`, `USER=${user}`, `XDG_RUNTIME_DIR=${runtime}`, `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
        ...Object.entries(extraEnv).map(([k, v]) => `${k}=${v}`),
        ...argv,
      ],
      { timeoutMs: 60_000 },
    );
  const archway = (args: string[], env: Record<string, string> = {}) => asUser([process.execPath, CLI, ...args], env);
  const engines = async (env: Record<string, string> = {}) => {
    const r = await archway(['engines', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as ContainerEngineOffer[];
  };

  beforeAll(async () => {
    expect(fs.existsSync(CLI), 'run `npm run build` first').toBe(true);
    const add = spawnSync('useradd', ['--create-home', '--shell', '/bin/sh', user], { encoding: 'utf8' });
    expect(add.status, add.stderr).toBe(0);
    uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
    home = `/home/${user}`;
    // Debian's useradd gives subordinate ids when SUB_UID_* are set; make sure they exist.
    for (const f of ['/etc/subuid', '/etc/subgid']) {
      if (!fs.readFileSync(f, 'utf8').split('\n').some((l) => l.startsWith(`${user}:`))) throw new Error(`useradd gave ${user} no entry in ${f}`);
    }
    runtime = `/run/user/${uid}`;
    fs.mkdirSync(`${runtime}/podman`, { recursive: true, mode: 0o700 });
    spawnSync('chown', ['-R', `${uid}:${uid}`, runtime]);
    fs.chmodSync(runtime, 0o700);
    podmanSock = `${runtime}/podman/podman.sock`;
    service = spawn(
      'runuser',
      ['-u', user, '--', 'env', '-i', `HOME=${home}`, `XDG_RUNTIME_DIR=${runtime}`, `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, 'podman', 'system', 'service', '--time=0', `unix://${podmanSock}`],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 30_000;
    while (!(fs.existsSync(podmanSock) && (await ping(podmanSock, 1000)))) {
      if (Date.now() > deadline || service.exitCode !== null) throw new Error('the rootless podman service did not start');
      // No event tells when the socket starts answering; the deadline bounds this poll.
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    if (service && service.exitCode === null) {
      const gone = new Promise((r) => service!.once('exit', r));
      service.kill('SIGTERM');
      await gone;
    }
    // Rootless Podman may leave a pause process in the user's namespace.
    spawnSync('pkill', ['-KILL', '-u', user]);
    spawnSync('userdel', ['--remove', '--force', user]);
    fs.rmSync(runtime, { recursive: true, force: true });
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
