import { describe, expect, it } from 'vitest';
import { argvMatches, requestArgv } from './request-argv';
import { HelperRequestSchema } from './helper-protocol';

describe('the helper\'s display argv (what the password prompt names)', () => {
  it('names every operation, architecture and the choices that widen what it does', () => {
    const req = HelperRequestSchema.parse({
      version: 1,
      ops: [
        { op: 'install', arch: 's390x', flags: 'FC', persist: true, takeOver: true, interpreter: { source: 'store' } },
        { op: 'uninstall', arch: 'mips64el', force: true },
        { op: 'store-add', arch: 'aarch64', file: '/tmp/x', sha256: 'ab'.repeat(32), provenance: { image: 'x' } },
        { op: 'persist', arch: 'alpha', on: false },
      ],
    });
    expect(requestArgv(req)).toEqual(['install', 's390x', 'source=store', 'flags=FC', '+persist', '+take-over', 'uninstall', 'mips64el', '+force', 'store-add', 'aarch64', 'sha256=abababababababab', 'persist', 'alpha', 'off']);
    expect(requestArgv({ ...req, dryRun: true })[0]).toBe('plan-only');
  });
  it('names the emulator a use switches to (the password prompt says which one)', () => {
    const req = HelperRequestSchema.parse({
      version: 1,
      ops: [
        { op: 'use', arch: 'aarch64', emulator: { source: 'store', sha256: 'cd'.repeat(32) } },
        { op: 'use', arch: 's390x', emulator: { source: 'distro' } },
      ],
    });
    expect(requestArgv(req)).toEqual(['use', 'aarch64', 'emulator=sha256:cdcdcdcdcdcdcdcd', 'use', 's390x', 'emulator=distro']);
  });
  it('every token is plain: no shell or terminal meaning', () => {
    const req = HelperRequestSchema.parse({ version: 1, ops: [{ op: 'install', arch: 'aarch64', flags: '' }, { op: 'mount' }] });
    for (const t of requestArgv(req)) expect(t).toMatch(/^[A-Za-z0-9_:=+-]+$/);
  });
  it('a command line that names another request does not match', () => {
    const req = HelperRequestSchema.parse({ version: 1, ops: [{ op: 'uninstall', arch: 's390x' }] });
    expect(argvMatches(['uninstall', 's390x'], req)).toBe(true);
    expect(argvMatches(['install', 's390x'], req)).toBe(false);
    expect(argvMatches(['uninstall', 's390x', 'install', 'aarch64'], req)).toBe(false);
    expect(argvMatches([], req)).toBe(false);
  });
});
