// `archway --context NAME` and the list of docker contexts, decided as the docker CLI decides them.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { listContexts, namedContextEndpoint, planEndpoint, type EndpointFacts } from './endpoint-plan';

function facts(files: Record<string, string>, env: Record<string, string> = {}, contextFlag?: string): EndpointFacts {
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  return {
    env: { DOCKER_CONFIG: '/cfg', ...env },
    home: '/home/u',
    uid: 1000,
    readText: (p) => files[p],
    exists: (p) => p in files,
    sha256Hex: sha,
    listDir: (p) => [...new Set(Object.keys(files).filter((f) => f.startsWith(`${p}/`)).map((f) => f.slice(p.length + 1).split('/')[0]!))],
    ...(contextFlag ? { contextFlag } : {}),
  };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const meta = (name: string, host: string) => ({ [`/cfg/contexts/meta/${sha(name)}/meta.json`]: JSON.stringify({ Name: name, Endpoints: { docker: { Host: host } } }) });

describe('docker contexts', () => {
  const files = { ...meta('builder-1', 'ssh://builder-1'), ...meta('ci', 'tcp://10.0.0.9:2376'), '/cfg/config.json': JSON.stringify({ currentContext: 'ci' }) };

  it('--context wins over DOCKER_HOST and DOCKER_CONTEXT (as docker --context)', () => {
    const p = planEndpoint(facts(files, { DOCKER_HOST: 'unix:///other.sock', DOCKER_CONTEXT: 'ci' }, 'builder-1'));
    expect(p.endpoint).toMatchObject({ kind: 'ssh', host: 'builder-1', source: 'context', context: 'builder-1' });
    expect(p.considered[0]).toMatchObject({ why: '--context' });
  });

  it('"default" is DOCKER_HOST when set, else the system socket — never config.json\'s current context', () => {
    expect(namedContextEndpoint(facts(files), 'default')).toMatchObject({ kind: 'unix', socketPath: '/var/run/docker.sock', context: 'default' });
    expect(namedContextEndpoint(facts(files, { DOCKER_HOST: 'tcp://h:2375' }), 'default')).toMatchObject({ kind: 'tcp', host: 'h', port: 2375 });
  });

  it('an unknown context is a clear error naming the file it looked for', () => {
    expect(() => planEndpoint(facts(files, {}, 'nope'))).toThrow(/docker context "nope" does not exist/);
  });

  it('lists default first, then every context by name, with unusable ones marked', () => {
    const broken = { [`/cfg/contexts/meta/${sha('x')}/meta.json`]: JSON.stringify({ Name: 'x', Endpoints: {} }) };
    expect(listContexts(facts({ ...files, ...broken }))).toEqual([
      { name: 'default', host: 'unix:///var/run/docker.sock' },
      { name: 'builder-1', host: 'ssh://builder-1' },
      { name: 'ci', host: 'tcp://10.0.0.9:2376' },
      { name: 'x', problem: 'no docker endpoint' },
    ]);
  });
});
