/**
 * The userns target (DESIGN.md principle 3): a rootless engine's own binfmt_misc instance, changed
 * as the user — no helper, no pkexec, no polkit. The same planner, snapshot reader and executor as
 * the host's run in this (unprivileged) process on an ArchwayPaths whose binfmt mount is the
 * engine's, seen from outside through /proc/<pid>/root, and whose record, lock and activity log live
 * in the user's $XDG_STATE_HOME/archway/rootless-<engine>.
 *
 * Decision (measured here, podman 4.3, kernel 6.18): only the mount needs to happen inside the
 * engine's namespaces; `nsenter -U -m -t PID -- mount -t binfmt_misc binfmt_misc
 * /proc/sys/fs/binfmt_misc` (argv only, ≈7 ms) does it. Everything else — reading the table,
 * writing register strings, enabling, disabling, removing — works from outside through
 * /proc/<pid>/root, because the instance's files belong to the namespace's root, who is the user.
 * Running no Node inside the namespace keeps the emulator trust checks honest: inside, root-owned
 * files show as the overflow uid (65534), indistinguishable from another user's; outside, the real
 * owner is seen. (`podman unshare` would work for Podman only, and starts a pause process as a side
 * effect; nsenter works the same for rootlesskit's namespaces.)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ArchwayError } from '../../shared/errors';
import type { HelperRequest } from '../../shared/helper-protocol';
import { Engine, type Plan } from '../engine';
import type { HelperRun } from '../engine/elevate';
import { archwayPaths, xdgDir, type ArchwayPaths } from '../engine/paths';
import { findNamespace, instancePath, instanceState, isNamespace, SCOPE_NAMES, type EngineNamespace, type InstanceState, type RootlessScope } from './detect';

/** Archway's own root store: read-only here (root-owned, so its emulators pass the trust checks). */
const SYSTEM_STORE = '/var/lib/archway/emulators';

/** The user's state directory for an engine's instance: $XDG_STATE_HOME/archway/rootless-<engine>. */
export function scopeStateDir(scope: RootlessScope, env: NodeJS.ProcessEnv = process.env): string {
  return join(xdgDir(env.XDG_STATE_HOME, '.local/state', env), 'archway', `rootless-${scope}`);
}

/**
 * The ArchwayPaths of an engine's instance. `binfmt` is the engine's mount seen through
 * /proc/<pid>/root when its own instance is there; otherwise a path that is never mounted, so the
 * planner sees an empty, unmounted table (what a dry run before the first install should show),
 * never the host's table that the namespace inherited. No systemd-binfmt or binfmt-support files:
 * they belong to the host's table. Boot-time files cannot apply to a namespace that dies with its
 * engine: persist files would go to the user's state directory (and `--persist` is refused).
 */
export function rootlessPaths(scope: RootlessScope, pid: number, own: boolean, env: NodeJS.ProcessEnv = process.env): ArchwayPaths {
  const dir = scopeStateDir(scope, env);
  return {
    ...archwayPaths('', own ? instancePath(pid) : join(dir, 'no-instance-yet')),
    binfmtdDirs: [],
    persistDir: join(dir, 'binfmt.d'),
    binfmtSupportDir: join(dir, 'binfmts'),
    stateDir: dir,
    storeDir: SYSTEM_STORE,
    auditLog: join(dir, 'activity.log'),
  };
}

/** Where an absent namespace can be started by Archway itself (Podman starts its pause process on any command). */
async function startNamespace(scope: RootlessScope, env: NodeJS.ProcessEnv): Promise<void> {
  if (scope !== 'podman') return;
  const podman = ['/usr/bin/podman', '/bin/podman', '/usr/local/bin/podman'].find((p) => existsSync(p));
  if (!podman) return;
  const { execFile } = await import('node:child_process');
  await new Promise<void>((resolve) => execFile(podman, ['unshare', 'true'], { env, timeout: 60_000 }, () => resolve()));
}

export interface NamespaceFound {
  ns: EngineNamespace;
  state: InstanceState;
}

/** The engine's namespace, or an ArchwayError saying why there is none and what to do. */
export async function requireNamespace(scope: RootlessScope, opts: { start?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<NamespaceFound> {
  const env = opts.env ?? process.env;
  let found = findNamespace(scope, env);
  if (!isNamespace(found) && opts.start) {
    await startNamespace(scope, env);
    found = findNamespace(scope, env);
  }
  // The reason names the pid files looked at and how to start the engine.
  if (!isNamespace(found)) throw new ArchwayError('not-found', found.why);
  return { ns: found, state: instanceState(found.pid) };
}

/**
 * Mount binfmt_misc inside the engine's user and mount namespaces (its own instance), unless it is
 * there already. The child is `nsenter -U -m -t PID -- mount …`, argv only, run as the user.
 */
export async function ensureInstance(ns: EngineNamespace): Promise<{ mounted: boolean }> {
  if (instanceState(ns.pid) === 'own') return { mounted: false };
  const nsenter = ['/usr/bin/nsenter', '/bin/nsenter'].find((p) => existsSync(p));
  const mount = ['/usr/bin/mount', '/bin/mount'].find((p) => existsSync(p));
  if (!nsenter || !mount) throw new ArchwayError('mount-failed', 'nsenter or mount is missing', 'Install util-linux.');
  const { execFile } = await import('node:child_process');
  const argv = ['-U', '-m', '-t', String(ns.pid), '--', mount, '-t', 'binfmt_misc', 'binfmt_misc', '/proc/sys/fs/binfmt_misc'];
  const err = await new Promise<string | undefined>((resolve) =>
    execFile(nsenter, argv, { timeout: 10_000 }, (e, _o, stderr) => resolve(e ? String(stderr).trim() || e.message : undefined)),
  );
  if (err !== undefined || instanceState(ns.pid) !== 'own') {
    throw new ArchwayError(
      'mount-failed',
      `could not mount binfmt_misc inside ${SCOPE_NAMES[ns.scope]}'s namespace (pid ${ns.pid})${err ? `: ${err}` : ''}`,
      'binfmt_misc per user namespace needs Linux 6.7 or newer; otherwise use the host-wide handlers: archway install ARCH',
    );
  }
  return { mounted: true };
}

/**
 * The engine face for one rootless engine: the same planning and applying as the host's Engine,
 * with the helper's code run in this process as the user (no elevation: the instance is the
 * user's own). Plans are made on the engine's current view (an empty, unmounted table before its
 * first install); applying an install mounts the engine's own instance first and runs the request
 * there — an empty new instance plans the same register strings on the same emulator files, so the
 * request's bound digests still hold (shared/plan/common.ts planDigest).
 */
export class RootlessEngine extends Engine {
  constructor(
    readonly scope: RootlessScope,
    readonly ns: EngineNamespace,
    paths: ArchwayPaths,
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** Told when an apply made the engine's own instance (its containers stop seeing the host's handlers). */
    private readonly onInstanceCreated?: () => void,
  ) {
    super({ paths });
  }

  override elevation(): 'direct' | 'pkexec' {
    return 'direct';
  }

  override async plan(intent: Parameters<Engine['plan']>[0]): Promise<Plan> {
    if (intent.persist || intent.action === 'persist-on' || intent.action === 'persist-off') {
      throw new ArchwayError(
        'bad-request',
        `${SCOPE_NAMES[this.scope]}'s handlers live as long as its namespace; boot-time files do not apply to it`,
        'Keep them with the user unit instead: archway rootless unit --scope ' + this.scope,
      );
    }
    return super.plan(intent);
  }

  override async apply(request: HelperRequest): Promise<HelperRun> {
    let paths = this.paths;
    if (!request.dryRun && request.ops.some((o) => o.op === 'install') && instanceState(this.ns.pid) !== 'own') {
      await ensureInstance(this.ns);
      paths = rootlessPaths(this.scope, this.ns.pid, true, this.env);
      this.onInstanceCreated?.();
    }
    const { serveRequest } = await import('../helper/serve');
    const served = await serveRequest(request, { paths, callerUid: process.getuid?.() ?? 0 });
    return { response: served.response, exitCode: served.exitCode, stderr: '' };
  }

  get environment(): NodeJS.ProcessEnv {
    return this.env;
  }
}

/** A RootlessEngine on the engine's current instance (own, or an empty view when it has none). */
export function engineFor(found: NamespaceFound, env: NodeJS.ProcessEnv = process.env, onInstanceCreated?: () => void): RootlessEngine {
  return new RootlessEngine(found.ns.scope, found.ns, rootlessPaths(found.ns.scope, found.ns.pid, found.state === 'own', env), env, onInstanceCreated);
}
