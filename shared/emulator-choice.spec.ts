/**
 * What the Detail view offers a handler: every other stored version and the distribution's, and
 * *Use previous* — the emulator Archway recorded before the last `emulators use`, not just the newest
 * other entry (the two differ after a switch to the distribution's: previous is the store entry it
 * left, newest-other may be another one).
 */
import { describe, expect, it } from 'vitest';
import { buildRegister } from './binfmt/register';
import type { ElfInfo } from './elf';
import { emulatorChoices, previousChoice } from './emulator-choice';
import { buildStatus, catalogRule, type RawStatus } from './status';

const HOST_ELF: ElfInfo = { class: 64, endian: 'little', type: 3, machine: 62, dynamic: true };
const HEADER = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1, 0, 0, 0]);
const STORE = '/var/lib/archway/emulators';
const OLD = '1'.repeat(64);
const NEW = '2'.repeat(64);
const WRAPPER = '/usr/libexec/qemu-binfmt/aarch64-binfmt-P';
const at = (s: string) => `${STORE}/${s}/qemu-aarch64`;

function status(interpreter: string, flags: string, usedBefore?: string) {
  const rule = catalogRule('aarch64', interpreter, flags);
  const raw: RawStatus = {
    mount: { path: '/proc/sys/fs/binfmt_misc', mounted: true },
    globalEnabled: true,
    entries: [{ name: 'qemu-aarch64', seq: 1, text: `enabled\ninterpreter ${interpreter}\nflags: ${flags}\noffset 0\nmagic ${rule.magic}\nmask ${rule.mask}\n` }],
    interpreters: {},
    hostMachine: 'x86_64',
    hostHeader: HEADER,
    binfmtd: [],
    binfmtSupport: [],
    record: { version: 1, handlers: { 'qemu-aarch64': { cpu: 'aarch64', register: buildRegister(rule), source: 'distro', installedAt: 'x', installedBy: 0, persist: false, ...(usedBefore ? { usedBefore } : {}) } } },
    available: {
      aarch64: [
        { path: WRAPPER, source: 'distro', version: '7.2+dfsg-7' },
        { path: at(NEW), source: 'store', sha256: NEW, version: '9.2.0' },
        { path: at(OLD), source: 'store', sha256: OLD, version: '8.1.5' },
      ],
    },
    emulatorVersions: { distro: '7.2+dfsg-7', storeDir: STORE, storeVersions: { [`${NEW}/qemu-aarch64`]: '9.2.0', [`${OLD}/qemu-aarch64`]: '8.1.5' } },
  };
  return buildStatus(raw, HOST_ELF);
}

describe('emulator choices', () => {
  it('offers every stored version and the distribution, marks the current one and the known regressions', () => {
    const c = emulatorChoices(status(at(OLD), 'F'), 'aarch64');
    expect(c.map((x) => [x.emulator, x.current, x.regressed])).toEqual([
      [{ sha256: NEW }, false, true],
      [{ sha256: OLD }, true, false],
      ['distro', false, false],
    ]);
  });
  it('Use previous goes back to what the handler ran before the last switch', () => {
    // On the distribution's after switching away from OLD: previous is OLD, not the newest (NEW).
    expect(previousChoice(status(WRAPPER, 'PF', at(OLD)), 'aarch64')?.emulator).toEqual({ sha256: OLD });
    // On OLD after switching away from the distribution's static emulator: previous is the distribution's.
    expect(previousChoice(status(at(OLD), 'F', '/usr/bin/qemu-aarch64-static'), 'aarch64')?.emulator).toBe('distro');
    // Nothing recorded: the newest other stored version.
    expect(previousChoice(status(WRAPPER, 'PF'), 'aarch64')?.emulator).toEqual({ sha256: NEW });
  });
});
