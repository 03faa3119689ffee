import { describe, expect, it } from 'vitest';
import { isInitialUserNs, pathsFromEnv } from './paths';

describe('one instance, one state', () => {
  it('knows the initial user namespace by its identity map only', () => {
    expect(isInitialUserNs('         0          0 4294967295\n')).toBe(true);
    expect(isInitialUserNs('         0          0          1\n')).toBe(false);
    expect(isInitialUserNs('0 1000 1\n1 100000 65536\n')).toBe(false);
  });

  it('a private instance keeps record, journal and audit log under $XDG_STATE_HOME (or ~/.local/state), never /var', () => {
    const priv = () => ({ host: false as const, key: 'userns-42' });
    const p = pathsFromEnv({ XDG_STATE_HOME: '/home/u/.st', HOME: '/home/u' }, true, priv);
    expect(p.stateDir).toBe('/home/u/.st/archway/userns-42');
    expect(p.auditLog).toBe('/home/u/.st/archway/userns-42/audit.log');
    expect(pathsFromEnv({ HOME: '/home/u' }, true, priv).stateDir).toBe('/home/u/.local/state/archway/userns-42');
    expect(pathsFromEnv({ HOME: '/home/u', XDG_STATE_HOME: 'relative' }, true, priv).stateDir).toBe('/home/u/.local/state/archway/userns-42');
    // The host's instance, an explicit ARCHWAY_ROOT, and the helper under pkexec keep the host's layout.
    expect(pathsFromEnv({ HOME: '/home/u' }, true, () => ({ host: true })).stateDir).toBe('/var/lib/archway');
    expect(pathsFromEnv({ ARCHWAY_ROOT: '/tmp/r' }, true, priv).stateDir).toBe('/tmp/r/var/lib/archway');
    expect(pathsFromEnv({ XDG_STATE_HOME: '/x' }, false, priv).auditLog).toBe('/var/log/archway/audit.log');
  });
});
