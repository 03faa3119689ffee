/**
 * The container engines on this machine, offered rather than chosen silently: the one the docker
 * CLI would use (endpoint-plan.ts) plus the sockets rootful/rootless Docker and Podman listen on,
 * each described by asking it (name, version, rootless). A choice is remembered per user in
 * $XDG_CONFIG_HOME/archway/engine.json and used by every face (CLI, window) through planEndpoint.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerEngineOffer } from '../../shared/probe';
import { connect, hostFacts } from './endpoint';
import { describeEndpoint, engineChoiceFile, parseDockerHost, planEndpoint, type EndpointAddress, type EndpointFacts } from './endpoint-plan';
import { ContainerEngineError } from './errors';

export type { ContainerEngineOffer };

/** Well-known sockets, by the short name `archway engines use NAME` accepts. */
export function knownSockets(f: Pick<EndpointFacts, 'env' | 'uid'>): { name: string; socketPath: string; what: string }[] {
  const runtime = f.env.XDG_RUNTIME_DIR || (f.uid > 0 ? `/run/user/${f.uid}` : undefined);
  const list = [
    { name: 'docker', socketPath: '/var/run/docker.sock', what: 'Docker (system)' },
    ...(runtime ? [{ name: 'docker-rootless', socketPath: `${runtime}/docker.sock`, what: 'Docker (rootless)' }] : []),
    { name: 'podman', socketPath: '/run/podman/podman.sock', what: 'Podman (system)' },
    ...(runtime ? [{ name: 'podman-rootless', socketPath: `${runtime}/podman/podman.sock`, what: 'Podman (rootless)' }] : []),
  ];
  return list;
}

const sameAddress = (a: EndpointAddress, b: EndpointAddress) => describeEndpoint(a) === describeEndpoint(b);

/**
 * Every engine Archway can see, the one in use first. Each candidate that exists is asked what it
 * is (`timeoutMs` per engine, all at once); one that does not answer is listed with its error.
 */
export async function listEngines(opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ContainerEngineOffer[]> {
  const env = opts.env ?? process.env;
  const facts = hostFacts(env);
  let current: { address: EndpointAddress; source: string } | undefined;
  let currentError: ContainerEngineError | undefined;
  try {
    const plan = planEndpoint(facts);
    current = { address: plan.endpoint, source: plan.endpoint.source };
  } catch (err) {
    if (!(err instanceof ContainerEngineError)) throw err;
    currentError = err;
  }
  const candidates: { name: string; address: EndpointAddress; what: string }[] = [];
  if (current) candidates.push({ name: 'current', address: current.address, what: `in use (${current.source})` });
  for (const k of knownSockets(facts)) {
    const address: EndpointAddress = { kind: 'unix', socketPath: k.socketPath };
    if (current && sameAddress(address, current.address)) {
      candidates[0] = { name: k.name, address, what: `${k.what}, in use (${current.source})` };
      continue;
    }
    if (facts.exists(k.socketPath)) candidates.push({ name: k.name, address, what: k.what });
  }
  const timeoutMs = opts.timeoutMs ?? 3_000;
  const offers = await Promise.all(
    candidates.map(async (c, i): Promise<ContainerEngineOffer> => {
      const base = { name: c.name, endpoint: describeEndpoint(c.address), what: c.what, current: i === 0 && !!current };
      try {
        const conn = await connect({ endpoint: { ...c.address, source: 'explicit' }, env, timeoutMs });
        conn.close();
        const info = conn.info;
        return { ...base, engine: info.name, version: info.version, apiVersion: info.apiVersion, rootless: info.rootless };
      } catch (err) {
        const e = err instanceof ContainerEngineError ? err : new ContainerEngineError('unreachable', (err as Error).message);
        return { ...base, error: e.toJSON() };
      }
    }),
  );
  if (currentError) offers.unshift({ name: 'current', endpoint: '', what: 'as the docker CLI would choose', current: true, error: currentError.toJSON() });
  return offers;
}

/** A NAME (docker, podman-rootless…), a socket path, or a unix:// / tcp:// / ssh:// address → an address. */
export function resolveEngineName(nameOrAddress: string, f: Pick<EndpointFacts, 'env' | 'uid'>): string {
  const known = knownSockets(f).find((k) => k.name === nameOrAddress);
  if (known) return `unix://${known.socketPath}`;
  if (nameOrAddress.startsWith('/')) return `unix://${nameOrAddress}`;
  if (/^[a-z]+:\/\//i.test(nameOrAddress)) {
    parseDockerHost(nameOrAddress);
    return nameOrAddress;
  }
  const names = knownSockets(f).map((k) => k.name).join(', ');
  throw new ContainerEngineError('invalid-request', `"${nameOrAddress}" is not an engine Archway knows`, `Give one of ${names}, a socket path, or an address like unix:///run/podman/podman.sock (\`archway engines\` lists them).`);
}

/**
 * Remember `nameOrAddress` as this user's engine, after checking that an engine answers there
 * (nothing is written otherwise). `default` forgets the choice. Returns the file and the address.
 */
export async function chooseEngine(nameOrAddress: string, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ file: string; host?: string; engine?: string }> {
  const env = opts.env ?? process.env;
  const facts = hostFacts(env);
  const file = engineChoiceFile(facts);
  if (nameOrAddress === 'default') {
    fs.rmSync(file, { force: true });
    return { file };
  }
  const host = resolveEngineName(nameOrAddress, facts);
  const conn = await connect({ endpoint: { ...parseDockerHost(host), source: 'explicit' }, env, timeoutMs: opts.timeoutMs ?? 5_000 });
  conn.close();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ host }, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
  return { file, host, engine: `${conn.info.name} ${conn.info.version}` };
}
