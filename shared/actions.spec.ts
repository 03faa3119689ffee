import { describe, expect, it } from 'vitest';
import { intentToRequest } from './actions';
import { buildStatus, catalogRule, statusOf, type RawStatus } from './status';
import { emptyRecord } from './record';
import { CATALOG, hexToBytes, type Cpu } from './arch/catalog';
import { trustKey, type HostSnapshot, type SnapshotCandidate } from './plan/snapshot';
import { readinessOps } from './plan/install';
import type { ElfInfo } from './elf';

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

  it('install all skips what the planner refuses here, with its reason; explicit names are never skipped', () => {
    const st = statusOf(snapshotWith({ theirs: ['aarch64'] }));
    expect(st.archs.find((a) => a.cpu === 's390x')?.install).toEqual({ ok: true, interpreter: '/usr/bin/qemu-s390x-static', flags: 'F', source: 'distro', changed: true });
    expect(st.archs.find((a) => a.cpu === 'aarch64')?.install).toMatchObject({ ok: false, code: 'not-owned' });
    expect(st.archs.find((a) => a.cpu === 'riscv64')?.install).toMatchObject({ ok: false, code: 'no-emulator' });
    const { request, skipped } = intentToRequest({ action: 'install', archs: ['all'] }, st);
    expect(request?.ops.map((o) => ('arch' in o ? o.arch : ''))).toEqual(['s390x']);
    expect(skipped.find((s) => s.arch === 'aarch64')?.why).toMatch(/^qemu-aarch64 is already registered by another tool .*Archway leaves it alone$/);
    expect(skipped.find((s) => s.arch === 'riscv64')?.why).toMatch(/^no qemu-riscv64 emulator found/);
    // Options that change the planner's answer keep the architecture in: --take-over, --source.
    expect(intentToRequest({ action: 'install', archs: ['all'], takeOver: true }, st).request?.ops.map((o) => ('arch' in o ? o.arch : ''))).toEqual(['s390x', 'aarch64']);
    expect(intentToRequest({ action: 'install', archs: ['all'], source: 'store' }, st).skipped.map((s) => s.arch)).toEqual(['aarch64']);
    // Named, they are planned as asked (and the helper's refusal refuses the request).
    const explicit = intentToRequest({ action: 'install', archs: ['riscv64', 'arm64'] }, st);
    expect(explicit.request?.ops).toHaveLength(2);
    expect(explicit.skipped).toEqual([]);
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

const X86_ELF: ElfInfo = { class: 64, endian: 'little', type: 3, machine: 62, dynamic: true };

/** An x86_64 host's snapshot with its status facts: static emulators for aarch64 and s390x only; `theirs`: CPUs another tool registered. */
function snapshotWith(o: { theirs: ('aarch64' | 's390x')[] }): HostSnapshot {
  const emu = (cpu: string) => `/usr/bin/qemu-${cpu}-static`;
  const present = new Set([emu('aarch64'), emu('s390x')]);
  const candidates: Partial<Record<Cpu, SnapshotCandidate[]>> = {};
  const persistFiles: Record<string, { path: string; exists: boolean; ours: boolean }> = {};
  for (const op of readinessOps('x86_64')) {
    const c = CATALOG.find((x) => x.cpu === op.arch)!;
    candidates[c.cpu] = [
      { path: `/usr/libexec/qemu-binfmt/${c.emulator.slice(5)}-binfmt-P`, source: 'distro', preserveArgv0: true, exists: false },
      { path: emu(c.emulator.slice(5)), source: 'distro', preserveArgv0: false, exists: present.has(emu(c.emulator.slice(5))) },
    ];
    persistFiles[c.handlerName] = { path: `/etc/binfmt.d/${c.handlerName}.conf`, exists: false, ours: false };
  }
  const trusted = (p: string) => ({ path: p, identity: `id-${p}`, trust: { [trustKey(p, { allowSymlink: false, allowDynamic: false })]: null } });
  const texts = o.theirs.map((cpu, seq) => {
    const r = catalogRule(cpu, emu(cpu), 'F');
    return { name: r.name, text: `enabled\ninterpreter ${r.interpreter}\nflags: F\noffset 0\nmagic ${r.magic}\nmask ${r.mask}\n`, seq };
  });
  return {
    binfmtPath: '/b',
    mounted: true,
    entries: new Map(o.theirs.map((cpu, order) => [`qemu-${cpu}`, { rule: catalogRule(cpu, emu(cpu), 'F'), enabled: true, order }])),
    record: emptyRecord(),
    binfmtd: [],
    binfmtSupport: [],
    persistFiles,
    interpreters: { [emu('aarch64')]: trusted(emu('aarch64')), [emu('s390x')]: trusted(emu('s390x')) },
    candidates,
    host: { machine: 'x86_64', header: HEADER, elf: X86_ELF },
    status: { globalEnabled: true, texts, files: {}, emulatorVersions: {}, problems: [] },
  };
}
