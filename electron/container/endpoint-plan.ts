/**
 * Which engine endpoint to use, decided like the docker CLI decides, plus the sockets rootless
 * Docker and Podman use. Pure: the file system is reached only through the facts passed in.
 *
 * Order: DOCKER_HOST; the current context (DOCKER_CONTEXT, else config.json `currentContext`);
 * rootless Docker ($XDG_RUNTIME_DIR/docker.sock); Podman (rootless, then system); /var/run/docker.sock.
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

export type EndpointSource = 'DOCKER_HOST' | 'context' | 'rootless' | 'podman' | 'default' | 'explicit';

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

/** The current context name: DOCKER_CONTEXT, else config.json's currentContext, else "default". */
export function currentContext(f: EndpointFacts): { name: string; from: string } {
  if (f.env.DOCKER_CONTEXT) return { name: f.env.DOCKER_CONTEXT, from: 'DOCKER_CONTEXT' };
  const file = `${configDir(f)}/config.json`;
  const text = f.readText(file);
  if (text) {
    let cfg: unknown;
    try {
      cfg = JSON.parse(text);
    } catch {
      throw bad(`${file} is not valid JSON`, 'Fix or remove it; the docker CLI will complain about it too.');
    }
    const cur = (cfg as { currentContext?: unknown }).currentContext;
    if (typeof cur === 'string' && cur) return { name: cur, from: file };
  }
  return { name: 'default', from: 'no context set' };
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

export function planEndpoint(f: EndpointFacts): EndpointPlan {
  const considered: Considered[] = [];
  const host = f.env.DOCKER_HOST;
  if (host) {
    const addr = parseDockerHost(host, envTls(f));
    considered.push({ what: `DOCKER_HOST=${host}`, chosen: true, why: 'DOCKER_HOST is set' });
    return { endpoint: { ...addr, source: 'DOCKER_HOST' }, considered };
  }
  considered.push({ what: 'DOCKER_HOST', chosen: false, why: 'not set' });

  const ctx = currentContext(f);
  if (ctx.name !== 'default') {
    const addr = contextEndpoint(f, ctx.name);
    considered.push({ what: `docker context "${ctx.name}"`, chosen: true, why: `current context (${ctx.from})` });
    return { endpoint: { ...addr, source: 'context', context: ctx.name }, considered };
  }
  considered.push({ what: 'docker context', chosen: false, why: `"default" (${ctx.from})` });

  const runtime = f.env.XDG_RUNTIME_DIR || (f.uid > 0 ? `/run/user/${f.uid}` : undefined);
  const unixAt = (socketPath: string, source: EndpointSource, what: string): EndpointPlan | undefined => {
    if (f.exists(socketPath)) {
      considered.push({ what, chosen: true, why: `${socketPath} exists` });
      return { endpoint: { kind: 'unix', socketPath, source }, considered };
    }
    considered.push({ what, chosen: false, why: `no ${socketPath}` });
    return undefined;
  };
  if (runtime && f.uid !== 0) {
    const r = unixAt(`${runtime}/docker.sock`, 'rootless', 'rootless Docker');
    if (r) return r;
    const p = unixAt(`${runtime}/podman/podman.sock`, 'podman', 'rootless Podman');
    if (p) return p;
  }
  if (!f.exists(DEFAULT_SOCKET)) {
    const p = unixAt('/run/podman/podman.sock', 'podman', 'Podman (system)');
    if (p) return p;
  }
  considered.push({ what: DEFAULT_SOCKET, chosen: true, why: f.exists(DEFAULT_SOCKET) ? 'the system Docker socket' : 'the default (missing: the daemon may not be running)' });
  return { endpoint: { kind: 'unix', socketPath: DEFAULT_SOCKET, source: 'default' }, considered };
}
