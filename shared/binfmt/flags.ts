/** binfmt_misc flags: what each letter does, in words a user can act on. Pure. */

export type FlagLetter = 'P' | 'O' | 'C' | 'F';
/** A string of flag letters, e.g. "FC". */
export type FlagString = string;

export interface FlagInfo {
  letter: FlagLetter;
  name: string;
  explain: string;
}

export const FLAG_INFO: Readonly<Record<FlagLetter, FlagInfo>> = {
  F: {
    letter: 'F',
    name: 'fix-binary',
    explain:
      'The kernel opens the emulator once, at registration, and keeps it: works in every container and chroot, even after the file is deleted.',
  },
  C: {
    letter: 'C',
    name: 'credentials',
    explain:
      'Credentials come from the program, not the emulator, so setuid programs (sudo) in foreign images work. Implies O.',
  },
  O: {
    letter: 'O',
    name: 'open-binary',
    explain: 'The kernel opens the program and hands the emulator a file descriptor, so unreadable (execute-only) programs run.',
  },
  P: {
    letter: 'P',
    name: 'preserve-argv0',
    explain:
      'The program keeps its own argv[0] (busybox-style multi-call programs work). Needs an emulator that expects it (Debian\'s *-binfmt-P).',
  },
};

/**
 * The one sentence that names flag C's risk, shown wherever C is chosen (plan, dialog, status,
 * probe diagnosis, README). Tested by test/kernel/setuid-risk.test.ts.
 */
export const SETUID_RISK =
  'With flag C, setuid-root foreign programs run QEMU as root, and QEMU reads QEMU_* variables such as QEMU_LOG_FILENAME from the unprivileged caller, so any local user who can run such a program can create root-owned files.';

/** A risk a plan or a handler carries: typed for code, with its one sentence for people. */
export type RiskId = 'setuid-credentials';
export interface Risk {
  id: RiskId;
  message: string;
}
export const SETUID_RISK_MARKER: Risk = { id: 'setuid-credentials', message: SETUID_RISK };

/**
 * Archway's default flags: F always (the emulator is opened once, at registration, so containers
 * and chroots cannot substitute their own), P only with an emulator that expects it (Debian's
 * *-binfmt-P wrappers), and C only when the caller explicitly opted in (see SETUID_RISK).
 */
export function defaultFlags(preserveArgv0: boolean, allowSetuid = false): FlagString {
  return normaliseFlags(`${preserveArgv0 ? 'P' : ''}F${allowSetuid ? 'C' : ''}`);
}

/** F is required for every handler Archway writes: without it the emulator is looked up at each exec, inside whatever root the program runs in. */
export function lacksF(flags: string): boolean {
  return !flags.includes('F');
}
export const F_REQUIRED =
  'without F the kernel looks the emulator up at every start, inside whatever root filesystem the program runs in, so a container or chroot supplies its own "emulator" (with C, run as root)';

/** Remove C (and nothing else): what Drop C registers. */
export function withoutC(flags: string): FlagString {
  return normaliseFlags(flags.replace(/C/g, ''));
}

/** Kernel display order in /proc entries: P, O, C, F. */
const ORDER: readonly FlagLetter[] = ['P', 'O', 'C', 'F'];

export class FlagError extends Error {
  readonly code = 'invalid-flags';
}

/** Answers already given (a status or plan asks for the same few flag strings hundreds of times). */
const NORMALISED = new Map<string, FlagString>();

/**
 * Canonical form of a flag string: unique letters in kernel order, with C implying O (the kernel
 * sets both). Throws FlagError on anything but P, O, C, F.
 */
export function normaliseFlags(flags: string): FlagString {
  const known = NORMALISED.get(flags);
  if (known !== undefined) return known;
  let bits = 0;
  for (let i = 0; i < flags.length; i++) {
    const at = ORDER.indexOf(flags[i] as FlagLetter);
    if (at < 0) {
      const ch = String.fromCodePoint(flags.codePointAt(i)!); // the whole character, also outside the BMP
      throw new FlagError(`unknown flag "${ch === '\n' ? '\\n' : ch}": binfmt_misc knows only P, O, C and F`);
    }
    bits |= 1 << at;
  }
  if (bits & (1 << ORDER.indexOf('C'))) bits |= 1 << ORDER.indexOf('O');
  let out = '';
  for (let i = 0; i < ORDER.length; i++) if (bits & (1 << i)) out += ORDER[i];
  if (NORMALISED.size < 64) NORMALISED.set(flags, out); // valid flag strings only; bounded
  return out;
}

export function decodeFlags(flags: string): FlagInfo[] {
  return [...normaliseFlags(flags)].map((l) => FLAG_INFO[l as FlagLetter]);
}
