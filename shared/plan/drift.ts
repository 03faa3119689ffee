/**
 * The single definition of drift: where Archway's record, its boot-time files and the kernel
 * disagree. Status shows it, the helper's start-up repair fixes what is Archway's to fix (the
 * journal, its persist files) and reports the rest. Pure.
 */
import { parseRegister, sameRule, type Rule } from '../binfmt/register';
import type { ArchwayRecord } from '../record';
import type { BinfmtdRule } from '../status';

export interface Drift {
  name: string;
  kind: 'pending' | 'not-in-kernel' | 'kernel-differs' | 'persist-file';
  message: string;
  fix: string;
}

export interface DriftFacts {
  record: ArchwayRecord;
  /** binfmt.d rules in effect; those Archway wrote carry `archway: true`. */
  binfmtd: readonly BinfmtdRule[];
  /** The kernel's entries by name (undefined: absent); null when binfmt_misc is not mounted. */
  kernel: ReadonlyMap<string, Rule> | null;
  /** Where binfmt_misc is (for the words). */
  binfmtPath: string;
}

function parse(register: string): Rule | undefined {
  try {
    return parseRegister(register);
  } catch {
    return undefined;
  }
}

export function recordDrift(f: DriftFacts): Drift[] {
  const out: Drift[] = [];
  for (const p of f.record.pending ?? []) {
    out.push({ name: p.name, kind: 'pending', message: `an ${p.op} of ${p.name} was interrupted (${p.startedAt})`, fix: 'the next change through Archway settles it' });
  }
  for (const [name, h] of Object.entries(f.record.handlers)) {
    const want = parse(h.register);
    const now = f.kernel?.get(name);
    if (!now) {
      out.push({
        name,
        kind: 'not-in-kernel',
        message: `${name} is in Archway's record but not registered${f.kernel ? '' : ` (binfmt_misc is not mounted at ${f.binfmtPath})`}`,
        fix: `archway install ${h.cpu} registers it again; archway uninstall ${h.cpu} forgets it`,
      });
    } else if (!want || !sameRule(now, want)) {
      out.push({ name, kind: 'kernel-differs', message: `${name} was changed outside Archway since Archway installed it`, fix: `archway install ${h.cpu} puts Archway's rule back; archway uninstall ${h.cpu} removes it` });
    }
    const file = f.binfmtd.find((b) => b.rule.name === name && b.archway);
    if (h.persist && (!file || !want || !sameRule(file.rule, want))) {
      out.push({ name, kind: 'persist-file', message: `${name} should come back after reboot, but its boot-time file is missing or differs`, fix: 'the next change through Archway rewrites it' });
    } else if (!h.persist && file) {
      out.push({ name, kind: 'persist-file', message: `${file.file} keeps ${name} after reboot although Archway's record says it should not`, fix: 'the next change through Archway removes it' });
    }
  }
  for (const b of f.binfmtd) {
    if (b.archway && !f.record.handlers[b.rule.name]) {
      out.push({ name: b.rule.name, kind: 'persist-file', message: `${b.file} was written by Archway for ${b.rule.name}, which Archway no longer manages`, fix: 'the next change through Archway removes it' });
    }
  }
  return out;
}
