/**
 * plan(snapshot, op) on in-memory snapshots (no root, no kernel): the planner's safety decisions —
 * never-touch, not-owned without force or take-over, native hijack (EXEC-only and DYN-only host
 * headers), C only by opt-in and then with its risk, F required, plans bound to content, and drop-c
 * of a foreign handler as a take-over.
 */
import { describe, expect, it } from 'vitest';
import { catalogEntry, hexToBytes } from '../arch/catalog';
import { SETUID_RISK_MARKER } from '../binfmt/flags';
import { buildRegister } from '../binfmt/register';
import type { ElfInfo } from '../elf';
import { ArchwayError, type HelperOp } from '../helper-protocol';
import { emptyRecord, type ArchwayRecord } from '../record';
import { checkExpected, plan, type PlannedOp } from './plan';
import { catalogRule } from './rules';
import { trustKey, type HostSnapshot, type InterpreterFact, type SnapshotEntry } from './snapshot';

const WRAPPER = '/usr/libexec/qemu-binfmt/aarch64-binfmt-P';
const STATIC = '/usr/bin/qemu-aarch64-static';
const X86_ELF: ElfInfo = { class: 64, endian: 'little', type: 3, machine: 62, dynamic: true };
const X86_HEADER = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1, 0, 0, 0]);
const ctx = { callerUid: 1000, now: '2026-11-30T07:00:00.000Z', hash: (t: string) => `h(${t.length}:${[...t].reduce((a, c) => (a * 31 + c.charCodeAt(0)) >>> 0, 7)})` };

function snapshot(over: { entries?: [string, Omit<SnapshotEntry, 'order'>][]; record?: ArchwayRecord; identity?: string; host?: HostSnapshot['host'] } = {}): HostSnapshot {
  const trusted = (path: string, link: boolean) => ({
    path,
    identity: over.identity ?? `id-of-${path}`,
    trust: { [trustKey(path, { allowSymlink: link, allowDynamic: false })]: null },
  });
  return {
    binfmtPath: '/proc/sys/fs/binfmt_misc',
    mounted: true,
    entries: new Map((over.entries ?? []).map(([n, e], order) => [n, { ...e, order }])),
    record: over.record ?? emptyRecord(),
    binfmtd: [],
    binfmtSupport: [],
    persistFiles: { 'qemu-aarch64': { path: '/etc/binfmt.d/archway-qemu-aarch64.conf', exists: false, ours: false } },
    interpreters: { [WRAPPER]: trusted(WRAPPER, true), [STATIC]: trusted(STATIC, false) },
    candidates: {
      aarch64: [
        { path: WRAPPER, source: 'distro', preserveArgv0: true, exists: true },
        { path: STATIC, source: 'distro', preserveArgv0: false, exists: true },
        { path: '/usr/bin/qemu-aarch64', source: 'distro', preserveArgv0: false, exists: false },
        { path: '/var/lib/archway/emulators/qemu-aarch64', source: 'store', preserveArgv0: false, exists: false },
      ],
    },
    host: over.host ?? { machine: 'x86_64', header: X86_HEADER, elf: X86_ELF },
  };
}
const refusal = (f: () => unknown): ArchwayError => {
  try {
    f();
  } catch (err) {
    if (err instanceof ArchwayError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
};
const install = (o: Partial<Extract<HelperOp, { op: 'install' }>> = {}): PlannedOp => ({ op: 'install', arch: 'aarch64', ...o });
/** tonistiigi/binfmt's aarch64 handler: /usr/bin/qemu-aarch64 with OCF. */
const THEIRS = { rule: catalogRule('aarch64', '/usr/bin/qemu-aarch64', 'OCF'), enabled: true };

describe('plan: safe defaults and the flag rules', () => {
  it('a default install registers the wrapper with PF (no C), names the file it writes, and binds the emulator\'s identity', () => {
    const p = plan(snapshot(), install({ persist: true }), ctx);
    expect(p.result).toMatchObject({ changed: true, register: buildRegister(catalogRule('aarch64', WRAPPER, 'PF')), files: ['/etc/binfmt.d/archway-qemu-aarch64.conf'] });
    expect(p.result.risks).toBeUndefined();
    expect(p.binds).toEqual({ [WRAPPER]: `id-of-${WRAPPER}` });
    expect(p.steps).toEqual([expect.objectContaining({ kind: 'register', name: 'qemu-aarch64', replace: false })]);
    expect(p.pending).toMatchObject({ op: 'install', handler: { installedBy: 1000, persist: true } });
  });
  it('C without the opt-in is refused (nothing to run); with it the plan carries the setuid risk', () => {
    expect(refusal(() => plan(snapshot(), install({ flags: 'PFC' }), ctx)).code).toBe('bad-flags');
    const p = plan(snapshot(), install({ allowSetuid: true }), ctx);
    expect(p.result.register).toMatch(/:POCF$/);
    expect(p.result.risks).toEqual([SETUID_RISK_MARKER]);
  });
  it('flags without F are refused, opt-in or not', () => {
    for (const flags of ['P', 'PC', 'OC']) expect(refusal(() => plan(snapshot(), install({ flags, allowSetuid: true }), ctx)).message).toMatch(/lack F/);
  });
});

describe('plan: ownership', () => {
  const entries: [string, Omit<SnapshotEntry, 'order'>][] = [['qemu-aarch64', THEIRS]];
  it('another tool\'s handler: install, uninstall, enable/disable are refused without take-over / force', () => {
    expect(refusal(() => plan(snapshot({ entries }), install(), ctx))).toMatchObject({ code: 'not-owned', message: expect.stringContaining('tonistiigi/binfmt') });
    expect(refusal(() => plan(snapshot({ entries }), { op: 'uninstall', arch: 'aarch64' }, ctx)).code).toBe('not-owned');
    expect(refusal(() => plan(snapshot({ entries }), { op: 'disable', arch: 'aarch64' }, ctx)).code).toBe('not-owned');
  });
  it('with take-over the install replaces theirs and remembers it; with force uninstall and disable go ahead', () => {
    const p = plan(snapshot({ entries }), install({ takeOver: true }), ctx);
    expect(p.steps[0]).toMatchObject({ kind: 'register', replace: true, takeOver: true, owned: false });
    expect(p.pending?.handler?.previous).toEqual({ register: buildRegister(THEIRS.rule), owner: expect.stringContaining('tonistiigi/binfmt') });
    expect(plan(snapshot({ entries }), { op: 'uninstall', arch: 'aarch64', force: true }, ctx).steps).toEqual([{ kind: 'unregister', cpu: 'aarch64', name: 'qemu-aarch64' }]);
    expect(plan(snapshot({ entries }), { op: 'disable', arch: 'aarch64', force: true }, ctx).steps).toEqual([{ kind: 'toggle', name: 'qemu-aarch64', enable: false }]);
  });
  it('an entry the kernel shows that does not parse is never taken for absent', () => {
    const s = { ...snapshot(), unparsed: { 'qemu-aarch64': 'bad magic' } };
    for (const op of [install(), install({ takeOver: true }), { op: 'uninstall', arch: 'aarch64', force: true } as PlannedOp, { op: 'enable', arch: 'aarch64', force: true } as PlannedOp]) {
      expect(refusal(() => plan(s, op, ctx))).toMatchObject({ code: 'invalid-rule', message: expect.stringContaining('qemu-aarch64 cannot be read') });
    }
  });
  it('WSL\'s interop entry is never part of any plan, even an install of everything with take-over', () => {
    const wsl = { rule: { name: 'WSLInterop', type: 'M' as const, offset: 0, magic: '4d5a', mask: '', interpreter: '/init', flags: 'PF' }, enabled: true };
    const s = snapshot({ entries: [['WSLInterop', wsl]] });
    const p = plan(s, install({ takeOver: true }), ctx);
    expect(JSON.stringify(p)).not.toMatch(/WSLInterop/);
  });
  it('drop-c on a foreign handler is a take-over: same emulator and magic without C, theirs restored on uninstall', () => {
    const s = snapshot({ entries });
    (s.interpreters as Record<string, InterpreterFact>)['/usr/bin/qemu-aarch64'] = { path: '/usr/bin/qemu-aarch64', identity: 'id', trust: { [trustKey('/usr/bin/qemu-aarch64', { allowSymlink: false, allowDynamic: false })]: null } };
    const p = plan(s, { op: 'drop-c', arch: 'aarch64' }, ctx);
    expect(p.result.register).toBe(buildRegister({ ...THEIRS.rule, flags: 'OF' }));
    expect(p.result.warnings?.[0]).toMatch(/takes over qemu-aarch64 from .*tonistiigi\/binfmt.*restores theirs \(with C\)/);
    expect(p.steps[0]).toMatchObject({ kind: 'register', takeOver: true, owned: false, handler: { previous: { register: buildRegister(THEIRS.rule) } } });
  });
  it('drop-c refuses an emulator the checks refuse (F would open it as root)', () => {
    const s = snapshot({ entries });
    (s.interpreters as Record<string, InterpreterFact>)['/usr/bin/qemu-aarch64'] = { path: '/usr/bin/qemu-aarch64', identity: 'id', trust: { [trustKey('/usr/bin/qemu-aarch64', { allowSymlink: false, allowDynamic: false })]: { code: 'unsafe-interpreter', message: 'owned by uid 1000' } } };
    expect(refusal(() => plan(s, { op: 'drop-c', arch: 'aarch64' }, ctx)).code).toBe('unsafe-interpreter');
  });
});

describe('plan: native hijack over the host\'s own ELF header (EXEC-only and DYN-only hosts)', () => {
  // A host whose programs are aarch64, on a kernel name the native table does not know: only the
  // header check stands between an aarch64 rule and every native program.
  const aarch64Host = (type: 2 | 3): HostSnapshot['host'] => {
    const header = hexToBytes(catalogEntry('aarch64')!.magic);
    header[16] = type;
    header[17] = 0;
    return { machine: 'unknown-machine', header, elf: { class: 64, endian: 'little', type, machine: 183, dynamic: type === 3 } };
  };
  for (const type of [2, 3] as const) {
    it(`refuses an install whose rule matches the host's ${type === 2 ? 'EXEC' : 'DYN'} programs`, () => {
      expect(refusal(() => plan(snapshot({ host: aarch64Host(type) }), install(), ctx))).toMatchObject({ code: 'native-arch', message: expect.stringContaining("host's own programs") });
    });
  }
});

describe('plan: bound to content', () => {
  it('the same snapshot gives the same digest; a swapped emulator (new identity) gives another, and the apply is refused as plan-changed', () => {
    const shown = plan(snapshot(), install(), ctx).result;
    expect(plan(snapshot(), install(), ctx).result.digest).toBe(shown.digest);
    const now = plan(snapshot({ identity: 'swapped' }), install(), ctx).result;
    expect(now.digest).not.toBe(shown.digest);
    expect(() => checkExpected([shown], [shown.digest!])).not.toThrow();
    expect(refusal(() => checkExpected([now], [shown.digest!]))).toMatchObject({ code: 'plan-changed', message: expect.stringContaining('qemu-aarch64') });
    expect(refusal(() => checkExpected([now, now], [shown.digest!])).code).toBe('plan-changed');
  });
  it('a handler that appeared between plan and apply changes the plan too', () => {
    const shown = plan(snapshot(), install({ takeOver: true }), ctx).result;
    const now = plan(snapshot({ entries: [['qemu-aarch64', THEIRS]] }), install({ takeOver: true }), ctx).result;
    expect(now.digest).not.toBe(shown.digest);
  });
});
