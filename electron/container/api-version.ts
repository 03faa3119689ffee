/**
 * Which Docker Engine API version Archway speaks with a daemon, decided the way the docker CLI
 * decides it: the lower of the daemon's newest version and the newest Archway speaks, unless
 * DOCKER_API_VERSION pins one. Refused only when the daemon cannot speak what Archway needs; the
 * error names both versions and the side to upgrade. Pure (no I/O).
 */
import { clientTooOld, compareApiVersions, ContainerEngineError, engineTooOld, MAX_API_VERSION, MIN_API_VERSION } from './errors';

export { compareApiVersions, MAX_API_VERSION, MIN_API_VERSION };

/** What the docker CLI assumes when a daemon does not say (pre-1.25 daemons). */
const UNSTATED_API_VERSION = '1.24';

const lower = (a: string, b: string) => (compareApiVersions(a, b) <= 0 ? a : b);

export interface DaemonApiVersions {
  /** The daemon's newest API version (`API-Version` header of /_ping, or /version's ApiVersion). */
  apiVersion?: string | undefined;
  /** The oldest it still accepts (/version's MinAPIVersion). */
  minApiVersion?: string | undefined;
}

export interface NegotiatedApi {
  /** The version every call uses: `/v<version>/…`. */
  version: string;
  /** negotiated: the lower of both sides; DOCKER_API_VERSION: pinned by the user. */
  how: 'negotiated' | 'DOCKER_API_VERSION';
}

const VERSION_RE = /^v?(\d+\.\d+)$/;

/** DOCKER_API_VERSION as the docker CLI reads it (an optional leading "v"); throws on anything else. */
export function pinnedApiVersion(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const raw = env.DOCKER_API_VERSION?.trim();
  if (!raw) return undefined;
  const m = VERSION_RE.exec(raw);
  if (!m) {
    throw new ContainerEngineError('bad-endpoint', `DOCKER_API_VERSION=${raw} is not an API version`, `Set it like 1.44, or unset it to let Archway and the engine agree on one.`);
  }
  return m[1]!;
}

/**
 * The version to use with a daemon that reports `d`, or the reason there is none. `env` supplies
 * DOCKER_API_VERSION. Throws ContainerEngineError ('api-too-old', 'client-too-old', 'bad-endpoint').
 */
export function negotiateApiVersion(d: DaemonApiVersions, env: Readonly<Record<string, string | undefined>>, endpoint: string): NegotiatedApi {
  const daemonMax = d.apiVersion && VERSION_RE.test(d.apiVersion) ? d.apiVersion.replace(/^v/, '') : UNSTATED_API_VERSION;
  const daemonMin = d.minApiVersion && VERSION_RE.test(d.minApiVersion) ? d.minApiVersion.replace(/^v/, '') : undefined;
  const pinned = pinnedApiVersion(env);
  if (pinned) {
    // The docker CLI does not negotiate when the version is pinned; Archway checks both ends first
    // so that the message names the variable instead of the daemon's bare refusal.
    if (compareApiVersions(pinned, MIN_API_VERSION) < 0) {
      throw new ContainerEngineError(
        'bad-endpoint',
        `DOCKER_API_VERSION=${pinned} pins Docker API ${pinned}; Archway needs ${MIN_API_VERSION} or newer (to choose a platform per container)`,
        `Unset DOCKER_API_VERSION or set it to ${MIN_API_VERSION} or newer.`,
      );
    }
    if (daemonMin && compareApiVersions(pinned, daemonMin) < 0) throw clientTooOld(endpoint, daemonMin, pinned, true);
    if (compareApiVersions(pinned, daemonMax) > 0) {
      throw new ContainerEngineError(
        'api-too-old',
        `the engine at ${endpoint} speaks Docker API ${daemonMax} at most, but DOCKER_API_VERSION=${pinned} pins a newer one`,
        `Unset DOCKER_API_VERSION, set it to ${daemonMax} or older, or upgrade the engine.`,
      );
    }
    return { version: pinned, how: 'DOCKER_API_VERSION' };
  }
  if (compareApiVersions(daemonMax, MIN_API_VERSION) < 0) throw engineTooOld(endpoint, daemonMax);
  const version = lower(daemonMax, MAX_API_VERSION);
  if (daemonMin && compareApiVersions(version, daemonMin) < 0) throw clientTooOld(endpoint, daemonMin, MAX_API_VERSION, false);
  return { version, how: 'negotiated' };
}
