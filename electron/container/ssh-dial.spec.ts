import { describe, expect, it } from 'vitest';
import { SshDialError, sshArgv, SshStream } from './ssh-dial';
import { toContainerEngineError } from './errors';

describe('ssh-dial: the system ssh running `docker system dial-stdio`', () => {
  it('builds the docker CLI\'s argv: batch mode, bounded connect, -l/-p only when given, -- before the host', () => {
    expect(sshArgv({ host: 'builder-1' }, { connectTimeoutS: 4 })).toEqual(['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=4', '-T', '--', 'builder-1', 'docker', 'system', 'dial-stdio']);
    expect(sshArgv({ host: '10.0.0.5', user: 'ci', port: 2222 })).toEqual(['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-T', '-l', 'ci', '-p', '2222', '--', '10.0.0.5', 'docker', 'system', 'dial-stdio']);
    expect(sshArgv({ host: 'fe80::1%eth0' }).at(-4)).toBe('fe80::1%eth0');
  });

  it('refuses a host, user or port ssh could read as something else', () => {
    for (const host of ['-oProxyCommand=touch /tmp/x', 'a b', 'host;id', '$(id)', '', 'a\nb']) expect(() => sshArgv({ host }), host).toThrow(/not a host name/);
    for (const user of ['-oProxyCommand=x', 'a b', 'a@b']) expect(() => sshArgv({ host: 'h', user }), user).toThrow(/not a user name/);
    for (const port of [0, 70000, 1.5]) expect(() => sshArgv({ host: 'h', port }), String(port)).toThrow(/not a port/);
  });

  it('reports what the real ssh said when it ends before the engine answers, as an unreachable engine', async () => {
    const s = new SshStream({ host: 'archway-no-such-host.invalid' }, { connectTimeoutS: 2 });
    const err = await new Promise<Error>((resolve) => s.on('error', resolve));
    expect(err).toBeInstanceOf(SshDialError);
    expect(err.message).toMatch(/archway-no-such-host\.invalid/);
    expect(err.message).toMatch(/Could not resolve hostname|Name or service not known|Temporary failure/i);
    const e = toContainerEngineError(err, { endpoint: 'ssh://archway-no-such-host.invalid', kind: 'ssh' });
    expect(e.code).toBe('unreachable');
    expect(e.hint).toMatch(/BatchMode=yes/);
  });

  it('an invalid host never starts ssh: the stream fails with the refusal', async () => {
    const s = new SshStream({ host: '-oProxyCommand=touch /tmp/x/archway-pwned' });
    const err = await new Promise<Error>((resolve) => s.on('error', resolve));
    expect(err.message).toMatch(/not a host name/);
  });
});
