/**
 * plan(snapshot, {op:'use'}) on in-memory snapshots: switching Archway's handler (and its boot-time
 * file) to another emulator keeps magic, mask and flags (P follows the emulator), binds the new
 * emulator's identity, and refuses a foreign handler (saying how to take it over), an emulator that is
 * not stored, and one that is not a static program for this host. Written before planUse existed
 * (the op was unknown to the planner: plan() returned undefined and every expectation failed).
 */
import { describe, expect, it } from 'vitest';
import { buildRegister } from '../binfmt/register';
import type { ElfInfo } from '../elf';
import { ArchwayError } from '../helper-protocol';
import { emptyRecord, type ArchwayRecord } from '../record';
import { plan, type PlannedOp } from './plan';
import { catalogRule } from './rules';
import { trustKey, type HostSnapshot, type SnapshotEntry } from './snapshot';

const WRAPPER = '/usr/libexec/qemu-binfmt/aarch64-binfmt-P';
const STATIC = '/usr/bin/qemu-aarch64-static';
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const STORE_A = `/var/lib/archway/emulators/${A}/qemu-aarch64`;
const STORE_B = `/var/lib/archway/emulators/${B}/qemu-aarch64`;
const X86_ELF: ElfInfo = { class: 64, endian: 'little', type: 3, machine: 62, dynamic: true };
const X86_HEADER = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1, 0, 0, 0]);
const ctx = { callerUid: 0, now: '2026-11-30T09:00:00.000Z', hash: (t: string) => `h(${t.length}:${[...t].reduce((a, c) => (a * 31 + c.charCodeAt(0)) >>> 0, 7)})` };
const PERSIST = '/etc/binfmt.d/qemu-aarch64.conf';

function snapshot(o: { entry?: Omit<SnapshotEntry, 'order'>; record?: ArchwayRecord; untrusted?: string; storeB?: boolean; identity?: string } = {}): HostSnapshot {
  const fact = (path: string, link: boolean) => ({
    path,
    identity: o.identity && path === STORE_A ? o.identity : `id-of-${path}`,
    trust: { [trustKey(path, { allowSymlink: link, allowDynamic: false })]: path === o.untrusted ? { code: 'dynamic-interpreter' as const, message: `${path} is dynamically linked` } : null },
  });
  return {
    binfmtPath: '/proc/sys/fs/binfmt_misc',
    mounted: true,
    entries: new Map(o.entry ? [['qemu-aarch64', { ...o.entry, order: 0 }]] : []),
    record: o.record ?? emptyRecord(),
    binfmtd: [],
    binfmtSupport: [],
    persistFiles: { 'qemu-aarch64': { path: PERSIST, exists: !!o.record?.handlers['qemu-aarch64']?.persist, ours: true } },
    interpreters: { [WRAPPER]: fact(WRAPPER, true), [STATIC]: fact(STATIC, false), [STORE_A]: fact(STORE_A, false), [STORE_B]: fact(STORE_B, false) },
    candidates: {
      aarch64: [
        { path: WRAPPER, source: 'distro', preserveArgv0: true, exists: true },
        { path: STATIC, source: 'distro', preserveArgv0: false, exists: true },
        { path: STORE_B, source: 'store', preserveArgv0: false, exists: o.storeB !== false, sha256: B },
        { path: STORE_A, source: 'store', preserveArgv0: false, exists: true, sha256: A },
      ],
    },
    host: { machine: 'x86_64', header: X86_HEADER, elf: X86_ELF },
  };
}

/** Archway's handler on store entry B, kept after reboot. */
function ours(interpreter = STORE_B, flags = 'F', persist = true) {
  const rule = catalogRule('aarch64', interpreter, flags);
  const record: ArchwayRecord = { version: 1, handlers: { 'qemu-aarch64': { cpu: 'aarch64', register: buildRegister(rule), source: 'store', installedAt: 'x', installedBy: 0, persist } } };
  return { entry: { rule, enabled: true }, record };
}
const use = (emulator: Extract<PlannedOp, { op: 'use' }>['emulator']): PlannedOp => ({ op: 'use', arch: 'aarch64', emulator });
const refusal = (f: () => unknown): ArchwayError => {
  try {
    f();
  } catch (err) {
    if (err instanceof ArchwayError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
};

describe('plan: use', () => {
  it('switches the handler and its boot-time file to the named store entry, same flags, bound to its identity', () => {
    const p = plan(snapshot(ours()), use({ source: 'store', sha256: A }), ctx);
    expect(p.result).toMatchObject({ op: 'use', arch: 'aarch64', changed: true, register: buildRegister(catalogRule('aarch64', STORE_A, 'F')), files: [PERSIST] });
    expect(p.result.message).toContain(`from ${STORE_B} to ${STORE_A}`);
    expect(p.binds).toEqual({ [STORE_A]: `id-of-${STORE_A}` });
    // The record remembers what ran before (Use previous goes back to it).
    expect(p.steps).toEqual([expect.objectContaining({ kind: 'register', replace: true, owned: true, takeOver: false, handler: expect.objectContaining({ persist: true, source: 'store', usedBefore: STORE_B }) })]);
    // A swapped file changes the digest (the helper then refuses the apply).
    const other = plan(snapshot({ ...ours(), identity: 'swapped' }), use({ source: 'store', sha256: A }), ctx);
    expect(other.result.digest).not.toBe(p.result.digest);
  });
  it("to the distribution's: the P wrapper takes P; back to the store drops it; C stays only where it was", () => {
    const d = plan(snapshot(ours()), use({ source: 'distro' }), ctx);
    expect(d.result.register).toBe(buildRegister(catalogRule('aarch64', WRAPPER, 'PF')));
    const back = plan(snapshot(ours(WRAPPER, 'PF')), use({ source: 'store', sha256: B }), ctx);
    expect(back.result.register).toBe(buildRegister(catalogRule('aarch64', STORE_B, 'F')));
    const withC = plan(snapshot(ours(STORE_B, 'OCF')), use({ source: 'store', sha256: A }), ctx);
    expect(withC.result.register).toMatch(/:OCF$/);
    expect(withC.result.risks?.[0]?.id).toBe('setuid-credentials');
  });
  it('already on that emulator: nothing to do', () => {
    const p = plan(snapshot(ours()), use({ source: 'store', sha256: B }), ctx);
    expect(p.result.changed).toBe(false);
    expect(p.steps).toEqual([]);
  });
  it("refuses another tool's handler, saying how to take it over; nothing planned", () => {
    const e = refusal(() => plan(snapshot({ entry: { rule: catalogRule('aarch64', '/usr/bin/qemu-aarch64', 'OCF'), enabled: true } }), use({ source: 'store', sha256: A }), ctx));
    expect(e.code).toBe('not-owned');
    expect(e.hint).toContain('archway install aarch64 --take-over');
  });
  it('refuses a handler that is not there, a store entry that is not stored, and a program that is not a static one for this host', () => {
    expect(refusal(() => plan(snapshot(), use({ source: 'store', sha256: A }), ctx)).code).toBe('not-found');
    const missing = refusal(() => plan(snapshot(ours()), use({ source: 'store', sha256: 'c'.repeat(64) }), ctx));
    expect(missing.code).toBe('no-emulator');
    expect(missing.hint).toContain('archway emulators list');
    expect(refusal(() => plan(snapshot({ ...ours(), untrusted: STORE_A }), use({ source: 'store', sha256: A }), ctx)).code).toBe('dynamic-interpreter');
  });
});
