import { describe, expect, it } from 'vitest';
import { buildStatus, catalogRule, type RawStatus } from './status';
import { buildRegister } from './binfmt/register';
import { hexToBytes } from './arch/catalog';
import { emptyRecord, type ArchwayRecord } from './record';
import type { ElfInfo } from './elf';
import { handlerEvents } from './handler-events';

const X86_64_HEADER = hexToBytes('7f454c4602010100000000000000000003003e00010000000000000000000000');
const HOST_ELF: ElfInfo = { class: 64, endian: 'little', type: 3, machine: 62, dynamic: true };
const STATIC_QEMU = { exists: true, regular: true, uid: 0, mode: 0o100755, elf: { class: 64, endian: 'little', type: 3, machine: 62, dynamic: false } } as const;
const T = '2026-11-30T07:40:00.000Z';
const A64 = '/usr/bin/qemu-aarch64-static';
const S390 = '/usr/bin/qemu-s390x-static';

type Entry = { cpu: 'aarch64' | 's390x'; interpreter: string; flags: string; enabled?: boolean };

function entryText(e: Entry): string {
  const rule = catalogRule(e.cpu, e.interpreter, e.flags);
  return `${e.enabled === false ? 'disabled' : 'enabled'}\ninterpreter ${rule.interpreter}\nflags: ${rule.flags}\noffset 0\nmagic ${rule.magic}\nmask ${rule.mask}\n`;
}

/** A status as the engine would build it: these entries in the kernel, these emulator files present, this record. */
function status(entries: Entry[], opts: { record?: ArchwayRecord; missing?: string[] } = {}) {
  const interpreters: RawStatus['interpreters'] = {};
  for (const p of [A64, S390]) interpreters[p] = opts.missing?.includes(p) ? { path: p, exists: false } : { path: p, ...STATIC_QEMU };
  return buildStatus(
    {
      mount: { path: '/proc/sys/fs/binfmt_misc', mounted: true },
      globalEnabled: true,
      entries: entries.map((e, i) => ({ name: `qemu-${e.cpu}`, text: entryText(e), seq: i + 1 })),
      interpreters,
      hostMachine: 'x86_64',
      hostHeader: X86_64_HEADER,
      binfmtd: [],
      binfmtSupport: [],
      record: opts.record ?? emptyRecord(),
      available: {},
    },
    HOST_ELF,
  );
}

function recordOf(...es: Entry[]): ArchwayRecord {
  const r = emptyRecord();
  for (const e of es) r.handlers[`qemu-${e.cpu}`] = { cpu: e.cpu, register: buildRegister(catalogRule(e.cpu, e.interpreter, e.flags)), source: 'distro', installedAt: 'now', installedBy: 0, persist: false };
  return r;
}

const arm: Entry = { cpu: 'aarch64', interpreter: A64, flags: 'F' };
const s390: Entry = { cpu: 's390x', interpreter: S390, flags: 'F' };

describe('handlerEvents', () => {
  it('the first reading is the baseline; an unchanged table has no events', () => {
    const s = status([arm]);
    expect(handlerEvents(undefined, s, T)).toEqual([]);
    expect(handlerEvents(s, status([arm]), T)).toEqual([]);
  });

  it('a handler appeared, with its facts and owner', () => {
    expect(handlerEvents(status([]), status([arm], { record: recordOf(arm) }), T)).toEqual([
      { time: T, event: 'appeared', name: 'qemu-aarch64', arch: 'aarch64', owner: 'archway', enabled: true, flags: 'F', interpreter: A64 },
    ]);
  });

  it("a handler Archway installed vanished (a flush): 'vanished' once, with the way back; another tool's is 'removed'", () => {
    const record = recordOf(arm);
    const before = status([arm, s390], { record });
    const after = status([], { record });
    expect(handlerEvents(before, after, T)).toEqual([
      { time: T, event: 'vanished', name: 'qemu-aarch64', arch: 'aarch64', persist: false, register: buildRegister(catalogRule('aarch64', A64, 'F')) },
      { time: T, event: 'removed', name: 'qemu-s390x', arch: 's390x', owner: 'unknown' },
    ]);
    // Still gone at the next reading: not reported again.
    expect(handlerEvents(after, status([], { record }), T)).toEqual([]);
    // Back again: appeared.
    expect(handlerEvents(after, status([arm], { record }), T).map((e) => [e.event, e.name])).toEqual([['appeared', 'qemu-aarch64']]);
  });

  it('uninstalled through Archway (the record forgets it): removed, not vanished', () => {
    expect(handlerEvents(status([arm], { record: recordOf(arm) }), status([]), T).map((e) => e.event)).toEqual(['removed']);
  });

  it('changed: disabled, flags, emulator', () => {
    const before = status([arm]);
    expect(handlerEvents(before, status([{ ...arm, enabled: false }]), T)).toEqual([
      { time: T, event: 'changed', name: 'qemu-aarch64', arch: 'aarch64', changes: ['enabled'], before: { enabled: true, flags: 'F', interpreter: A64 }, enabled: false, flags: 'F', interpreter: A64 },
    ]);
    const e = handlerEvents(before, status([{ ...arm, flags: 'OCF' }]), T);
    expect(e.map((x) => x.event)).toEqual(['changed']);
    expect(e[0]).toMatchObject({ changes: ['flags'], flags: 'OCF', before: { flags: 'F' } });
  });

  it('turned broken (its emulator was deleted) and recovered', () => {
    const noF: Entry = { ...arm, flags: '' };
    const ok = status([noF]);
    const broken = status([noF], { missing: [A64] });
    const events = handlerEvents(ok, broken, T);
    expect(events).toEqual([{ time: T, event: 'broken', name: 'qemu-aarch64', arch: 'aarch64', reason: expect.stringContaining(`${A64} does not exist`) }]);
    expect(handlerEvents(broken, broken, T)).toEqual([]);
    expect(handlerEvents(broken, ok, T)).toEqual([{ time: T, event: 'recovered', name: 'qemu-aarch64', arch: 'aarch64' }]);
  });

  it('every event has the fixed head {time, event, name, arch}', () => {
    const record = recordOf(arm);
    const events = handlerEvents(status([arm], { record }), status([{ ...s390, enabled: false }], { record }), T);
    expect(events.length).toBe(2);
    for (const e of events) expect(Object.keys(e).slice(0, 4)).toEqual(['time', 'event', 'name', 'arch']);
  });
});
