import { describe, expect, it } from 'vitest';
import { catalogEntry } from '../../shared/arch/catalog';
import { remoteSnapshot, type RemoteRead } from './remote';

/** A 64-byte ELF header: class, byte order, type, machine (as an x86_64 host's own programs or an emulator would have). */
function elfHead(o: { cls: 1 | 2; data: 1 | 2; type: number; machine: number }): Uint8Array {
  const h = new Uint8Array(64);
  h.set([0x7f, 0x45, 0x4c, 0x46, o.cls, o.data, 1]);
  const le = o.data === 1;
  const u16 = (at: number, v: number) => h.set(le ? [v & 0xff, v >> 8] : [v >> 8, v & 0xff], at);
  u16(16, o.type);
  u16(18, o.machine);
  return h;
}

const X86_64 = 62;

function readWith(head: Uint8Array, mode = 0o100755): RemoteRead {
  const path = '/usr/bin/qemu-aarch64-static';
  return {
    endpoint: 'ssh://host2',
    hostMachine: 'x86_64',
    mounted: true,
    globalEnabled: true,
    entries: [],
    files: { [path]: { path, exists: true, symlink: false, regular: true, uid: 0, mode, identity: '1:2:3:4:5', head } },
    hostHeader: elfHead({ cls: 2, data: 1, type: 3, machine: X86_64 }), // the host's own node
  };
}

/** The trust verdict the planner would consult for aarch64's static emulator on that host. */
function verdict(r: RemoteRead) {
  const snap = remoteSnapshot(r, [{ op: 'install', arch: 'aarch64' }]);
  const fact = snap.interpreters['/usr/bin/qemu-aarch64-static'];
  return Object.values(fact?.trust ?? {})[0];
}

describe('remote emulator files are judged by the same rule as local ones (shared/elf.ts)', () => {
  it('a static x86_64 program passes', () => {
    expect(catalogEntry('aarch64')).toBeDefined();
    expect(verdict(readWith(elfHead({ cls: 2, data: 1, type: 2, machine: X86_64 })))).toBeNull();
  });

  it('the right machine number in the wrong byte order, a relocatable object, or no execute bit: refused', () => {
    expect(verdict(readWith(elfHead({ cls: 2, data: 2, type: 2, machine: X86_64 })))?.code).toBe('unsafe-interpreter');
    expect(verdict(readWith(elfHead({ cls: 2, data: 1, type: 1, machine: X86_64 })))?.code).toBe('unsafe-interpreter');
    expect(verdict(readWith(elfHead({ cls: 2, data: 1, type: 2, machine: X86_64 }), 0o100644))?.message).toMatch(/not executable/);
  });

  it('not an ELF program: refused, saying so', () => {
    expect(verdict(readWith(new Uint8Array(64)))?.message).toMatch(/is not an ELF program/);
  });
});
