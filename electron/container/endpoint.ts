/**
 * Connect to the container engine: resolve the endpoint (endpoint-plan.ts), check it answers,
 * agree on an API version (api-version.ts), and describe it. Main process and CLI only.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';
import * as os from 'node:os';
import { DOCKER_PLATFORMS } from '../../shared/arch/catalog';
import type { ContainerEngineInfo } from '../../shared/probe';
import { call, callStream, type ContainerTarget, type Modem } from './api';
import { negotiateApiVersion, type NegotiatedApi } from './api-version';
import { describeEndpoint, planEndpoint, type Considered, type Endpoint, type EndpointFacts } from './endpoint-plan';
import { ContainerEngineError, toContainerEngineError } from './errors';
import { HttpModem } from './http-modem';
import { SshAgent } from './ssh-dial';

export interface Connection extends ContainerTarget {
  apiVersion: string;
  endpoint: Endpoint;
  info: ContainerEngineInfo;
  considered: Considered[];
  /** How the API version was chosen. */
  api: NegotiatedApi;
  /** Close idle connections now (a CLI process then ends as soon as its work is done). */
  close(): void;
}

export interface ConnectOptions {
  /** Use this endpoint instead of resolving one. */
  endpoint?: Endpoint;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Per call while connecting (default 10 s). */
  timeoutMs?: number;
}

let contextFlag: string | undefined;

/**
 * `archway --context NAME` for this process: every later endpoint resolution (CLI commands, probes,
 * the engine backend) uses that docker context, as `docker --context NAME` does. Throws
 * ContainerEngineError('bad-endpoint') when the context does not exist.
 */
export function useContext(name: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  if (name) planEndpoint({ ...hostFacts(env), contextFlag: name }); // throws for an unknown context: nothing is set
  contextFlag = name;
}

export function hostFacts(env: NodeJS.ProcessEnv = process.env): EndpointFacts {
  return {
    ...(contextFlag ? { contextFlag } : {}),
    listDir: (p) => {
      try {
        return readdirSync(p);
      } catch {
        return [];
      }
    },
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

export interface Transport {
  modem: Modem;
  /** Destroy the connection pool (sockets kept alive between calls). */
  close(): void;
}

/**
 * The transport for an endpoint: Node's http/https with its own keep-alive pool for unix and tcp
 * (calls reuse one socket; idle sockets do not keep a process alive, and close() ends them at
 * once), the system ssh running `docker system dial-stdio` (ssh-dial.ts) for ssh. Paths carry no version: api.ts adds the
 * negotiated one.
 */
export function transportFor(endpoint: Endpoint, env: NodeJS.ProcessEnv = process.env, connectTimeoutS?: number): Transport {
  if (endpoint.kind === 'unix') {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    return { modem: new HttpModem({ agent, socketPath: endpoint.socketPath }), close: () => agent.destroy() };
  }
  if (endpoint.kind === 'tcp') {
    const tls = endpoint.tls;
    const ca = readOptional(tls?.ca);
    const cert = readOptional(tls?.cert);
    const key = readOptional(tls?.key);
    const agent = tls
      ? new https.Agent({ keepAlive: true, maxSockets: 16, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(!tls.verify ? { rejectUnauthorized: false } : {}) })
      : new http.Agent({ keepAlive: true, maxSockets: 16 });
    return { modem: new HttpModem({ agent, host: endpoint.host, port: endpoint.port, tls: !!tls }), close: () => agent.destroy() };
  }
  // ssh: the system ssh client with `docker system dial-stdio` on the remote (ssh-dial.ts).
  const agent = new SshAgent({ host: endpoint.host, ...(endpoint.port ? { port: endpoint.port } : {}), ...(endpoint.user ? { user: endpoint.user } : {}) }, { env, ...(connectTimeoutS ? { connectTimeoutS } : {}) });
  return { modem: new HttpModem({ agent, host: 'docker', port: 80 }), close: () => agent.destroy() };
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
  RegistryConfig?: { Mirrors?: string[] | null } | null;
}

export function engineName(v: VersionJson): string {
  const comps = v.Components ?? [];
  const podman = comps.find((c) => /podman/i.test(c.Name ?? ''));
  if (podman) return 'Podman Engine';
  return v.Platform?.Name?.trim() || 'Docker Engine';
}

/** The daemon's API version from /_ping's `API-Version` header (what the docker CLI reads), if any. */
async function pingApiVersion(t: ContainerTarget, timeoutMs: number, signal?: AbortSignal): Promise<string | undefined> {
  const res: IncomingMessage = await callStream(t, { method: 'GET', path: '/_ping', doing: 'pinging the engine', timeoutMs, ...(signal ? { signal } : {}) });
  res.resume();
  const h = res.headers['api-version'];
  return typeof h === 'string' && h ? h : undefined;
}

/**
 * `uname -m` of the engine's host. Docker's /info says `x86_64`; Podman's says its Go architecture
 * (`amd64`), which is mapped back to the machine name probes compare with.
 */
export function hostMachineOf(architecture: string | undefined): string {
  if (!architecture) return 'unknown';
  if (DOCKER_PLATFORMS.some((p) => p.unameM.includes(architecture))) return architecture;
  return DOCKER_PLATFORMS.find((p) => p.architecture === architecture)?.unameM[0] ?? architecture;
}

/** Connect, agree on an API version, and describe the engine. Throws ContainerEngineError. */
export async function connect(opts: ConnectOptions = {}): Promise<Connection> {
  const env = opts.env ?? process.env;
  const { endpoint, considered } = opts.endpoint ? { endpoint: opts.endpoint, considered: [] as Considered[] } : planEndpoint(hostFacts(env));
  const where = describeEndpoint(endpoint);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const ctx = { endpoint: where, kind: endpoint.kind };
  let transport: Transport;
  try {
    // ssh's own ConnectTimeout (which also bounds its banner exchange) is a safety net a little past
    // Archway's deadline: a host that does not answer is reported by that deadline as not answering,
    // never as whatever ssh happened to say when it gave up in the same instant.
    transport = transportFor(endpoint, env, Math.ceil(timeoutMs / 1000) + 2);
  } catch (err) {
    throw toContainerEngineError(err, { ...ctx, doing: 'connecting' });
  }
  try {
    const bare: ContainerTarget = { modem: transport.modem, endpointName: where, kind: endpoint.kind };
    const signal = opts.signal;
    const pinged = await pingApiVersion(bare, timeoutMs, signal);
    // Version-less: the daemon answers in its own newest version, which every daemon accepts.
    const version = await call<VersionJson>(bare, { method: 'GET', path: '/version', doing: 'asking the engine its version', timeoutMs, ...(signal ? { signal } : {}) });
    const daemonApi = version.ApiVersion || pinged;
    const api = negotiateApiVersion({ apiVersion: daemonApi, minApiVersion: version.MinAPIVersion }, env, where);
    const target: ContainerTarget = { modem: transport.modem, apiVersion: api.version, ...(api.how === 'DOCKER_API_VERSION' ? { apiPinned: true } : {}), endpointName: where, kind: endpoint.kind };
    const info = await call<InfoJson>(target, { method: 'GET', path: '/info', doing: 'asking the engine about itself', timeoutMs, ...(signal ? { signal } : {}) });
    const name = engineName(version);
    let rootless = (info.SecurityOptions ?? []).some((s) => /name=rootless/.test(s));
    if (name === 'Podman Engine' && !rootless) {
      // Podman 4's compatible /info does not say it is rootless; its own /libpod/info does.
      const lib = await call<{ host?: { security?: { rootless?: boolean } } }>(target, { method: 'GET', path: '/libpod/info', doing: 'asking Podman about itself', timeoutMs, ...(signal ? { signal } : {}) }).catch(() => undefined);
      rootless = lib?.host?.security?.rootless === true;
    }
    const driverStatus = info.DriverStatus ?? [];
    // What the daemon says its mirrors are (bounded, printable: shown to people as it is).
    const mirrors = (Array.isArray(info.RegistryConfig?.Mirrors) ? info.RegistryConfig.Mirrors : [])
      .filter((m): m is string => typeof m === 'string' && /^[\x21-\x7e]{1,256}$/.test(m))
      .slice(0, 16);
    const containerdStore = driverStatus.some(([k, v]) => k === 'driver-type' && /containerd/.test(v));
    const engine: ContainerEngineInfo = {
      endpoint: where,
      source: endpoint.source === 'context' ? `docker context ${endpoint.context ?? ''}`.trim() : endpoint.source,
      name,
      version: version.Version ?? 'unknown',
      apiVersion: daemonApi ?? 'unknown',
      ...(version.MinAPIVersion ? { minApiVersion: version.MinAPIVersion } : {}),
      usingApiVersion: api.version,
      os: version.Os ?? 'linux',
      arch: version.Arch ?? 'unknown',
      hostMachine: hostMachineOf(info.Architecture),
      ...(info.KernelVersion || version.KernelVersion ? { kernel: info.KernelVersion ?? version.KernelVersion } : {}),
      imageStore: containerdStore ? 'containerd' : 'classic',
      rootless,
      ...(mirrors.length ? { registryMirrors: mirrors } : {}),
    };
    return { ...target, apiVersion: api.version, api, endpoint, info: engine, considered, close: transport.close };
  } catch (err) {
    transport.close();
    throw err;
  }
}

/** One line for people: "Docker Engine 20.10.24 (API 1.41) at unix:///var/run/docker.sock — x86_64, classic image store". */
export function describeContainerEngine(info: ContainerEngineInfo): string {
  return `${info.name} ${info.version} (API ${info.apiVersion}${info.usingApiVersion && info.usingApiVersion !== info.apiVersion ? `, Archway uses ${info.usingApiVersion}` : ''}) at ${info.endpoint} [${info.source}] — host ${info.hostMachine} (${info.os}/${info.arch}), ${info.imageStore} image store${info.rootless ? ', rootless' : ''}`;
}
