import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contextEndpoint, describeEndpoint, parseDockerHost, planEndpoint, type EndpointFacts } from './endpoint-plan';

function facts(over: Partial<EndpointFacts> & { files?: Record<string, string> } = {}): EndpointFacts {
  const files = over.files ?? {};
  return {
    env: {},
    home: '/home/ada',
    uid: 1000,
    readText: (p) => files[p],
    exists: (p) => p in files,
    sha256Hex: (s) => createHash('sha256').update(s).digest('hex'),
    ...over,
  };
}
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('parseDockerHost', () => {
  it('parses unix, tcp, ssh and http(s)', () => {
    expect(parseDockerHost('unix:///run/user/1000/docker.sock')).toEqual({ kind: 'unix', socketPath: '/run/user/1000/docker.sock' });
    expect(parseDockerHost('tcp://10.0.0.5')).toEqual({ kind: 'tcp', host: '10.0.0.5', port: 2375 });
    expect(parseDockerHost('tcp://box:2376', { verify: true })).toEqual({ kind: 'tcp', host: 'box', port: 2376, tls: { verify: true } });
    expect(parseDockerHost('tcp://box', { verify: true })).toMatchObject({ port: 2376 });
    expect(parseDockerHost('ssh://ada@build.example:2222')).toEqual({ kind: 'ssh', host: 'build.example', port: 2222, user: 'ada' });
    expect(parseDockerHost('https://[::1]:2376')).toMatchObject({ kind: 'tcp', host: '::1', port: 2376, tls: { verify: true } });
  });

  it('refuses what a client cannot use, saying why', () => {
    expect(() => parseDockerHost('localhost:2375')).toThrow(/not an engine address/);
    expect(() => parseDockerHost('unix://relative.sock')).toThrow(/absolute path/);
    expect(() => parseDockerHost('npipe:////./pipe/docker_engine')).toThrow(/Windows/);
    expect(() => parseDockerHost('fd://')).toThrow(/daemon/);
    expect(() => parseDockerHost('ftp://x')).toThrow(/unknown scheme/);
  });

  it('describes endpoints', () => {
    expect(describeEndpoint({ kind: 'ssh', host: 'h', user: 'u' })).toBe('ssh://u@h');
    expect(describeEndpoint({ kind: 'tcp', host: 'h', port: 1 })).toBe('tcp://h:1');
  });
});

describe('planEndpoint', () => {
  it('DOCKER_HOST wins, with TLS from DOCKER_CERT_PATH', () => {
    const f = facts({
      env: { DOCKER_HOST: 'tcp://box:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' },
      files: { '/certs/ca.pem': '', '/certs/cert.pem': '', '/certs/key.pem': '', '/run/user/1000/docker.sock': '' },
    });
    const p = planEndpoint(f);
    expect(p.endpoint).toEqual({ kind: 'tcp', host: 'box', port: 2376, tls: { verify: true, ca: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem' }, source: 'DOCKER_HOST' });
  });

  it('then the current context from config.json and its meta.json', () => {
    const meta = `/home/ada/.docker/contexts/meta/${sha('remote')}/meta.json`;
    const f = facts({
      files: {
        '/home/ada/.docker/config.json': JSON.stringify({ currentContext: 'remote' }),
        [meta]: JSON.stringify({ Name: 'remote', Endpoints: { docker: { Host: 'ssh://ada@build', SkipTLSVerify: false } } }),
        '/var/run/docker.sock': '',
      },
    });
    expect(planEndpoint(f).endpoint).toEqual({ kind: 'ssh', host: 'build', user: 'ada', source: 'context', context: 'remote' });
  });

  it('DOCKER_CONTEXT overrides config.json; context TLS files are used', () => {
    const h = sha('tls');
    const f = facts({
      env: { DOCKER_CONTEXT: 'tls', DOCKER_CONFIG: '/cfg' },
      files: {
        '/cfg/config.json': JSON.stringify({ currentContext: 'other' }),
        [`/cfg/contexts/meta/${h}/meta.json`]: JSON.stringify({ Endpoints: { docker: { Host: 'tcp://secure:2376', SkipTLSVerify: true } } }),
        [`/cfg/contexts/tls/${h}/docker/ca.pem`]: '',
      },
    });
    expect(planEndpoint(f).endpoint).toMatchObject({ kind: 'tcp', host: 'secure', tls: { verify: false, ca: `/cfg/contexts/tls/${h}/docker/ca.pem` }, context: 'tls' });
  });

  it('a missing context is an error that says how to fix it', () => {
    const f = facts({ files: { '/home/ada/.docker/config.json': JSON.stringify({ currentContext: 'gone' }) } });
    expect(() => planEndpoint(f)).toThrow(/context "gone" does not exist/);
    expect(() => contextEndpoint(facts(), 'x')).toThrow(/docker context ls|does not exist/);
    expect(() => planEndpoint(facts({ files: { '/home/ada/.docker/config.json': '{' } }))).toThrow(/not valid JSON/);
  });

  it('never prefers a rootless Docker or Podman socket: with nothing set it is /var/run/docker.sock, as for the docker CLI', () => {
    const everything = { '/run/user/1000/docker.sock': '', '/run/user/1000/podman/podman.sock': '', '/run/podman/podman.sock': '' };
    expect(planEndpoint(facts({ env: { XDG_RUNTIME_DIR: '/run/user/1000' }, files: { ...everything, '/var/run/docker.sock': '' } })).endpoint).toEqual({
      kind: 'unix',
      socketPath: '/var/run/docker.sock',
      source: 'default',
    });
    // Even when /var/run/docker.sock is missing (the docker CLI would fail there too).
    expect(planEndpoint(facts({ env: { XDG_RUNTIME_DIR: '/run/user/1000' }, files: everything })).endpoint).toMatchObject({ socketPath: '/var/run/docker.sock', source: 'default' });
    const d = planEndpoint(facts({ files: { '/home/ada/.docker/config.json': JSON.stringify({ currentContext: 'default' }) } }));
    expect(d.endpoint).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock', source: 'default' });
    expect(d.considered.map((c) => c.what)).toEqual(['DOCKER_HOST', 'DOCKER_CONTEXT', 'an engine chosen in Archway', 'docker context', '/var/run/docker.sock']);
  });

  it('an engine chosen in Archway comes after DOCKER_HOST and DOCKER_CONTEXT, before config.json\'s context', () => {
    const choice = { '/home/ada/.config/archway/engine.json': JSON.stringify({ host: 'unix:///run/user/1000/podman/podman.sock' }) };
    const meta = `/home/ada/.docker/contexts/meta/${sha('remote')}/meta.json`;
    const ctx = { '/home/ada/.docker/config.json': JSON.stringify({ currentContext: 'remote' }), [meta]: JSON.stringify({ Endpoints: { docker: { Host: 'tcp://ctx:2375' } } }) };
    expect(planEndpoint(facts({ files: { ...choice, ...ctx } })).endpoint).toEqual({ kind: 'unix', socketPath: '/run/user/1000/podman/podman.sock', source: 'chosen' });
    expect(planEndpoint(facts({ env: { XDG_CONFIG_HOME: '/cfg' }, files: { '/cfg/archway/engine.json': JSON.stringify({ host: 'unix:///x.sock' }) } })).endpoint).toMatchObject({ socketPath: '/x.sock', source: 'chosen' });
    expect(planEndpoint(facts({ env: { DOCKER_HOST: 'unix:///d.sock' }, files: choice })).endpoint).toMatchObject({ socketPath: '/d.sock', source: 'DOCKER_HOST' });
    expect(planEndpoint(facts({ env: { DOCKER_CONTEXT: 'remote' }, files: { ...choice, ...ctx } })).endpoint).toMatchObject({ host: 'ctx', source: 'context' });
    expect(planEndpoint(facts({ env: { DOCKER_CONTEXT: 'default' }, files: { ...choice, ...ctx } })).endpoint).toMatchObject({ socketPath: '/var/run/docker.sock', source: 'default' });
    expect(() => planEndpoint(facts({ files: { '/home/ada/.config/archway/engine.json': '{' } }))).toThrow(/engine\.json is not valid JSON/);
  });

  it('root does not look for rootless sockets', () => {
    const p = planEndpoint(facts({ uid: 0, env: { XDG_RUNTIME_DIR: '/run/user/0' }, files: { '/run/user/0/docker.sock': '', '/var/run/docker.sock': '' } }));
    expect(p.endpoint.source).toBe('default');
  });
});
