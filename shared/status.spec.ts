import { describe, expect, it } from 'vitest';
import { buildStatus, catalogRule, cpusForRule, emulatorSource, ruleMatchesHeader, type RawStatus } from './status';
import { buildRegister } from './binfmt/register';
import { hexToBytes } from './arch/catalog';
import { emptyRecord } from './record';
import type { ElfInfo } from './elf';

// The first bytes of an x86_64 PIE program (what /proc/self/exe starts with on this kind of host).
const X86_64_HEADER = hexToBytes('7f454c4602010100000000000000000003003e00010000000000000000000000');
const HOST_ELF: ElfInfo = { class: 64, endian: 'little', type: 3, machine: 62, dynamic: true };
const STATIC_QEMU = { exists: true, regular: true, uid: 0, mode: 0o100755, elf: { class: 64, endian: 'little', type: 3, machine: 62, dynamic: false } } as const;

function entryText(rule: ReturnType<typeof catalogRule>, enabled = true): string {
  return `${enabled ? 'enabled' : 'disabled'}\ninterpreter ${rule.interpreter}\nflags: ${rule.flags}\noffset 0\nmagic ${rule.magic}\nmask ${rule.mask}\n`;
}

function raw(over: Partial<RawStatus> = {}): RawStatus {
  return {
    mount: { path: '/proc/sys/fs/binfmt_misc', mounted: true },
    globalEnabled: true,
    entries: [],
    interpreters: {},
    hostMachine: 'x86_64',
    hostHeader: X86_64_HEADER,
    binfmtd: [],
    binfmtSupport: [],
    record: emptyRecord(),
    available: {},
    ...over,
  };
}

describe('matching entries to architectures', () => {
  it('finds the CPU of catalog rules, Debian rules and looser masks', () => {
    expect(cpusForRule(catalogRule('aarch64', '/x', 'F'))).toEqual(['aarch64']);
    expect(cpusForRule(catalogRule('mipsn32', '/x', 'F'))).toEqual(['mipsn32']);
    const loose = { ...catalogRule('aarch64', '/x', 'F'), magic: '7f454c46', mask: 'ffffffff' };
    expect(cpusForRule(loose).length).toBeGreaterThan(30);
    expect(cpusForRule({ name: 'jar', type: 'E', extension: 'jar', interpreter: '/x', flags: '' })).toEqual([]);
  });
  it('knows when a rule would hijack native programs', () => {
    expect(ruleMatchesHeader(catalogRule('x86_64', '/x', ''), X86_64_HEADER)).toBe(true);
    expect(ruleMatchesHeader(catalogRule('aarch64', '/x', ''), X86_64_HEADER)).toBe(false);
  });
});

describe('buildStatus', () => {
  it('an empty, mounted table: natives, missing archs with available emulators, tonistiigi keys', () => {
    const s = buildStatus(raw({ available: { aarch64: [{ path: '/usr/bin/qemu-aarch64-static', source: 'distro' }] } }), HOST_ELF);
    expect(s.archs.find((a) => a.cpu === 'x86_64')?.state).toBe('native');
    expect(s.archs.find((a) => a.cpu === 'i386')?.state).toBe('native');
    const a = s.archs.find((x) => x.cpu === 'aarch64')!;
    expect(a.state).toBe('missing');
    expect(a.summary).toContain('exec format error');
    expect(a.available[0]?.path).toBe('/usr/bin/qemu-aarch64-static');
    expect(s.supported).toEqual(['linux/amd64', 'linux/386']);
    expect(s.emulators).toEqual([]);
  });

  it('attributes owners: Archway record, binfmt-support, systemd file, WSL, tonistiigi guess, unknown', () => {
    const reg = (cpu: string, interp: string, flags: string) => catalogRule(cpu, interp, flags);
    const a = reg('aarch64', '/usr/bin/qemu-aarch64-static', 'OCF');
    const s390 = reg('s390x', '/usr/libexec/qemu-binfmt/s390x-binfmt-P', 'POF');
    const ppc = reg('ppc64le', '/usr/libexec/qemu-binfmt/ppc64le-binfmt-P', 'POF');
    const riscv = reg('riscv64', '/usr/bin/qemu-riscv64', 'OCF');
    const mips = reg('mips64', '/opt/q/mips64', '');
    const record = emptyRecord();
    record.handlers['qemu-aarch64'] = { cpu: 'aarch64', register: buildRegister(a), source: 'distro', installedAt: 'now', installedBy: 1000, persist: false };
    const s = buildStatus(
      raw({
        entries: [
          { name: 'qemu-aarch64', text: entryText(a), seq: 10 },
          { name: 'qemu-s390x', text: entryText(s390), seq: 11 },
          { name: 'qemu-ppc64le', text: entryText(ppc), seq: 12 },
          { name: 'qemu-riscv64', text: entryText(riscv), seq: 13 },
          { name: 'qemu-mips64', text: entryText(mips), seq: 14 },
          { name: 'WSLInterop', text: 'enabled\ninterpreter /init\nflags: PF\noffset 0\nmagic 4d5a\n', seq: 15 },
        ],
        binfmtd: [{ file: '/usr/lib/binfmt.d/qemu-ppc64le.conf', rule: ppc, archway: false }],
        binfmtSupport: [{ name: 'qemu-s390x', package: 'qemu-user-static' }],
        record,
      }),
      HOST_ELF,
    );
    const owner = (n: string) => s.handlers.find((h) => h.name === n)!.owner;
    expect(owner('qemu-aarch64').kind).toBe('archway');
    expect(owner('qemu-s390x')).toMatchObject({ kind: 'binfmt-support', detail: expect.stringContaining('qemu-user-static') });
    expect(owner('qemu-ppc64le')).toMatchObject({ kind: 'systemd', detail: expect.stringContaining('/usr/lib/binfmt.d/qemu-ppc64le.conf') });
    expect(s.handlers.find((h) => h.name === 'qemu-ppc64le')!.persistent).toBe(true);
    expect(owner('qemu-riscv64')).toMatchObject({ kind: 'docker-binfmt', guess: true });
    expect(owner('qemu-mips64').kind).toBe('unknown');
    expect(owner('WSLInterop').kind).toBe('wsl');
    expect(s.emulators).toHaveLength(6);
  });

  it('health: missing interpreter (broken) vs pinned-and-deleted (F, still works); dynamic; unsafe owner; no F; C is a risk', () => {
    const gone = catalogRule('aarch64', '/gone/qemu', 'OCF');
    const goneNoF = catalogRule('s390x', '/gone/qemu-s390x', 'OC');
    const dyn = catalogRule('riscv64', '/usr/bin/qemu-riscv64', 'F');
    const s = buildStatus(
      raw({
        entries: [
          { name: 'qemu-aarch64', text: entryText(gone), seq: 1 },
          { name: 'qemu-s390x', text: entryText(goneNoF), seq: 2 },
          { name: 'qemu-riscv64', text: entryText(dyn), seq: 3 },
        ],
        interpreters: {
          '/gone/qemu': { path: '/gone/qemu', exists: false },
          '/gone/qemu-s390x': { path: '/gone/qemu-s390x', exists: false },
          '/usr/bin/qemu-riscv64': { path: '/usr/bin/qemu-riscv64', exists: true, regular: true, uid: 1000, mode: 0o100777, elf: { ...STATIC_QEMU.elf, dynamic: true, interp: '/lib64/ld-linux-x86-64.so.2' } },
        },
      }),
      HOST_ELF,
    );
    const h = (n: string) => s.handlers.find((x) => x.name === n)!;
    expect(h('qemu-aarch64').checks[0]!.message).toMatch(/pinned, file gone — still works/);
    expect(s.archs.find((a) => a.cpu === 'aarch64')!.state).toBe('ready');
    expect(h('qemu-s390x').health).toBe('error');
    expect(s.archs.find((a) => a.cpu === 's390x')!.state).toBe('broken');
    const r = h('qemu-riscv64');
    expect(r.checks.find((c) => c.id === 'interpreter-static')).toMatchObject({ level: 'warning', message: expect.stringContaining('/lib64/ld-linux-x86-64.so.2') });
    expect(r.checks.find((c) => c.id === 'interpreter-owner')?.level).toBe('warning');
    expect(r.checks.find((c) => c.id === 'setuid-risk')).toBeUndefined(); // no C: no risk, and no nudge towards C
    // An enabled handler with C, whoever installed it: the risk in one sentence, Drop C as a typed intent.
    expect(h('qemu-aarch64').checks.find((c) => c.id === 'setuid-risk')).toMatchObject({
      level: 'warning',
      message: expect.stringContaining('QEMU_LOG_FILENAME'),
      intent: { action: 'drop-c', archs: ['aarch64'] },
      fix: 'archway drop-c aarch64',
      risk: { id: 'setuid-credentials' },
    });
    expect(h('qemu-s390x').checks.find((c) => c.id === 'flag-F')).toBeUndefined(); // broken already
  });

  it('conflicts: two enabled handlers for one CPU, newest wins; disabled ones do not count', () => {
    const one = catalogRule('aarch64', '/usr/bin/qemu-aarch64-static', 'F');
    const two = { ...one, name: 'aarch64' };
    const interp = { '/usr/bin/qemu-aarch64-static': { path: '/usr/bin/qemu-aarch64-static', ...STATIC_QEMU } };
    const s = buildStatus(
      raw({
        entries: [
          { name: 'aarch64', text: entryText(two), seq: 50 },
          { name: 'qemu-aarch64', text: entryText(one), seq: 40 },
        ],
        interpreters: interp,
      }),
      HOST_ELF,
    );
    const a = s.archs.find((x) => x.cpu === 'aarch64')!;
    expect(a.state).toBe('conflict');
    expect(a.winner).toBe('aarch64');
    expect(a.summary).toMatch(/aarch64 wins.*qemu-aarch64 is shadowed/);
    const s2 = buildStatus(raw({ entries: [{ name: 'aarch64', text: entryText(two, false), seq: 50 }, { name: 'qemu-aarch64', text: entryText(one), seq: 40 }], interpreters: interp }), HOST_ELF);
    expect(s2.archs.find((x) => x.cpu === 'aarch64')!.state).toBe('ready');
  });

  it('flags a handler that matches the host\'s own programs', () => {
    const hijack = catalogRule('x86_64', '/usr/bin/qemu-x86_64-static', 'F');
    const s = buildStatus(raw({ entries: [{ name: 'qemu-x86_64', text: entryText(hijack), seq: 1 }] }), HOST_ELF);
    const h = s.handlers[0]!;
    expect(h.matchesNative).toBe(true);
    expect(h.checks.find((c) => c.id === 'native-hijack')?.level).toBe('error');
    expect(s.archs.find((a) => a.cpu === 'x86_64')!.state).toBe('conflict');
  });

  it('warns when binfmt_misc is not mounted or globally disabled', () => {
    expect(buildStatus(raw({ mount: { path: '/p', mounted: false }, globalEnabled: null }), HOST_ELF).warnings[0]).toMatch(/not mounted/);
    expect(buildStatus(raw({ globalEnabled: false }), HOST_ELF).warnings[0]).toMatch(/globally disabled/);
  });

  it('reports a record that no longer matches the kernel (changed outside Archway)', () => {
    const a = catalogRule('aarch64', '/usr/bin/qemu-aarch64-static', 'OCF');
    const record = emptyRecord();
    record.handlers['qemu-aarch64'] = { cpu: 'aarch64', register: buildRegister({ ...a, flags: 'F' }), source: 'distro', installedAt: 'now', installedBy: 0, persist: false };
    const s = buildStatus(raw({ entries: [{ name: 'qemu-aarch64', text: entryText(a), seq: 1 }], record }), HOST_ELF);
    expect(s.handlers[0]!.checks.find((c) => c.id === 'record-drift')?.message).toMatch(/changed outside Archway/);
  });
});

describe('emulator source', () => {
  const sha = 'e'.repeat(64);
  const v = { emulatorVersions: { distro: '7.2+dfsg-7', storeDir: '/var/lib/archway/emulators', store: { [`${sha}/qemu-aarch64`]: 'reported: from x@y, QEMU 9.2.2' } } };
  it('tells Archway\'s store, the distribution and anything else apart; a store entry\'s claims stay "reported", never a version', () => {
    // The reported "QEMU 9.2.2" never becomes the handler's version: only what the helper read from the stored bytes does.
    expect(emulatorSource(`/var/lib/archway/emulators/${sha}/qemu-aarch64`, v)).toEqual({ source: 'archway-store', reported: 'reported: from x@y, QEMU 9.2.2', sha256: sha });
    const read = { emulatorVersions: { ...v.emulatorVersions, storeVersions: { [`${sha}/qemu-aarch64`]: '8.1.5' } } };
    expect(emulatorSource(`/var/lib/archway/emulators/${sha}/qemu-aarch64`, read)).toEqual({ source: 'archway-store', reported: 'reported: from x@y, QEMU 9.2.2', qemuVersion: '8.1.5', sha256: sha });
    expect(emulatorSource('/usr/libexec/qemu-binfmt/aarch64-binfmt-P', v)).toEqual({ source: 'distro', version: '7.2+dfsg-7', qemuVersion: '7.2+dfsg-7' });
    expect(emulatorSource('/usr/bin/qemu-s390x-static', v)).toEqual({ source: 'distro', version: '7.2+dfsg-7', qemuVersion: '7.2+dfsg-7' });
    expect(emulatorSource('/usr/bin/qemu-s390x', {})).toEqual({ source: 'distro' });
    expect(emulatorSource('/opt/qemu/bin/qemu-aarch64', v)).toEqual({ source: 'other' });
  });
});

describe('vanished handlers', () => {
  it('lists what Archway installed that the kernel no longer has, with the way back', () => {
    const a = catalogRule('aarch64', '/usr/bin/qemu-aarch64-static', 'OCF');
    const record = emptyRecord();
    record.handlers['qemu-aarch64'] = { cpu: 'aarch64', register: buildRegister(a), source: 'distro', installedAt: 'now', installedBy: 0, persist: true };
    record.handlers['qemu-s390x'] = { cpu: 's390x', register: buildRegister(catalogRule('s390x', '/usr/bin/qemu-s390x-static', 'F')), source: 'distro', installedAt: 'now', installedBy: 0, persist: false };
    const s = buildStatus(raw({ entries: [{ name: 'qemu-aarch64', text: entryText(a), seq: 1 }], record }), HOST_ELF);
    expect(s.vanished).toEqual([{ name: 'qemu-s390x', cpu: 's390x', register: expect.stringContaining(':qemu-s390x:M::'), persist: false }]);
    expect(s.warnings.join('\n')).toMatch(/qemu-s390x was installed by Archway but is gone from the kernel.*archway install s390x/);
    expect(buildStatus(raw({ entries: [{ name: 'qemu-aarch64', text: entryText(a), seq: 1 }] }), HOST_ELF).vanished).toEqual([]);
  });
});

describe('drift between the record, boot-time files and the journal', () => {
  it('reports a missing persist file, a stray one, one for an unmanaged handler, and an interrupted step', () => {
    const a = catalogRule('aarch64', '/usr/bin/qemu-aarch64-static', 'OCF');
    const b = catalogRule('s390x', '/usr/bin/qemu-s390x-static', 'OCF');
    const record = emptyRecord();
    record.handlers['qemu-aarch64'] = { cpu: 'aarch64', register: buildRegister(a), source: 'distro', installedAt: 'now', installedBy: 0, persist: true };
    record.handlers['qemu-s390x'] = { cpu: 's390x', register: buildRegister(b), source: 'distro', installedAt: 'now', installedBy: 0, persist: false };
    record.pending = [{ name: 'qemu-ppc64le', op: 'install', register: '', startedAt: 'then' }];
    const s = buildStatus(
      raw({
        entries: [
          { name: 'qemu-aarch64', text: entryText(a), seq: 1 },
          { name: 'qemu-s390x', text: entryText(b), seq: 2 },
        ],
        record,
        binfmtd: [
          { file: '/etc/binfmt.d/qemu-s390x.conf', rule: b, archway: true },
          { file: '/etc/binfmt.d/qemu-riscv64.conf', rule: catalogRule('riscv64', '/x', 'F'), archway: true },
        ],
      }),
      HOST_ELF,
    );
    expect(s.drift.map((d) => [d.name, d.kind])).toEqual([
      ['qemu-ppc64le', 'pending'],
      ['qemu-aarch64', 'persist-file'],
      ['qemu-s390x', 'persist-file'],
      ['qemu-riscv64', 'persist-file'],
    ]);
    expect(s.warnings.some((w) => w.includes('no longer manages'))).toBe(true);
  });
});
