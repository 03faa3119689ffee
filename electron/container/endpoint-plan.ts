/**
 * Which container engine endpoint to use, decided as the docker CLI decides it, plus the one
 * choice a user can make in Archway (`archway engines use`, the Engine view). Pure: the file
 * system is reached only through the facts passed in.
 *
 * Order: DOCKER_HOST; DOCKER_CONTEXT; the engine chosen in Archway ($XDG_CONFIG_HOME/archway/
 * engine.json); the current context of $DOCKER_CONFIG/config.json; /var/run/docker.sock.
 * Other sockets on the machine (rootless Docker, Podman) are never chosen silently: engines.ts
 * offers them.
 */
import { ContainerEngineError } from './errors';

export interface TlsFiles {
  /** Paths; absent files are left out. */
  ca?: string;
  cert?: string;
  key?: string;
  /** Verify the daemon's certificate against `ca`. */
  verify: boolean;
}

export type EndpointAddress =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number; tls?: TlsFiles }
  | { kind: 'ssh'; host: string; port?: number; user?: string };

export type EndpointSource = 'DOCKER_HOST' | 'context' | 'chosen' | 'default' | 'explicit';

export type Endpoint = EndpointAddress & {
  source: EndpointSource;
  /** The docker context name, when it came from one. */
  context?: string;
};

export interface EndpointFacts {
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  uid: number;
  readText(path: string): string | undefined;
  exists(path: string): boolean;
  sha256Hex(text: string): string;
  /** Names in a directory (contexts/meta); [] when it cannot be read. Optional: only context lists need it. */
  listDir?(path: string): string[];
  /** `archway --context NAME`: wins over DOCKER_HOST and DOCKER_CONTEXT, as `docker --context` does. */
  contextFlag?: string;
}

export interface Considered {
  what: string;
  chosen: boolean;
  why: string;
}

export interface EndpointPlan {
  endpoint: Endpoint;
  /** Every place looked at, for diagnosis ("Archway looked at …"). */
  considered: Considered[];
}

export const DEFAULT_SOCKET = '/var/run/docker.sock';

export function describeEndpoint(e: EndpointAddress): string {
  if (e.kind === 'unix') return `unix://${e.socketPath}`;
  if (e.kind === 'tcp') return `tcp://${e.host}:${e.port}`;
  return `ssh://${e.user ? `${e.user}@` : ''}${e.host}${e.port ? `:${e.port}` : ''}`;
}

function bad(message: string, hint?: string): ContainerEngineError {
  return new ContainerEngineError('bad-endpoint', message, hint);
}

/**
 * Parse a DOCKER_HOST-style address: unix:///path, tcp://host[:port], ssh://[user@]host[:port],
 * http(s)://host[:port]. `tls` applies to tcp.
 */
export function parseDockerHost(value: string, tls?: TlsFiles): EndpointAddress {
  const v = value.trim();
  const m = /^([a-z]+):\/\/(.*)$/i.exec(v);
  if (!m) throw bad(`"${value}" is not an engine address`, 'Write unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST.');
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw bad(`"${value}": a unix socket address needs an absolute path (unix:///var/run/docker.sock)`);
    return { kind: 'unix', socketPath: rest };
  }
  if (scheme === 'npipe') throw bad(`"${value}": named pipes exist only on Windows`);
  if (scheme === 'fd') throw bad(`"${value}": fd:// is for the daemon's own sockets; clients use unix:///var/run/docker.sock`);
  let url: URL;
  try {
    url = new URL(`${scheme === 'ssh' ? 'ssh' : 'http'}://${rest}`);
  } catch {
    throw bad(`"${value}" is not an engine address`);
  }
  if (!url.hostname) throw bad(`"${value}" has no host`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (scheme === 'ssh') {
    return {
      kind: 'ssh',
      host,
      ...(url.port ? { port: Number(url.port) } : {}),
      ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
    };
  }
  if (scheme !== 'tcp' && scheme !== 'http' && scheme !== 'https') {
    throw bad(`"${value}": unknown scheme ${scheme}://`, 'Use unix://, tcp:// or ssh://.');
  }
  const useTls = scheme === 'https' || !!tls;
  const port = url.port ? Number(url.port) : useTls ? 2376 : 2375;
  const t = tls ?? (scheme === 'https' ? { verify: true } : undefined);
  return { kind: 'tcp', host, port, ...(t ? { tls: t } : {}) };
}

function configDir(f: EndpointFacts): string {
  return f.env.DOCKER_CONFIG || `${f.home}/.docker`;
}

function envTls(f: EndpointFacts): TlsFiles | undefined {
  const verify = !!f.env.DOCKER_TLS_VERIFY;
  if (!verify && !f.env.DOCKER_TLS) return undefined;
  const dir = f.env.DOCKER_CERT_PATH || configDir(f);
  return tlsIn(f, dir, verify);
}

function tlsIn(f: EndpointFacts, dir: string, verify: boolean): TlsFiles {
  const pick = (name: string) => (f.exists(`${dir}/${name}`) ? `${dir}/${name}` : undefined);
  const ca = pick('ca.pem');
  const cert = pick('cert.pem');
  const key = pick('key.pem');
  return { verify, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** The context config.json names (`currentContext`), if any other than "default". */
function configContext(f: EndpointFacts): { name: string; from: string } | undefined {
  const file = `${configDir(f)}/config.json`;
  const text = f.readText(file);
  if (!text) return undefined;
  let cfg: unknown;
  try {
    cfg = JSON.parse(text);
  } catch {
    throw bad(`${file} is not valid JSON`, 'Fix or remove it; the docker CLI will complain about it too.');
  }
  const cur = (cfg as { currentContext?: unknown }).currentContext;
  return typeof cur === 'string' && cur ? { name: cur, from: file } : undefined;
}

/** The current context name: DOCKER_CONTEXT, else config.json's currentContext, else "default". */
export function currentContext(f: EndpointFacts): { name: string; from: string } {
  if (f.env.DOCKER_CONTEXT) return { name: f.env.DOCKER_CONTEXT, from: 'DOCKER_CONTEXT' };
  return configContext(f) ?? { name: 'default', from: 'no context set' };
}

/** Where Archway remembers a user's engine choice: $XDG_CONFIG_HOME/archway/engine.json. */
export function engineChoiceFile(f: Pick<EndpointFacts, 'env' | 'home'>): string {
  return `${f.env.XDG_CONFIG_HOME || `${f.home}/.config`}/archway/engine.json`;
}

/** The engine chosen in Archway (a DOCKER_HOST-style address), if any. Throws on a damaged file. */
export function chosenEngine(f: EndpointFacts): { host: string; file: string } | undefined {
  const file = engineChoiceFile(f);
  const text = f.readText(file);
  if (text === undefined) return undefined;
  let host: unknown;
  try {
    host = (JSON.parse(text) as { host?: unknown }).host;
  } catch {
    throw bad(`${file} is not valid JSON`, 'Choose again with `archway engines use NAME`, or remove the file.');
  }
  if (typeof host !== 'string' || !host) throw bad(`${file} names no engine ("host")`, 'Choose again with `archway engines use NAME`, or remove the file.');
  return { host, file };
}

/** Read a context's endpoint from contexts/meta/<sha256(name)>/meta.json. */
export function contextEndpoint(f: EndpointFacts, name: string): EndpointAddress {
  const hash = f.sha256Hex(name);
  const metaFile = `${configDir(f)}/contexts/meta/${hash}/meta.json`;
  const text = f.readText(metaFile);
  if (text === undefined) {
    throw bad(`docker context "${name}" does not exist (no ${metaFile})`, 'List contexts with `docker context ls`; switch with `docker context use default`.');
  }
  let meta: { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } };
  try {
    meta = JSON.parse(text) as typeof meta;
  } catch {
    throw bad(`${metaFile} is not valid JSON`);
  }
  const ep = meta.Endpoints?.docker;
  if (!ep || typeof ep.Host !== 'string' || !ep.Host) throw bad(`docker context "${name}" has no docker endpoint (${metaFile})`);
  const tlsDir = `${configDir(f)}/contexts/tls/${hash}/docker`;
  const files = tlsIn(f, tlsDir, ep.SkipTLSVerify !== true);
  const hasTls = !!(files.ca || files.cert || files.key);
  return parseDockerHost(ep.Host, hasTls ? files : undefined);
}

/** The endpoint of the "default" context: DOCKER_HOST, else /var/run/docker.sock (as the docker CLI's). */
function defaultContextEndpoint(f: EndpointFacts): Endpoint {
  const host = f.env.DOCKER_HOST;
  if (host) return { ...parseDockerHost(host, envTls(f)), source: 'DOCKER_HOST', context: 'default' };
  return { kind: 'unix', socketPath: DEFAULT_SOCKET, source: 'default', context: 'default' };
}

/** A context's endpoint by name ("default" included). Throws ContainerEngineError('bad-endpoint'). */
export function namedContextEndpoint(f: EndpointFacts, name: string): Endpoint {
  if (name === 'default') return defaultContextEndpoint(f);
  return { ...contextEndpoint(f, name), source: 'context', context: name };
}

export interface ContextListing {
  name: string;
  /** The docker endpoint as written (`ssh://builder-1`), when readable. */
  host?: string;
  /** Why it cannot be used (unreadable meta.json, no docker endpoint). */
  problem?: string;
}

/** Every docker context ("default" first, then by name), as `docker context ls` lists them. */
export function listContexts(f: EndpointFacts): ContextListing[] {
  const dir = `${configDir(f)}/contexts/meta`;
  const out: ContextListing[] = [{ name: 'default', host: f.env.DOCKER_HOST || `unix://${DEFAULT_SOCKET}` }];
  for (const hash of (f.listDir?.(dir) ?? []).sort()) {
    const text = f.readText(`${dir}/${hash}/meta.json`);
    if (text === undefined) continue;
    let meta: { Name?: unknown; Endpoints?: { docker?: { Host?: unknown } } };
    try {
      meta = JSON.parse(text) as typeof meta;
    } catch {
      out.push({ name: hash.slice(0, 12), problem: `${dir}/${hash}/meta.json is not valid JSON` });
      continue;
    }
    if (typeof meta.Name !== 'string' || !meta.Name) continue;
    const host = meta.Endpoints?.docker?.Host;
    out.push(typeof host === 'string' && host ? { name: meta.Name, host } : { name: meta.Name, problem: 'no docker endpoint' });
  }
  return [out[0]!, ...out.slice(1).sort((a, b) => a.name.localeCompare(b.name))];
}

export function planEndpoint(f: EndpointFacts): EndpointPlan {
  const considered: Considered[] = [];
  if (f.contextFlag) {
    const endpoint = namedContextEndpoint(f, f.contextFlag);
    considered.push({ what: `docker context "${f.contextFlag}"`, chosen: true, why: '--context' });
    return { endpoint, considered };
  }
  const host = f.env.DOCKER_HOST;
  if (host) {
    const addr = parseDockerHost(host, envTls(f));
    considered.push({ what: `DOCKER_HOST=${host}`, chosen: true, why: 'DOCKER_HOST is set' });
    return { endpoint: { ...addr, source: 'DOCKER_HOST' }, considered };
  }
  considered.push({ what: 'DOCKER_HOST', chosen: false, why: 'not set' });

  const fromContext = (name: string, from: string): EndpointPlan => {
    const addr = contextEndpoint(f, name);
    considered.push({ what: `docker context "${name}"`, chosen: true, why: `current context (${from})` });
    return { endpoint: { ...addr, source: 'context', context: name }, considered };
  };
  const envContext = f.env.DOCKER_CONTEXT;
  if (envContext && envContext !== 'default') return fromContext(envContext, 'DOCKER_CONTEXT');
  considered.push({ what: 'DOCKER_CONTEXT', chosen: false, why: envContext ? '"default"' : 'not set' });

  if (!envContext) {
    const choice = chosenEngine(f);
    if (choice) {
      considered.push({ what: `the engine chosen in Archway (${choice.host})`, chosen: true, why: `remembered in ${choice.file}` });
      return { endpoint: { ...parseDockerHost(choice.host), source: 'chosen' }, considered };
    }
    considered.push({ what: 'an engine chosen in Archway', chosen: false, why: `no ${engineChoiceFile(f)}` });
    const cfg = configContext(f);
    if (cfg && cfg.name !== 'default') return fromContext(cfg.name, cfg.from);
    considered.push({ what: 'docker context', chosen: false, why: cfg ? `"default" (${cfg.from})` : 'no context set' });
  }

  considered.push({ what: DEFAULT_SOCKET, chosen: true, why: f.exists(DEFAULT_SOCKET) ? 'the system Docker socket' : 'the default (missing: the daemon may not be running)' });
  return { endpoint: { kind: 'unix', socketPath: DEFAULT_SOCKET, source: 'default' }, considered };
}
