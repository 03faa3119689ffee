/**
 * The install decisions, pure: which flags (F required, C only by opt-in, P exactly with a
 * *-binfmt-P wrapper, a recorded handler keeps what was recorded), and what happens to an entry
 * already in the kernel (Archway's: replace when it differs; another tool's: refuse, or take over
 * and remember it; WSL's: never). The helper's install and drop-c call these with what it read.
 */
import { defaultFlags, F_REQUIRED, lacksF, normaliseFlags, SETUID_RISK } from '../binfmt/flags';
import { buildRegister, sameRule, type Rule } from '../binfmt/register';
import { ArchwayError } from '../helper-protocol';
import type { HandlerRecord } from '../record';
import { isNeverTouch } from './rules';

export interface FlagRequest {
  cpu: string;
  /** Flags the caller named, if any. */
  requested?: string;
  allowSetuid: boolean;
  /** Flags of the handler Archway recorded, when it is re-installed as it was. */
  recorded?: string;
  /** The chosen emulator is a Debian *-binfmt-P wrapper. */
  preserveArgv0: boolean;
  interpreter: string;
}

/** The flags to register, or a bad-flags refusal that says what to do. */
export function decideFlags(r: FlagRequest): string {
  if (r.requested !== undefined && r.requested.includes('C') && !r.allowSetuid) {
    throw new ArchwayError('bad-flags', `flag C needs the explicit setuid opt-in: ${SETUID_RISK}`, `If you accept that: archway install ${r.cpu} --allow-setuid`);
  }
  let flags = r.recorded !== undefined ? r.recorded : r.requested === undefined ? defaultFlags(r.preserveArgv0, r.allowSetuid) : r.requested;
  if (r.recorded !== undefined && r.allowSetuid) flags = `${flags}C`;
  flags = normaliseFlags(flags);
  if (lacksF(flags)) {
    throw new ArchwayError('bad-flags', `flags "${flags || 'none'}" lack F: ${F_REQUIRED}`, `Add F: archway install ${r.cpu} --flags ${normaliseFlags(`${flags}F`)}`);
  }
  if (flags.includes('P') && !r.preserveArgv0) {
    throw new ArchwayError(
      'bad-flags',
      `flag P needs an emulator that expects argv[0] to be preserved; ${r.interpreter} does not`,
      'Drop P, or use Debian\'s /usr/libexec/qemu-binfmt/<cpu>-binfmt-P wrapper (source distro).',
    );
  }
  if (!flags.includes('P') && r.preserveArgv0) {
    throw new ArchwayError('bad-flags', `${r.interpreter} expects flag P (it is a *-binfmt-P wrapper)`, 'Keep P in the flags, or pick /usr/bin/qemu-*-static.');
  }
  return flags;
}

export interface ExistingDecision {
  replace: boolean;
  previous?: HandlerRecord['previous'];
  warnings: string[];
}

/**
 * What to do with the entry of the same name already in the kernel (if any), before writing `rule`.
 * `ownerWords` names its owner (shared/plan/owner.ts) for the refusal and the take-over record.
 */
export function decideExisting(a: {
  cpu: string;
  rule: Rule;
  existing: { rule: Rule; enabled: boolean } | undefined;
  owned: HandlerRecord | undefined;
  takeOver: boolean;
  ownerWords: () => string;
}): ExistingDecision {
  const { existing, owned, rule } = a;
  if (!existing) return { replace: false, warnings: [] };
  if (isNeverTouch(rule.name)) throw new ArchwayError('never-touch', `${rule.name} belongs to WSL and is never changed`);
  if (owned) return { replace: !sameRule(existing.rule, rule) || !existing.enabled, ...(owned.previous ? { previous: owned.previous } : {}), warnings: [] };
  const owner = a.ownerWords();
  if (!a.takeOver) {
    throw new ArchwayError(
      'not-owned',
      `${rule.name} is already registered by ${owner} (interpreter ${existing.rule.interpreter}, flags ${existing.rule.flags || 'none'}); Archway leaves it alone`,
      `To replace it with Archway's (and restore theirs on uninstall): archway install ${a.cpu} --take-over`,
    );
  }
  return {
    replace: true,
    previous: { register: buildRegister(existing.rule), owner },
    warnings: [`takes over ${rule.name} from ${owner}; uninstalling it later restores theirs${existing.rule.flags.includes('C') && !rule.flags.includes('C') ? ' (with C)' : ''}`],
  };
}
