/**
 * The known-regressions table and the status warning it drives: a handler whose QEMU version is on
 * the list gets a typed warning naming each upstream report, and a `use` intent to a stored version
 * that is not listed (only for Archway's own handlers). Written before the table existed: the checks
 * carried no 'qemu-regression' and the handler's emulator had no qemuVersion.
 */
import { describe, expect, it } from 'vitest';
import { intentCommand } from './actions';
import { buildRegister } from './binfmt/register';
import type { ElfInfo } from './elf';
import { knownRegressions, QEMU_REGRESSIONS, upstreamVersion } from './qemu-regressions';
import { emptyRecord } from './record';
import { buildStatus, catalogRule, type RawStatus } from './status';

const HOST_ELF: ElfInfo = { class: 64, endian: 'little', type: 3, machine: 62, dynamic: true };
const HEADER = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1, 0, 0, 0]);
const STATIC_QEMU = { exists: true, regular: true, uid: 0, mode: 0o100755, elf: { class: 64, endian: 'little', type: 3, machine: 62, dynamic: false } } as const;
const STORE = '/var/lib/archway/emulators';
const BAD = '9'.repeat(64);
const GOOD = '7'.repeat(64);

function raw(interpreter: string, owned: boolean): RawStatus {
  const rule = catalogRule('aarch64', interpreter, 'F');
  return {
    mount: { path: '/proc/sys/fs/binfmt_misc', mounted: true },
    globalEnabled: true,
    entries: [{ name: 'qemu-aarch64', seq: 1, text: `enabled\ninterpreter ${interpreter}\nflags: F\noffset 0\nmagic ${rule.magic}\nmask ${rule.mask}\n` }],
    interpreters: { [interpreter]: { path: interpreter, ...STATIC_QEMU } },
    hostMachine: 'x86_64',
    hostHeader: HEADER,
    binfmtd: [],
    binfmtSupport: [],
    record: owned ? { version: 1, handlers: { 'qemu-aarch64': { cpu: 'aarch64', register: buildRegister(rule), source: 'store', installedAt: 'x', installedBy: 0, persist: false } } } : emptyRecord(),
    available: {
      aarch64: [
        { path: '/usr/bin/qemu-aarch64-static', source: 'distro', version: '7.2+dfsg-7+deb12u18' },
        { path: `${STORE}/${BAD}/qemu-aarch64`, source: 'store', sha256: BAD, version: '9.2.0' },
        { path: `${STORE}/${GOOD}/qemu-aarch64`, source: 'store', sha256: GOOD, version: '7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)' },
      ],
    },
    emulatorVersions: { distro: '7.2+dfsg-7+deb12u18', storeDir: STORE, store: {}, storeVersions: { [`${BAD}/qemu-aarch64`]: '9.2.0', [`${GOOD}/qemu-aarch64`]: '7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)' } },
  };
}

describe('known QEMU regressions', () => {
  it('every entry names an upstream report and a version', () => {
    for (const r of QEMU_REGRESSIONS) {
      expect(r.url).toMatch(/^https:\/\/github\.com\/(tonistiigi\/binfmt|docker\/setup-qemu-action)\/issues\/\d+$/);
      expect(upstreamVersion(r.version)).toBe(r.version);
    }
  });
  it('matches on the upstream number only', () => {
    expect(upstreamVersion('7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)')).toBe('7.2.22');
    expect(upstreamVersion('7.2+dfsg-7')).toBe('7.2.0');
    expect(knownRegressions('9.2.0', 'aarch64').length).toBeGreaterThan(0);
    expect(knownRegressions('9.2.0 (v9.2.0-51)', 'aarch64').length).toBeGreaterThan(0);
    expect(knownRegressions('9.2.01', 'aarch64')).toEqual([]);
    expect(knownRegressions('9.2.2', 'aarch64')).toEqual([]);
    expect(knownRegressions(undefined)).toEqual([]);
  });
  it("status: Archway's handler on a listed version warns with each report and a `use` intent to a stored good version", () => {
    const s = buildStatus(raw(`${STORE}/${BAD}/qemu-aarch64`, true), HOST_ELF);
    const h = s.handlers[0]!;
    expect(h.emulator).toMatchObject({ source: 'archway-store', qemuVersion: '9.2.0', sha256: BAD });
    const c = h.checks.find((x) => x.id === 'qemu-regression')!;
    expect(c.level).toBe('warning');
    expect(c.message).toContain('https://github.com/tonistiigi/binfmt/issues/245');
    expect(c.intent).toEqual({ action: 'use', archs: ['aarch64'], emulator: { sha256: GOOD } });
    expect(c.fix).toContain(intentCommand(c.intent!));
    expect(intentCommand(c.intent!)).toBe(`archway emulators use aarch64 ${GOOD}`);
  });
  it("another tool's handler on a listed version: warned, no intent (use would refuse), the words say take over first", () => {
    const c = buildStatus(raw(`${STORE}/${BAD}/qemu-aarch64`, false), HOST_ELF).handlers[0]!.checks.find((x) => x.id === 'qemu-regression')!;
    expect(c.intent).toBeUndefined();
    expect(c.fix).toContain('--take-over');
  });
  it('a version not on the list: no warning', () => {
    const h = buildStatus(raw(`${STORE}/${GOOD}/qemu-aarch64`, true), HOST_ELF).handlers[0]!;
    expect(h.emulator.qemuVersion).toMatch(/^7\.2\.22/);
    expect(h.checks.some((x) => x.id === 'qemu-regression')).toBe(false);
  });
});
