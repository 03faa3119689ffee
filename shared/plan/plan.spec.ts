/**
 * The planner's safety decisions on in-memory facts (no root, no kernel): native-hijack over both
 * ELF types, never-touch, the one ownership order, and drift.
 */
import { describe, expect, it } from 'vitest';
import { buildRegister, type Rule } from '../binfmt/register';
import type { ElfInfo } from '../elf';
import { emptyRecord } from '../record';
import { recordDrift } from './drift';
import { attributeOwner } from './owner';
import { catalogRule, hijacksHost, isNeverTouch } from './rules';

const HOST_ELF: ElfInfo = { class: 64, endian: 'little', type: 3, machine: 62, dynamic: true };
/** The first bytes of an x86-64 PIE (DYN), as /proc/self/exe shows them. */
const HOST_HEADER = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1, 0, 0, 0]);
const x86Rule = (type: 'exec' | 'dyn'): Rule => ({
  name: 'bad',
  type: 'M',
  offset: 0,
  // Magic that selects x86-64 programs of one ELF type only.
  magic: `7f454c46020101${'00'.repeat(9)}${type === 'exec' ? '0200' : '0300'}3e00`,
  mask: 'ffffffffffffffffffffffffffffffffffffffff',
  interpreter: '/usr/bin/qemu-x86_64-static',
  flags: 'F',
});

describe('native-hijack: a rule must not match the host\'s own programs of either type', () => {
  it('catches a rule for EXEC programs even though the running program is DYN, and one for DYN', () => {
    expect(hijacksHost(x86Rule('exec'), { header: HOST_HEADER, elf: HOST_ELF })).toBe(true);
    expect(hijacksHost(x86Rule('dyn'), { header: HOST_HEADER, elf: HOST_ELF })).toBe(true);
  });
  it('lets every foreign catalog rule through', () => {
    for (const cpu of ['aarch64', 's390x', 'riscv64', 'arm', 'ppc64le']) expect(hijacksHost(catalogRule(cpu, '/x', 'F'), { header: HOST_HEADER, elf: HOST_ELF })).toBe(false);
  });
});

describe('never-touch and ownership (one order for status and helper)', () => {
  const rule = catalogRule('aarch64', '/usr/bin/qemu-aarch64-static', 'F');
  const facts = (over: Partial<Parameters<typeof attributeOwner>[2]> = {}) => ({ record: emptyRecord(), binfmtd: [], binfmtSupport: [], ...over });
  it('WSL is never touched and wins over any record', () => {
    expect(isNeverTouch('WSLInterop')).toBe(true);
    const record = emptyRecord();
    record.handlers['WSLInterop'] = { cpu: 'aarch64', register: buildRegister(rule), source: 'distro', installedAt: 'now', installedBy: 0, persist: false };
    expect(attributeOwner('WSLInterop', rule, facts({ record })).owner.kind).toBe('wsl');
  });
  it('Archway\'s record before binfmt-support before systemd-binfmt before a guess', () => {
    const record = emptyRecord();
    record.handlers['qemu-aarch64'] = { cpu: 'aarch64', register: buildRegister(rule), source: 'distro', installedAt: 'now', installedBy: 0, persist: false };
    const all = facts({ record, binfmtSupport: [{ name: 'qemu-aarch64', package: 'qemu-user-binfmt' }], binfmtd: [{ file: '/usr/lib/binfmt.d/qemu-aarch64.conf', rule, archway: false }] });
    expect(attributeOwner('qemu-aarch64', rule, all).owner.kind).toBe('archway');
    expect(attributeOwner('qemu-aarch64', rule, { ...all, record: emptyRecord() }).owner.kind).toBe('binfmt-support');
    expect(attributeOwner('qemu-aarch64', rule, { ...all, record: emptyRecord(), binfmtSupport: [] }).owner).toMatchObject({ kind: 'systemd', detail: expect.stringContaining('/usr/lib/binfmt.d/qemu-aarch64.conf') });
    const theirs = catalogRule('aarch64', '/usr/bin/qemu-aarch64', 'OCF'); // tonistiigi/binfmt's shape
    expect(attributeOwner('qemu-aarch64', theirs, facts()).owner).toMatchObject({ kind: 'docker-binfmt', guess: true });
  });
});

describe('drift (one definition: status shows it, the helper repairs or reports it)', () => {
  it('pending steps, vanished and changed handlers, missing and stray boot-time files', () => {
    const a = catalogRule('aarch64', '/usr/bin/qemu-aarch64-static', 'F');
    const b = catalogRule('s390x', '/usr/bin/qemu-s390x-static', 'F');
    const c = catalogRule('ppc64le', '/usr/bin/qemu-ppc64le-static', 'F');
    const record = emptyRecord();
    record.handlers['qemu-aarch64'] = { cpu: 'aarch64', register: buildRegister(a), source: 'distro', installedAt: 'now', installedBy: 0, persist: true };
    record.handlers['qemu-s390x'] = { cpu: 's390x', register: buildRegister(b), source: 'distro', installedAt: 'now', installedBy: 0, persist: false };
    record.handlers['qemu-ppc64le'] = { cpu: 'ppc64le', register: buildRegister(c), source: 'distro', installedAt: 'now', installedBy: 0, persist: false };
    record.pending = [{ name: 'qemu-riscv64', op: 'install', register: '', startedAt: 'then' }];
    const d = recordDrift({
      record,
      binfmtd: [{ file: '/etc/binfmt.d/qemu-s390x.conf', rule: b, archway: true }, { file: '/etc/binfmt.d/qemu-mips64el.conf', rule: catalogRule('mips64el', '/x', 'F'), archway: true }],
      kernel: new Map([['qemu-aarch64', a], ['qemu-s390x', { ...b, flags: 'OCF' }]]),
      binfmtPath: '/proc/sys/fs/binfmt_misc',
    });
    expect(d.map((x) => [x.name, x.kind])).toEqual([
      ['qemu-riscv64', 'pending'],
      ['qemu-aarch64', 'persist-file'],
      ['qemu-s390x', 'kernel-differs'],
      ['qemu-s390x', 'persist-file'],
      ['qemu-ppc64le', 'not-in-kernel'],
      ['qemu-mips64el', 'persist-file'],
    ]);
    expect(recordDrift({ record, binfmtd: [], kernel: null, binfmtPath: '/b' }).find((x) => x.name === 'qemu-aarch64' && x.kind === 'not-in-kernel')?.message).toMatch(/not mounted at \/b/);
  });
});
