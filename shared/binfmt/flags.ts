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

/** Kernel display order in /proc entries: P, O, C, F. */
const ORDER: readonly FlagLetter[] = ['P', 'O', 'C', 'F'];

export class FlagError extends Error {
  readonly code = 'invalid-flags';
}

/**
 * Canonical form of a flag string: unique letters in kernel order, with C implying O (the kernel
 * sets both). Throws FlagError on anything but P, O, C, F.
 */
export function normaliseFlags(flags: string): FlagString {
  const set = new Set<FlagLetter>();
  for (const ch of flags) {
    if (ch !== 'P' && ch !== 'O' && ch !== 'C' && ch !== 'F') {
      throw new FlagError(`unknown flag "${ch === '\n' ? '\\n' : ch}": binfmt_misc knows only P, O, C and F`);
    }
    set.add(ch);
  }
  if (set.has('C')) set.add('O');
  return ORDER.filter((l) => set.has(l)).join('');
}

export function decodeFlags(flags: string): FlagInfo[] {
  return [...normaliseFlags(flags)].map((l) => FLAG_INFO[l as FlagLetter]);
}
