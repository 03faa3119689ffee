// parseProcEntry scans lines with indexOf; it must read every text exactly as the regular-expression
// definition below (the one it replaced) reads it: the same entry, or the same error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseFlags } from './flags';
import { parseProcEntry, type ProcEntry } from './entry';

function byRegex(name: string, text: string): ProcEntry {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const state = lines[0];
  if (state !== 'enabled' && state !== 'disabled') throw new Error(`${name}: first line is "${state ?? ''}", expected enabled or disabled`);
  const fields = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const m = /^(interpreter|flags:|offset|magic|mask|extension) ?(.*)$/.exec(line);
    if (m) fields.set(m[1]!.replace(':', ''), m[2]!);
  }
  const interpreter = fields.get('interpreter');
  if (interpreter === undefined) throw new Error(`${name}: no interpreter line`);
  const flags = normaliseFlags(fields.get('flags') ?? '');
  const ext = fields.get('extension');
  if (ext !== undefined) return { name, enabled: state === 'enabled', rule: { name, type: 'E', extension: ext.startsWith('.') ? ext.slice(1) : ext, interpreter, flags } };
  const magic = fields.get('magic');
  if (magic === undefined || !/^([0-9a-f]{2})+$/.test(magic)) throw new Error(`${name}: no magic line`);
  return { name, enabled: state === 'enabled', rule: { name, type: 'M', offset: Number(fields.get('offset') ?? '0'), magic, mask: fields.get('mask') ?? '', interpreter, flags } };
}

const outcome = (f: () => ProcEntry): ProcEntry | string => {
  try {
    return f();
  } catch (err) {
    return `throws: ${(err as Error).message}`;
  }
};

describe('parseProcEntry reads as the regular-expression definition', () => {
  it('on texts made of the words, separators and characters that matter', () => {
    const token = fc.constantFrom('enabled', 'disabled', 'interpreter', 'flags:', 'flags', 'offset', 'magic', 'mask', 'extension', ' ', '  ', '\n', '\n\n', '\r', '\u2028', '/usr/bin/qemu-arm', '0', '12', 'ff', '7f454c46', 'fffffffe', '.jar', 'PF', 'OCF', 'x');
    fc.assert(
      fc.property(fc.array(token, { maxLength: 24 }), (tokens) => {
        const text = tokens.join('');
        expect(outcome(() => parseProcEntry('t', text))).toEqual(outcome(() => byRegex('t', text)));
      }),
      { numRuns: 20000 },
    );
  });
  it('on what the kernel prints', () => {
    for (const text of [
      'enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: PF\noffset 0\nmagic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n',
      'disabled\ninterpreter /usr/bin/jexec\nflags: \nextension .jar\n',
      'enabled\ninterpreter /usr/bin/python3\nflags: \noffset 0\nmagic a70d0d0a\n',
    ]) {
      expect(parseProcEntry('k', text)).toEqual(byRegex('k', text));
    }
  });
});
