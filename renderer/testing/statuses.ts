/**
 * Realistic statuses for the renderer's tests, made by the real status model (shared/status.ts)
 * from raw facts: no hand-written Status objects that could drift from what main sends.
 */
import { hexToBytes } from '../../shared/arch/catalog';
import { buildRegister } from '../../shared/binfmt/register';
import type { ElfInfo } from '../../shared/elf';
import { emptyRecord, type ArchwayRecord } from '../../shared/record';
import { buildStatus, catalogRule, type RawStatus, type Status } from '../../shared/status';

const X86_64_HEADER = hexToBytes('7f454c4602010100000000000000000003003e00010000000000000000000000');
const HOST_ELF: ElfInfo = { class: 64, endian: 'little', type: 3, machine: 62, dynamic: true };
const STATIC_QEMU = { exists: true, regular: true, uid: 0, mode: 0o100755, elf: { class: 64, endian: 'little', type: 3, machine: 62, dynamic: false } } as const;

export const AARCH64_EMU = '/usr/libexec/qemu-binfmt/aarch64-binfmt-P';
export const S390X_EMU = '/usr/bin/qemu-s390x-static';

type Rule = ReturnType<typeof catalogRule>;

function entryText(rule: Rule, enabled: boolean): string {
  return `${enabled ? 'enabled' : 'disabled'}\ninterpreter ${rule.interpreter}\nflags: ${rule.flags}\noffset 0\nmagic ${rule.magic}\nmask ${rule.mask}\n`;
}

export interface FixtureHandler {
  cpu: string;
  interpreter: string;
  flags: string;
  enabled?: boolean;
  /** Recorded as installed by Archway. */
  archway?: boolean;
  name?: string;
}

/** `vanished`: handlers Archway recorded as installed that are not in the kernel (a flush, a reboot). */
export function makeStatus(handlers: FixtureHandler[] = [], opts: { vanished?: FixtureHandler[] } = {}): Status {
  const record: ArchwayRecord = emptyRecord();
  for (const h of opts.vanished ?? []) {
    const rule = { ...catalogRule(h.cpu, h.interpreter, h.flags), ...(h.name ? { name: h.name } : {}) };
    record.handlers[rule.name] = { cpu: h.cpu, register: buildRegister(rule), source: 'distro', installedAt: '2025-01-01T00:00:00Z', installedBy: 1000, persist: false };
  }
  const entries: RawStatus['entries'] = [];
  const interpreters: RawStatus['interpreters'] = {};
  handlers.forEach((h, i) => {
    const rule = { ...catalogRule(h.cpu, h.interpreter, h.flags), ...(h.name ? { name: h.name } : {}) };
    entries.push({ name: rule.name, text: entryText(rule, h.enabled ?? true), seq: 100 + i });
    interpreters[h.interpreter] = { path: h.interpreter, ...STATIC_QEMU };
    if (h.archway) {
      record.handlers[rule.name] = { cpu: h.cpu, register: buildRegister(rule), source: 'distro', installedAt: '2025-01-01T00:00:00Z', installedBy: 1000, persist: false };
    }
  });
  const raw: RawStatus = {
    mount: { path: '/proc/sys/fs/binfmt_misc', mounted: true },
    globalEnabled: true,
    entries,
    interpreters,
    hostMachine: 'x86_64',
    hostHeader: X86_64_HEADER,
    binfmtd: [],
    binfmtSupport: [],
    record,
    available: {
      aarch64: [{ path: AARCH64_EMU, source: 'distro', version: '7.2.13' }],
      s390x: [{ path: S390X_EMU, source: 'distro', version: '7.2.13' }],
      riscv64: [{ path: '/usr/bin/qemu-riscv64-static', source: 'distro' }],
    },
  };
  // What the planner would answer for each CPU with an emulator (status readiness; electron/core/snapshot.ts reads it for real).
  raw.install = Object.fromEntries(
    Object.entries(raw.available).map(([cpu, list]) => [cpu, { ok: true, interpreter: list![0]!.path, flags: 'F', source: 'distro', changed: true }]),
  );
  return buildStatus(raw, HOST_ELF);
}

/** arm64 installed by Archway (ready), s390x registered by another tool (docker-binfmt guess). */
export function mixedStatus(): Status {
  return makeStatus([
    { cpu: 'aarch64', interpreter: AARCH64_EMU, flags: 'PF', archway: true },
    { cpu: 's390x', interpreter: '/usr/bin/qemu-s390x', flags: 'F' },
  ]);
}
