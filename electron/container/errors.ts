/**
 * Engine errors in words a person can act on. `toContainerEngineError` turns whatever the socket, the HTTP
 * layer or the daemon threw into one ContainerEngineError with a code and a hint. Pure (no I/O).
 */

export type ContainerEngineErrorCode =
  | 'daemon-not-running'
  | 'permission-denied'
  | 'api-too-old'
  | 'client-too-old'
  | 'unreachable'
  | 'connection-lost'
  | 'timeout'
  | 'cancelled'
  | 'bad-endpoint'
  | 'not-found'
  | 'conflict'
  | 'engine-refused'
  | 'binfmt-not-mounted'
  | 'invalid-request';

export class ContainerEngineError extends Error {
  constructor(
    readonly code: ContainerEngineErrorCode,
    message: string,
    readonly hint?: string,
    readonly statusCode?: number,
    /** The daemon's own words, when it answered with an error. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'ContainerEngineError';
  }

  toJSON() {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

/** The oldest Docker API Archway can work with: `platform` on container create came with 1.41. */
export const MIN_API_VERSION = '1.41';
/** The newest Docker API Archway speaks (Docker Engine 28.x); newer daemons are spoken to in this version. */
export const MAX_API_VERSION = '1.51';

export interface ErrorContext {
  /** `unix:///var/run/docker.sock`, `tcp://host:2376`… */
  endpoint: string;
  kind: 'unix' | 'tcp' | 'ssh';
  /** What Archway was doing: "connecting", "creating the container"… */
  doing?: string;
  /** The API version was pinned by DOCKER_API_VERSION (the message then names it). */
  apiPinned?: boolean;
}

export function dockerGroupHint(socketPath: string): string {
  return (
    `Your user may not open ${socketPath}. Either add yourself to the docker group ` +
    '(`sudo usermod -aG docker $USER`, then log out and back in) — but know that the docker group is root-equivalent: ' +
    'anyone in it can start a privileged container and own this machine — or use rootless Docker or Podman ' +
    '(`archway engines` lists the engines on this machine; `archway engines use NAME` chooses one).'
  );
}

const START_HINT =
  'Start it: `sudo systemctl start docker` (rootless Docker: `systemctl --user start docker`; Podman: `systemctl --user start podman.socket`). ' +
  'To use another engine: `archway engines` lists them, `archway engines use NAME` chooses one (or set DOCKER_HOST, or `docker context use NAME`).';

/** Compare dotted API versions ("1.41" < "1.43"). */
export function compareApiVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The engine cannot speak the oldest API Archway needs: the engine must be upgraded. */
export function engineTooOld(endpoint: string, engineMax: string): ContainerEngineError {
  return new ContainerEngineError(
    'api-too-old',
    `the engine at ${endpoint} speaks Docker API ${engineMax}; Archway needs ${MIN_API_VERSION} or newer (to choose a platform per container)`,
    'Upgrade the engine: Docker 20.10 or newer, or Podman 3 or newer.',
  );
}

/** The engine no longer accepts the API version Archway speaks: Archway (or DOCKER_API_VERSION) must change. */
export function clientTooOld(endpoint: string, engineMin: string, clientVersion: string, pinned: boolean): ContainerEngineError {
  return pinned
    ? new ContainerEngineError(
        'client-too-old',
        `the engine at ${endpoint} accepts Docker API ${engineMin} or newer, but DOCKER_API_VERSION=${clientVersion} pins an older one`,
        `Unset DOCKER_API_VERSION (Archway then agrees on a version with the engine) or set it to ${engineMin} or newer.`,
      )
    : new ContainerEngineError(
        'client-too-old',
        `the engine at ${endpoint} accepts Docker API ${engineMin} or newer; Archway used ${clientVersion}`,
        `Upgrade Archway: this one speaks Docker API ${MAX_API_VERSION} at most.`,
      );
}

interface ErrLike {
  code?: unknown;
  errno?: unknown;
  statusCode?: unknown;
  message?: unknown;
  name?: unknown;
  json?: unknown;
  reason?: unknown;
}

/** The daemon's own message inside an engine HTTP error, without "(HTTP code 404) no such image - " noise. */
export function daemonMessage(err: unknown): string {
  const e = (err ?? {}) as ErrLike;
  const json = e.json as { message?: unknown } | string | undefined | null;
  if (json && typeof json === 'object' && typeof json.message === 'string') return json.message.trim();
  if (typeof json === 'string' && json.trim()) return json.trim();
  const msg = typeof e.message === 'string' ? e.message : String(err);
  return msg.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

/** Anything thrown while talking to the engine -> ContainerEngineError. EngineErrors pass through. */
export function toContainerEngineError(err: unknown, ctx: ErrorContext): ContainerEngineError {
  if (err instanceof ContainerEngineError) return err;
  const e = (err ?? {}) as ErrLike;
  const code = typeof e.code === 'string' ? e.code : '';
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const doing = ctx.doing ? ` while ${ctx.doing}` : '';
  const raw = typeof e.message === 'string' ? e.message : String(err);

  if (status !== undefined) {
    const msg = daemonMessage(err);
    if (status === 400) {
      // The daemon's own refusals of a version (moby: "client version 1.41 is too old. Minimum
      // supported API version is 1.44, please upgrade your client…" / "… is too new. Maximum …").
      const tooNew = /client version ([\d.]+) is too new\. Maximum supported API version is ([\d.]+)/i.exec(msg);
      if (tooNew && compareApiVersions(tooNew[2]!, MIN_API_VERSION) < 0) return engineTooOld(ctx.endpoint, tooNew[2]!);
      if (tooNew) {
        return new ContainerEngineError(
          'api-too-old',
          `the engine at ${ctx.endpoint} speaks Docker API ${tooNew[2]} at most; Archway used ${tooNew[1]}${ctx.apiPinned ? ' (DOCKER_API_VERSION)' : ''}`,
          ctx.apiPinned ? `Unset DOCKER_API_VERSION or set it to ${tooNew[2]}, or upgrade the engine.` : 'Upgrade the engine.',
          status,
          msg,
        );
      }
      const tooOld = /client version ([\d.]+) is too old\. Minimum supported API version is ([\d.]+)/i.exec(msg);
      if (tooOld) return clientTooOld(ctx.endpoint, tooOld[2]!, tooOld[1]!, ctx.apiPinned ?? false);
    }
    if (status === 404) return new ContainerEngineError('not-found', msg, undefined, status, msg);
    if (status === 409) return new ContainerEngineError('conflict', msg, undefined, status, msg);
    return new ContainerEngineError('engine-refused', `the engine refused${doing}: ${msg}`, undefined, status, msg);
  }

  if (code === 'EACCES' || code === 'EPERM') {
    const path = ctx.endpoint.replace(/^unix:\/\//, '');
    return new ContainerEngineError('permission-denied', `permission denied on ${ctx.endpoint}`, ctx.kind === 'unix' ? dockerGroupHint(path) : undefined);
  }
  if (ctx.kind === 'unix' && (code === 'ENOENT' || code === 'ECONNREFUSED')) {
    const why = code === 'ENOENT' ? 'there is no socket at' : 'nothing listens on';
    return new ContainerEngineError('daemon-not-running', `the Docker daemon is not running: ${why} ${ctx.endpoint}`, START_HINT);
  }
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED'].includes(code)) {
    return new ContainerEngineError(
      'unreachable',
      `cannot reach the engine at ${ctx.endpoint} (${code})`,
      ctx.kind === 'ssh'
        ? 'Check that `ssh HOST docker version` works without a password prompt (Archway uses your ssh agent).'
        : 'Check the address and port, that the daemon listens there, and any firewall in between.',
    );
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up|premature close|aborted/i.test(raw) && e.name !== 'AbortError') {
    return new ContainerEngineError(
      'connection-lost',
      `the engine at ${ctx.endpoint} closed the connection${doing} (${code || raw}): the daemon probably stopped or restarted`,
      'Check `systemctl status docker`; Archway removes leftover probe containers when it next connects.',
    );
  }
  if (code === 'ESSHDIAL') {
    return new ContainerEngineError('unreachable', `${ctx.endpoint}: ${raw}`, 'Check that `ssh -o BatchMode=yes HOST docker system dial-stdio` connects without a prompt (key in your agent or ~/.ssh/config, host in known_hosts) and that the remote docker CLI reaches its daemon.');
  }
  if (ctx.kind === 'ssh' && /auth|handshake|ssh/i.test(raw)) {
    return new ContainerEngineError('unreachable', `ssh to ${ctx.endpoint} failed: ${raw}`, 'Check that `ssh HOST docker version` works without a password prompt (Archway uses your ssh agent).');
  }
  return new ContainerEngineError('engine-refused', `engine call failed${doing}: ${raw}`);
}
