/**
 * The single definition of who owns a binfmt_misc entry, in this order: WSL (never touched),
 * Rosetta, Archway (its record), Debian binfmt-support, systemd-binfmt (a binfmt.d file with the same
 * rule), a tonistiigi/binfmt-shaped guess, unknown. Status shows it; the helper names it in refusals
 * and in a take-over's record. Pure.
 */
import { parseRegister, sameRule, type Rule } from '../binfmt/register';
import type { ArchwayRecord } from '../record';
import type { BinfmtdRule } from '../status';
import { isNeverTouch } from './rules';

export type OwnerKind = 'archway' | 'systemd' | 'binfmt-support' | 'wsl' | 'rosetta' | 'docker-binfmt' | 'unknown';

export interface Owner {
  kind: OwnerKind;
  /** Human words: "systemd-binfmt, /usr/lib/binfmt.d/qemu-aarch64.conf". */
  detail: string;
  /** True when attribution is a guess from the shape of the entry. */
  guess?: boolean;
}

/** What attribution reads: the record, the binfmt.d rules in effect, binfmt-support's names. */
export interface OwnerFacts {
  record: ArchwayRecord;
  binfmtd: readonly BinfmtdRule[];
  binfmtSupport: readonly { name: string; package?: string }[];
}

export function attributeOwner(name: string, rule: Rule, raw: OwnerFacts): { owner: Owner; persistent: boolean; persistFile?: string; drift?: string } {
  const fileRule = raw.binfmtd.find((b) => b.rule.name === name);
  const persistent = !!fileRule && sameRule(fileRule.rule, rule);
  const persistFile = persistent ? fileRule!.file : undefined;
  const base = { persistent, ...(persistFile ? { persistFile } : {}) };
  if (isNeverTouch(name)) return { owner: { kind: 'wsl', detail: 'Windows Subsystem for Linux interop' }, ...base };
  if (/rosetta/i.test(name) || /rosetta/i.test(rule.interpreter)) {
    return { owner: { kind: 'rosetta', detail: 'Rosetta for Linux (Apple virtualization)' }, ...base };
  }
  const rec = raw.record.handlers[name];
  if (rec) {
    let drift: string | undefined;
    try {
      if (!sameRule(parseRegister(rec.register), rule)) drift = 'changed outside Archway since Archway installed it';
    } catch {
      drift = 'Archway\'s record of it is unreadable';
    }
    return { owner: { kind: 'archway', detail: `Archway (${rec.source} emulator)` }, ...base, ...(drift ? { drift } : {}) };
  }
  const bs = raw.binfmtSupport.find((b) => b.name === name);
  if (bs) {
    return { owner: { kind: 'binfmt-support', detail: `Debian binfmt-support${bs.package ? `, package ${bs.package}` : ''}` }, ...base };
  }
  if (fileRule && persistent) return { owner: { kind: 'systemd', detail: `systemd-binfmt, ${fileRule.file}` }, ...base };
  if (/^qemu-/.test(name) && rule.type === 'M' && /^\/usr\/bin\/qemu-[a-z0-9_]+$/.test(rule.interpreter) && rule.flags.includes('F')) {
    return {
      owner: { kind: 'docker-binfmt', detail: 'probably `docker run --privileged tonistiigi/binfmt --install`', guess: true },
      ...base,
    };
  }
  if (fileRule) {
    return { owner: { kind: 'unknown', detail: `unknown (${fileRule.file} declares ${name} differently)` }, ...base };
  }
  return { owner: { kind: 'unknown', detail: 'unknown (no binfmt.d file, binfmt-support entry or Archway record)' }, ...base };
}
