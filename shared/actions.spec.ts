import { describe, expect, it } from 'vitest';
import { intentToRequest } from './actions';
import { buildStatus, catalogRule, type RawStatus } from './status';
import { emptyRecord } from './record';
import { hexToBytes } from './arch/catalog';

const HEADER = hexToBytes('7f454c4602010100000000000000000003003e00');

function status(extra: Partial<RawStatus> = {}) {
  return buildStatus({
    mount: { path: '/b', mounted: true },
    globalEnabled: true,
    entries: [],
    interpreters: {},
    hostMachine: 'x86_64',
    hostHeader: HEADER,
    binfmtd: [],
    binfmtSupport: [],
    record: emptyRecord(),
    available: { aarch64: [{ path: '/usr/bin/qemu-aarch64-static', source: 'distro' }], s390x: [{ path: '/usr/bin/qemu-s390x-static', source: 'distro' }] },
    ...extra,
  });
}

describe('intentToRequest', () => {
  it('resolves aliases to catalog CPUs and carries options', () => {
    const { request } = intentToRequest({ action: 'install', archs: ['linux/arm64', 's390x'], persist: true, flags: 'F', source: { path: '/opt/q' } }, status());
    expect(request?.ops).toEqual([
      { op: 'install', arch: 's390x', interpreter: { source: 'path', path: '/opt/q' }, flags: 'F', persist: true },
      { op: 'install', arch: 'aarch64', interpreter: { source: 'path', path: '/opt/q' }, flags: 'F', persist: true },
    ]);
  });

  it('install all skips CPUs without an emulator and says so; explicit names are never skipped', () => {
    const { request, skipped } = intentToRequest({ action: 'install', archs: ['all'] }, status());
    expect(request?.ops.map((o) => ('arch' in o ? o.arch : ''))).toEqual(['s390x', 'aarch64']);
    expect(skipped.find((s) => s.arch === 'riscv64')?.why).toBe('no emulator available');
    const explicit = intentToRequest({ action: 'install', archs: ['riscv64'] }, status());
    expect(explicit.request?.ops).toHaveLength(1);
  });

  it('uninstall all touches only Archway\'s handlers unless forced', () => {
    const a = catalogRule('aarch64', '/usr/bin/qemu-aarch64-static', 'F');
    const text = `enabled\ninterpreter ${a.interpreter}\nflags: F\noffset 0\nmagic ${a.magic}\nmask ${a.mask}\n`;
    const st = status({ entries: [{ name: 'qemu-aarch64', text, seq: 1 }] });
    const plain = intentToRequest({ action: 'uninstall', archs: ['all'] }, st);
    expect(plain.request).toBeNull();
    expect(plain.skipped[0]?.why).toMatch(/belongs to/);
    expect(intentToRequest({ action: 'uninstall', archs: ['all'], force: true }, st).request?.ops).toEqual([{ op: 'uninstall', arch: 'aarch64', force: true }]);
  });

  it('throws a suggestion for unknown names', () => {
    expect(() => intentToRequest({ action: 'install', archs: ['arm46'] }, status())).toThrow(/unknown architecture "arm46"/);
  });
});
