/**
 * Statuses for the specs of what happens to handlers (shared/handler-events, shared/notifications),
 * made by the real status model from raw facts: these entries in the kernel, these emulator files
 * present or deleted, this record of what Archway installed.
 */
import { hexToBytes } from '../arch/catalog';
import { buildRegister } from '../binfmt/register';
import type { ElfInfo } from '../elf';
import { emptyRecord, type ArchwayRecord } from '../record';
import { buildStatus, catalogRule, type RawStatus } from '../status';

const X86_64_HEADER = hexToBytes('7f454c4602010100000000000000000003003e00010000000000000000000000');
const HOST_ELF: ElfInfo = { class: 64, endian: 'little', type: 3, machine: 62, dynamic: true };
const STATIC_QEMU = { exists: true, regular: true, uid: 0, mode: 0o100755, elf: { class: 64, endian: 'little', type: 3, machine: 62, dynamic: false } } as const;
export const T = '2026-11-30T07:40:00.000Z';
export const A64 = '/usr/bin/qemu-aarch64-static';
export const S390 = '/usr/bin/qemu-s390x-static';

export type Entry = { cpu: 'aarch64' | 's390x'; interpreter: string; flags: string; enabled?: boolean };

function entryText(e: Entry): string {
  const rule = catalogRule(e.cpu, e.interpreter, e.flags);
  return `${e.enabled === false ? 'disabled' : 'enabled'}\ninterpreter ${rule.interpreter}\nflags: ${rule.flags}\noffset 0\nmagic ${rule.magic}\nmask ${rule.mask}\n`;
}

/** A status as the engine would build it: these entries in the kernel, these emulator files present, this record. */
export function status(entries: Entry[], opts: { record?: ArchwayRecord; missing?: string[] } = {}) {
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

export function recordOf(...es: Entry[]): ArchwayRecord {
  const r = emptyRecord();
  for (const e of es) r.handlers[`qemu-${e.cpu}`] = { cpu: e.cpu, register: buildRegister(catalogRule(e.cpu, e.interpreter, e.flags)), source: 'distro', installedAt: 'now', installedBy: 0, persist: false };
  return r;
}

export const arm: Entry = { cpu: 'aarch64', interpreter: A64, flags: 'F' };
export const s390: Entry = { cpu: 's390x', interpreter: S390, flags: 'F' };
