import { describe, expect, it } from 'vitest';
import { ShellOpenRequestSchema, ShellInputSchema, ShellResizeSchema } from './ipc/contract';
import { chooseShell, worthDiagnosing } from './shell';

describe('chooseShell', () => {
  it('runs a given command as given', () => {
    expect(chooseShell(['uname', '-m'], { cmd: ['bash'] })).toMatchObject({ command: ['uname', '-m'], source: 'given' });
  });
  it("takes the image's own command when it is a shell (ubuntu's bash, alpine's /bin/sh, busybox sh)", () => {
    expect(chooseShell(undefined, { cmd: ['bash'] })).toMatchObject({ command: ['bash'], source: 'image' });
    expect(chooseShell([], { cmd: ['/bin/sh'], entrypoint: null })).toMatchObject({ command: ['/bin/sh'], source: 'image' });
    expect(chooseShell(undefined, { cmd: ['busybox', 'sh'] })).toMatchObject({ command: ['busybox', 'sh'], source: 'image' });
  });
  it('falls back to /bin/sh, saying why, when the image runs an application', () => {
    const c = chooseShell(undefined, { cmd: ['nginx', '-g', 'daemon off;'], entrypoint: ['/docker-entrypoint.sh'] });
    expect(c).toMatchObject({ command: ['/bin/sh'], source: 'fallback' });
    expect(c.why).toContain('/docker-entrypoint.sh nginx -g daemon off;');
    expect(chooseShell(undefined, { cmd: ['busybox', 'httpd'] }).source).toBe('fallback');
    expect(chooseShell(undefined, {}).why).toContain('names no command');
  });
});

describe('worthDiagnosing', () => {
  it('an ordinary non-zero exit is not a diagnosis; no handler, another platform and a fix are', () => {
    expect(worthDiagnosing({ status: 'failed' })).toBe(false);
    expect(worthDiagnosing({ status: 'no-handler' })).toBe(true);
    expect(worthDiagnosing({ status: 'wrong-arch' })).toBe(true);
    expect(worthDiagnosing({ status: 'failed', intent: { action: 'install', archs: ['arm64'] } })).toBe(true);
  });
});

describe('shell requests at the IPC boundary', () => {
  const ok = { image: 'debian:12', platform: 'linux/arm64', cols: 80, rows: 24 };
  it('accepts a plain request and refuses bad sizes, networks, oversize input and unknown fields', () => {
    expect(ShellOpenRequestSchema.safeParse(ok).success).toBe(true);
    expect(ShellOpenRequestSchema.safeParse({ ...ok, network: 'bridge', command: ['sh', '-l'] }).success).toBe(true);
    for (const bad of [
      { ...ok, cols: 0 },
      { ...ok, rows: 1e6 },
      { ...ok, cols: 1.5 },
      { ...ok, network: '--privileged' },
      { ...ok, network: 'a b' },
      { ...ok, image: '-v /:/host' },
      { ...ok, privileged: true },
    ]) {
      expect(ShellOpenRequestSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(ShellInputSchema.safeParse({ shellId: 'abcdefgh-1234', data: 'x'.repeat(65_537) }).success).toBe(false);
    expect(ShellInputSchema.safeParse({ shellId: '../../x', data: 'ls' }).success).toBe(false);
    expect(ShellResizeSchema.safeParse({ shellId: 'abcdefgh-1234', cols: 100, rows: 30 }).success).toBe(true);
  });
});
