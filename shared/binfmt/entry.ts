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
/** The lines read after the first, by the word they start with ("flags:" with its colon), tried in this order. */
const FIELD_KEYS = ['interpreter', 'flags', 'offset', 'magic', 'mask', 'extension'] as const;
const FIELD_WORDS = ['interpreter', 'flags:', 'offset', 'magic', 'mask', 'extension'];

/**
 * One line text[start, end) into `fields`: a known word, one optional space, the rest (a later line
 * of the same word wins). A line with a carriage return or U+2028/U+2029 is ignored, as the regular
 * expression `^(interpreter|flags:|…) ?(.*)$` this replaces ignored it (`.` matches none of them).
 */
function fieldOf(text: string, start: number, end: number, fields: Partial<Record<(typeof FIELD_KEYS)[number], string>>): void {
  for (let k = 0; k < FIELD_WORDS.length; k++) {
    const word = FIELD_WORDS[k]!;
    if (!text.startsWith(word, start) || start + word.length > end) continue;
    let from = start + word.length;
    if (from < end && text.charCodeAt(from) === 0x20) from++;
    const value = text.slice(from, end);
    if (value.includes('\r') || value.includes('\u2028') || value.includes('\u2029')) return;
    fields[FIELD_KEYS[k]!] = value;
    return;
  }
}

export function parseProcEntry(name: string, text: string): ProcEntry {
  // Line by line with indexOf, not split/regex/Map: status parses every entry of the table (40 and
  // more) in code that runs once per process (entry.spec.ts holds it to the regex definition).
  let state: string | undefined;
  const fields: Partial<Record<(typeof FIELD_KEYS)[number], string>> = {};
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start) {
      if (state === undefined) state = text.slice(start, end);
      else fieldOf(text, start, end, fields);
    }
    start = end + 1;
  }
  if (state !== 'enabled' && state !== 'disabled') {
    throw new EntryParseError(`${name}: first line is "${state ?? ''}", expected enabled or disabled`);
  }
  const interpreter = fields.interpreter;
  if (interpreter === undefined) throw new EntryParseError(`${name}: no interpreter line`);
  const flags = normaliseFlags(fields.flags ?? '');
  const ext = fields.extension;
  if (ext !== undefined) {
    return {
      name,
      enabled: state === 'enabled',
      rule: { name, type: 'E', extension: ext.startsWith('.') ? ext.slice(1) : ext, interpreter, flags },
    };
  }
  const magic = fields.magic;
  if (magic === undefined || !/^([0-9a-f]{2})+$/.test(magic)) throw new EntryParseError(`${name}: no magic line`);
  const mask = fields.mask ?? '';
  return {
    name,
    enabled: state === 'enabled',
    rule: {
      name,
      type: 'M',
      offset: Number(fields.offset ?? '0'),
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
