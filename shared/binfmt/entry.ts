/** Parse one /proc/sys/fs/binfmt_misc/<name> file. Pure. */
import { normaliseFlags } from './flags';
import type { Rule } from './register';

export interface ProcEntry {
  name: string;
  enabled: boolean;
  rule: Rule;
}

export class EntryParseError extends Error {
  readonly code = 'bad-entry';
}

/**
 * The kernel prints:
 *   enabled|disabled
 *   interpreter <path>
 *   flags: <letters>
 *   offset <n> / magic <hex> / mask <hex>      (magic entries; mask only when set)
 *   extension .<ext>                            (extension entries)
 */
export function parseProcEntry(name: string, text: string): ProcEntry {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const state = lines[0];
  if (state !== 'enabled' && state !== 'disabled') {
    throw new EntryParseError(`${name}: first line is "${state ?? ''}", expected enabled or disabled`);
  }
  const fields = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const m = /^(interpreter|flags:|offset|magic|mask|extension) ?(.*)$/.exec(line);
    if (m) fields.set(m[1]!.replace(':', ''), m[2]!);
  }
  const interpreter = fields.get('interpreter');
  if (interpreter === undefined) throw new EntryParseError(`${name}: no interpreter line`);
  const flags = normaliseFlags(fields.get('flags') ?? '');
  const ext = fields.get('extension');
  if (ext !== undefined) {
    return {
      name,
      enabled: state === 'enabled',
      rule: { name, type: 'E', extension: ext.startsWith('.') ? ext.slice(1) : ext, interpreter, flags },
    };
  }
  const magic = fields.get('magic');
  if (magic === undefined || !/^([0-9a-f]{2})+$/.test(magic)) throw new EntryParseError(`${name}: no magic line`);
  const mask = fields.get('mask') ?? '';
  return {
    name,
    enabled: state === 'enabled',
    rule: {
      name,
      type: 'M',
      offset: Number(fields.get('offset') ?? '0'),
      magic,
      mask,
      interpreter,
      flags,
    },
  };
}

/**
 * What the kernel shows in /proc/sys/fs/binfmt_misc/<name> for `rule` once registered (its
 * entry_status(): the magic as registered, not masked — the x86 rules have bits their mask clears —
 * then the mask; flags in P, O, C, F order; test/kernel/proc-entry-text.test.ts). The inverse
 * of parseProcEntry for Archway's rules. Used where a program other than Archway compares the
 * kernel's text byte for byte (the Kubernetes registration program, shared/kube/manifests.ts).
 */
export function procEntryText(rule: Rule, enabled = true): string {
  const head = `${enabled ? 'enabled' : 'disabled'}\ninterpreter ${rule.interpreter}\nflags: ${normaliseFlags(rule.flags)}\n`;
  if (rule.type === 'E') return `${head}extension .${rule.extension}\n`;
  return `${head}offset ${rule.offset}\nmagic ${rule.magic}\n${rule.mask === '' ? '' : `mask ${rule.mask}\n`}`;
}
