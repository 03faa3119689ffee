import { describe, expect, it } from 'vitest';
import { findNamespace, kernelVersion, pidFiles, rootOutside, runtimeDir, versionSupports } from './detect';
import { unitText } from './keep';
import { rootlessPaths, scopeStateDir } from './target';

describe('rootless detection (pure parts)', () => {
  it('uid_map: the outside id of root inside', () => {
    expect(rootOutside('         0       1001          1\n         1     100000      65536\n')).toBe(1001);
    expect(rootOutside('0 0 4294967295')).toBe(0);
    expect(rootOutside('1 100000 65536')).toBeUndefined();
    expect(rootOutside('')).toBeUndefined();
  });

  it('pid files: Podman\'s pause.pid, rootless Docker\'s docker.pid and rootlesskit\'s child_pid', () => {
    expect(pidFiles('podman', { XDG_RUNTIME_DIR: '/run/user/1000' }, 1000)).toEqual(['/run/user/1000/libpod/tmp/pause.pid', '/tmp/podman-run-1000/libpod/tmp/pause.pid']);
    expect(pidFiles('docker', {}, 1000)).toEqual(['/run/user/1000/docker.pid', '/run/user/1000/dockerd-rootless/child_pid']);
    expect(runtimeDir({ XDG_RUNTIME_DIR: 'relative' }, 7)).toBe('/run/user/7');
  });

  it('kernel versions: 6.7 and newer', () => {
    expect(kernelVersion('6.18.44-fc-v669')).toEqual([6, 18]);
    expect(versionSupports('6.7.0')).toBe(true);
    expect(versionSupports('6.6.30-1-amd64')).toBe(false);
    expect(versionSupports('5.15.0')).toBe(false);
    expect(versionSupports('7.0')).toBe(true);
    expect(versionSupports('garbage')).toBe(false);
  });

  it('a pid file is believed only for a live process of this user in a namespace of its own whose root is this user', () => {
    const env = { XDG_RUNTIME_DIR: '/run/user/4242' };
    const files: Record<string, string> = { '/run/user/4242/libpod/tmp/pause.pid': `${process.pid}\n` };
    const read = (p: string) => {
      if (p in files) return files[p]!;
      if (p === `/proc/${process.pid}/status`) return 'Name:\tnode\nUid:\t4242\t4242\t4242\t4242\n';
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    };
    // This process is in the test's own user namespace: refused, with the reason.
    const r = findNamespace('podman', env, 4242, read);
    expect('why' in r && r.why).toMatch(/not in a user namespace of its own/);
    const other = findNamespace('podman', env, 999, read);
    expect('why' in other && other.why).toMatch(/belongs to uid 4242, not you/);
    const none = findNamespace('docker', env, 4242, read);
    expect('why' in none && none.why).toMatch(/docker.pid: absent.*systemctl --user start docker/);
  });

  it('state per user, under $XDG_STATE_HOME/archway/rootless-<engine>; never /var/lib/archway or the root audit log', () => {
    const env = { XDG_STATE_HOME: '/home/u/.st', HOME: '/home/u' };
    expect(scopeStateDir('podman', env)).toBe('/home/u/.st/archway/rootless-podman');
    expect(scopeStateDir('docker', { HOME: '/home/u' })).toBe('/home/u/.local/state/archway/rootless-docker');
    const own = rootlessPaths('podman', 123, true, env);
    expect(own.binfmt).toBe('/proc/123/root/proc/sys/fs/binfmt_misc');
    expect(own.stateDir).toBe('/home/u/.st/archway/rootless-podman');
    expect(own.auditLog).toBe('/home/u/.st/archway/rootless-podman/activity.log');
    expect(own.binfmtdDirs).toEqual([]);
    for (const p of [own.stateDir, own.auditLog, own.persistDir, own.binfmtSupportDir]) expect(p.startsWith('/home/u/')).toBe(true);
    // Without its own instance the planner sees an unmounted table, never the host's it inherited.
    expect(rootlessPaths('podman', 123, false, env).binfmt.startsWith('/home/u/.st/archway/rootless-podman/')).toBe(true);
  });

  it('the user unit: ordered after the user\'s engines, runs rootless reapply; odd paths are refused', () => {
    const t = unitText(['/usr/bin/node', '/opt/archway/archway.mjs']);
    expect(t).toMatch(/^After=podman.socket podman.service docker.service$/m);
    expect(t).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/archway\/archway.mjs rootless reapply$/m);
    expect(t).toMatch(/^WantedBy=default.target docker.service$/m);
    expect(() => unitText(['/opt/my apps/node'])).toThrow(/cannot name/);
    expect(() => unitText(['/opt/100%/node'])).toThrow(/cannot name/);
  });
});
