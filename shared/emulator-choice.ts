/**
 * Which emulators a handler can switch to, from status alone (pure; the window's Detail view and any
 * other face use it): every other store entry for its CPU (newest first) and the distribution's, each
 * with its version and whether it is on the known-regressions list; and *Use previous*: the newest
 * other store entry, else the distribution's.
 */
import type { UseEmulator } from './actions';
import { catalogEntry, type Cpu } from './arch/catalog';
import { knownRegressions } from './qemu-regressions';
import { DISTRO_EMULATOR, type Status } from './status';

export interface EmulatorChoice {
  emulator: UseEmulator;
  label: string;
  path: string;
  version?: string;
  reported?: string;
  /** On shared/qemu-regressions.ts for this CPU. */
  regressed: boolean;
  current: boolean;
}

export function emulatorChoices(status: Status, cpu: Cpu): EmulatorChoice[] {
  const h = status.handlers.find((x) => x.name === catalogEntry(cpu)?.handlerName);
  const a = status.archs.find((x) => x.cpu === cpu);
  if (!a) return [];
  const out: EmulatorChoice[] = [];
  for (const e of a.available) {
    if (e.source === 'store' && e.sha256) {
      out.push({
        emulator: { sha256: e.sha256 },
        label: `QEMU ${e.version ?? '(version unknown)'} — store, sha256 ${e.sha256.slice(0, 12)}…`,
        path: e.path,
        ...(e.version ? { version: e.version } : {}),
        ...(e.reported ? { reported: e.reported } : {}),
        regressed: knownRegressions(e.version, cpu).length > 0,
        current: h?.emulator.sha256 === e.sha256,
      });
    }
  }
  const distro = a.available.find((e) => e.source === 'distro');
  if (distro) {
    const v = h?.emulator.source === 'distro' ? h.emulator.qemuVersion : distro.version;
    out.push({
      emulator: 'distro',
      label: `the distribution's QEMU${v ? ` ${v}` : ''}`,
      path: distro.path,
      ...(v ? { version: v } : {}),
      regressed: knownRegressions(v, cpu).length > 0,
      current: h?.emulator.source === 'distro',
    });
  }
  return out;
}

/**
 * *Use previous*: the emulator the handler ran before its last `emulators use` (Archway records it),
 * when that is still offered; else the newest store entry other than the current one, else the
 * distribution's (when not current).
 */
export function previousChoice(status: Status, cpu: Cpu): EmulatorChoice | undefined {
  const all = emulatorChoices(status, cpu).filter((c) => !c.current);
  const before = status.handlers.find((x) => x.name === catalogEntry(cpu)?.handlerName)?.emulator.usedBefore;
  const recorded = before ? all.find((c) => c.path === before || (c.emulator === 'distro' && DISTRO_EMULATOR.test(before))) : undefined;
  return recorded ?? all.find((c) => c.emulator !== 'distro') ?? all.find((c) => c.emulator === 'distro');
}
