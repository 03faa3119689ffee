/**
 * The window's main side in a process of its own, for the Chromium harness (harness.ts
 * startRouterProcess): the REAL router (electron/main/router.ts createRouter) with a real Engine,
 * DockerGateway and, as asked, the real ContextFleetGateway and RootlessGateway, exactly as
 * electron/main/index.ts builds it. Run as its own process so that it can run where the app's main
 * process would: in a mount namespace whose /root holds the ssh config (the Machines view's ssh://
 * context), or as another user (the rootless scope switch: the window runs as the desktop user).
 *
 * argv[2]: RouterProcessConfig as JSON. stdin: one JSON line per call {id, name, payload} (already
 * validated by the harness's dispatcher). stdout: {id, ok, value} | {id, ok: false, error} for each
 * call, {event, payload} for each event main sends the window.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Engine } from '../../electron/engine';
import { archwayPaths } from '../../electron/engine/paths';
import { serialiseError } from '../../electron/main/errors';
import { DockerGateway } from '../../electron/main/docker';
import { ContextFleetGateway } from '../../electron/main/fleet';
import { createRouter, type Emit } from '../../electron/main/router';
import { RootlessGateway } from '../../electron/rootless/gateway';
import type { Prefs } from '../../shared/ipc/contract';

export interface RouterProcessConfig {
  /** Archway's state under this root (archwayPaths); absent: the real locations, as the app. */
  stateRoot?: string;
  prefs: Prefs;
  /** The Machines view's gateway (every docker context of DOCKER_CONFIG). */
  fleet?: { registrar?: string; boundMs?: number };
  /** The rootless scope switch's gateway (the user's own engines). */
  rootless?: boolean;
}

const config = JSON.parse(process.argv[2]!) as RouterProcessConfig;
const write = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);
const prefs: Prefs = { ...config.prefs };
const emit: Emit = (name, payload) => write({ event: name, payload });
const router = createRouter({
  engine: new Engine(config.stateRoot ? { paths: archwayPaths(config.stateRoot) } : {}),
  docker: new DockerGateway(),
  ...(config.fleet ? { fleet: new ContextFleetGateway({ ...config.fleet }) } : {}),
  ...(config.rootless ? { rootless: new RootlessGateway() } : {}),
  prefs: { get: () => ({ ...prefs }), set: (p) => Object.assign(prefs, p) },
  emit,
  app: { version: 'test', shell: 'harness' },
});

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const { id, name, payload } = JSON.parse(line) as { id: number; name: string; payload: unknown };
  const handler = (router.handlers as unknown as Record<string, (req: unknown) => Promise<unknown>>)[name];
  Promise.resolve()
    .then(() => handler!(payload))
    .then(
      (value) => write({ id, ok: true, value }),
      (err) => write({ id, ok: false, error: serialiseError(err) }),
    );
});
lines.on('close', () => {
  void router.shutdown().finally(() => process.exit(0));
});
// Who this process is: its uid, and whether it runs under no_new_privs (no setuid program could make it root).
write({ ready: { uid: process.getuid?.(), noNewPrivs: /^NoNewPrivs:\s*1$/m.test(readFileSync('/proc/self/status', 'utf8')) } });
