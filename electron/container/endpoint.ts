/**
 * Connect to the container engine: resolve the endpoint (endpoint-plan.ts), check it answers and
 * speaks API ≥ 1.41, and describe it. Main process and CLI only (never the renderer).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import Docker from 'dockerode';
import type { ContainerEngineInfo } from '../../shared/probe';
import { call, type ContainerTarget } from './api';
import { describeEndpoint, planEndpoint, type Considered, type Endpoint, type EndpointFacts } from './endpoint-plan';
import { apiTooOld, compareApiVersions, ContainerEngineError, MIN_API_VERSION, toContainerEngineError } from './errors';

export interface Connection extends ContainerTarget {
  docker: Docker;
  endpoint: Endpoint;
  info: ContainerEngineInfo;
  considered: Considered[];
}

export interface ConnectOptions {
  /** Use this endpoint instead of resolving one. */
  endpoint?: Endpoint;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Per call while connecting (default 10 s). */
  timeoutMs?: number;
}

export function hostFacts(env: NodeJS.ProcessEnv = process.env): EndpointFacts {
  return {
    env,
    home: env.HOME || os.homedir(),
    uid: process.getuid?.() ?? -1,
    readText: (p) => {
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
    exists: (p) => existsSync(p),
    sha256Hex: (s) => createHash('sha256').update(s).digest('hex'),
  };
}

/** Where Archway would connect, and everything it looked at to decide. Throws ContainerEngineError('bad-endpoint'). */
export function resolveEndpoint(env: NodeJS.ProcessEnv = process.env): { endpoint: Endpoint; considered: Considered[] } {
  return planEndpoint(hostFacts(env));
}

function readOptional(path: string | undefined): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ContainerEngineError('bad-endpoint', `cannot read TLS file ${path}: ${(err as Error).message}`);
  }
}

/**
 * A dockerode instance for an endpoint. `version` pins the API path prefix; leave it out for the
 * version-less calls made before the daemon's API version is known.
 */
export function dockerFor(endpoint: Endpoint, env: NodeJS.ProcessEnv = process.env, version?: string): Docker {
  // docker-modem reads DOCKER_HOST itself; every field is given explicitly so it cannot win.
  const common = { host: undefined, port: undefined, socketPath: undefined, protocol: undefined, ...(version ? { version } : {}) };
  if (endpoint.kind === 'unix') return new Docker({ ...common, socketPath: endpoint.socketPath } as Docker.DockerOptions);
  if (endpoint.kind === 'tcp') {
    const tls = endpoint.tls;
    const ca = readOptional(tls?.ca);
    const cert = readOptional(tls?.cert);
    const key = readOptional(tls?.key);
    return new Docker({
      ...common,
      host: endpoint.host,
      port: endpoint.port,
      protocol: tls ? 'https' : 'http',
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(tls && !tls.verify ? { checkServerIdentity: () => undefined } : {}),
    } as Docker.DockerOptions);
  }
  return new Docker({
    ...common,
    protocol: 'ssh',
    host: endpoint.host,
    ...(endpoint.port ? { port: endpoint.port } : {}),
    ...(endpoint.user ? { username: endpoint.user } : {}),
    sshOptions: { agent: env.SSH_AUTH_SOCK },
  } as Docker.DockerOptions);
}

interface VersionJson {
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
  Platform?: { Name?: string };
  Components?: { Name?: string; Version?: string }[];
}

interface InfoJson {
  Architecture?: string;
  DriverStatus?: [string, string][] | null;
  SecurityOptions?: string[] | null;
  KernelVersion?: string;
}

export function engineName(v: VersionJson): string {
  const comps = v.Components ?? [];
  const podman = comps.find((c) => /podman/i.test(c.Name ?? ''));
  if (podman) return 'Podman Engine';
  return v.Platform?.Name?.trim() || 'Docker Engine';
}

/** Connect, check the API version, and describe the engine. Throws ContainerEngineError. */
export async function connect(opts: ConnectOptions = {}): Promise<Connection> {
  const env = opts.env ?? process.env;
  const { endpoint, considered } = opts.endpoint ? { endpoint: opts.endpoint, considered: [] as Considered[] } : planEndpoint(hostFacts(env));
  const where = describeEndpoint(endpoint);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const ctx = { endpoint: where, kind: endpoint.kind };
  let bare: Docker;
  try {
    bare = dockerFor(endpoint, env);
  } catch (err) {
    throw toContainerEngineError(err, { ...ctx, doing: 'connecting' });
  }
  const bareTarget: ContainerTarget = { docker: bare, endpointName: where, kind: endpoint.kind };
  const signal = opts.signal;
  const ping = await call<unknown>(bareTarget, { method: 'GET', path: '/_ping', doing: 'pinging the engine', timeoutMs, ...(signal ? { signal } : {}) });
  void ping;
  const version = await call<VersionJson>(bareTarget, { method: 'GET', path: '/version', doing: 'asking the engine its version', timeoutMs, ...(signal ? { signal } : {}) });
  const api = version.ApiVersion ?? '0';
  if (compareApiVersions(api, MIN_API_VERSION) < 0) throw apiTooOld(api, where);
  const docker = dockerFor(endpoint, env, `v${MIN_API_VERSION}`);
  const target: ContainerTarget = { docker, endpointName: where, kind: endpoint.kind };
  const info = await call<InfoJson>(target, { method: 'GET', path: '/info', doing: 'asking the engine about itself', timeoutMs, ...(signal ? { signal } : {}) });
  const driverStatus = info.DriverStatus ?? [];
  const containerdStore = driverStatus.some(([k, v]) => k === 'driver-type' && /containerd/.test(v));
  const engine: ContainerEngineInfo = {
    endpoint: where,
    source: endpoint.source === 'context' ? `docker context ${endpoint.context ?? ''}`.trim() : endpoint.source,
    name: engineName(version),
    version: version.Version ?? 'unknown',
    apiVersion: api,
    ...(version.MinAPIVersion ? { minApiVersion: version.MinAPIVersion } : {}),
    os: version.Os ?? 'linux',
    arch: version.Arch ?? 'unknown',
    hostMachine: info.Architecture ?? 'unknown',
    ...(info.KernelVersion || version.KernelVersion ? { kernel: info.KernelVersion ?? version.KernelVersion } : {}),
    imageStore: containerdStore ? 'containerd' : 'classic',
    rootless: (info.SecurityOptions ?? []).some((s) => /name=rootless/.test(s)),
  };
  return { docker, endpoint, info: engine, considered, endpointName: where, kind: endpoint.kind };
}

/** One line for people: "Docker Engine 20.10.24 (API 1.41) at unix:///var/run/docker.sock — x86_64, classic image store". */
export function describeContainerEngine(info: ContainerEngineInfo): string {
  return `${info.name} ${info.version} (API ${info.apiVersion}) at ${info.endpoint} [${info.source}] — host ${info.hostMachine} (${info.os}/${info.arch}), ${info.imageStore} image store${info.rootless ? ', rootless' : ''}`;
}
