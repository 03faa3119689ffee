/**
 * fast-check generators of binfmt_misc register strings and rules, shared by the codec fuzz spec
 * (shared/binfmt/register.fuzz.spec.ts) and the kernel-agreement test (kernel-agreement.test.ts).
 */
import fc from 'fast-check';
import { buildRegister, type Rule } from '../../shared/binfmt/register';
import { CATALOG } from '../../shared/arch/catalog';
import { catalogRule } from '../../shared/status';

export const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
export const nameChar = fc.constantFrom(...PRINTABLE.filter((c) => c !== ':' && c !== '/'));
export const interpChar = fc.constantFrom(...PRINTABLE.filter((c) => c !== ':'));
export const hexBytes = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('hex'));

export const arbName = fc
  .string({ unit: nameChar, minLength: 1, maxLength: 64 })
  .filter((n) => !['register', 'status', '.', '..'].includes(n));
export const arbInterpreter = fc.oneof(
  fc.string({ unit: interpChar, minLength: 1, maxLength: 127 }),
  fc.constantFrom('/usr/bin/qemu-aarch64-static', '/usr/libexec/qemu-binfmt/s390x-binfmt-P', '/x'),
);
export const arbFlags = fc.array(fc.constantFrom('P', 'O', 'C', 'F'), { maxLength: 6 }).map((a) => a.join(''));

export const arbMagicRule: fc.Arbitrary<Rule> = fc
  .record({ name: arbName, offset: fc.integer({ min: 0, max: 127 }), interpreter: arbInterpreter, flags: arbFlags, withMask: fc.boolean(), seed: fc.uint8Array({ minLength: 256, maxLength: 256 }) })
  .chain(({ offset, seed, ...r }) =>
    fc.integer({ min: 1, max: 128 - offset }).map((size) => ({
      ...r,
      type: 'M' as const,
      offset,
      magic: Buffer.from(seed.subarray(0, size)).toString('hex'),
      mask: r.withMask ? Buffer.from(seed.subarray(128, 128 + size)).toString('hex') : '',
    })),
  )
  .map(({ withMask: _w, ...r }) => r);

export const arbExtChar = fc.constantFrom(...PRINTABLE.filter((c) => c !== ':' && c !== '/'));
export const arbExtRule: fc.Arbitrary<Rule> = fc.record({
  name: arbName,
  type: fc.constant('E' as const),
  extension: fc.string({ unit: arbExtChar, minLength: 1, maxLength: 32 }),
  interpreter: arbInterpreter,
  flags: arbFlags,
});

export const arbCatalogRule: fc.Arbitrary<Rule> = fc
  .record({ cpu: fc.constantFrom(...CATALOG.map((c) => c.cpu)), interpreter: arbInterpreter, flags: arbFlags })
  .map(({ cpu, interpreter, flags }) => catalogRule(cpu, interpreter, flags));

export const arbValidRule = fc.oneof(arbMagicRule, arbExtRule, arbCatalogRule);

/** Tokens that have broken parsers of this format before (escapes, delimiters, non-ASCII…). */
export const NASTY = [
  '', ':', '::', '/', '.', '..', '\\', '\\x', '\\x4', '\\x41', '\\xZZ', '\\X41', '\\x3a', '\n', '\r', '\0', '\t', ' ',
  'register', 'status', 'M', 'E', 'm', 'P', 'F', 'CF', 'POCF', 'POCFX', 'FF', '+1', '-1', '0', '007', '128', '256',
  '4294967296', '1e3', '0x10', ' 1', 'é', '€', '😀', '\u00ff', '\u0100', '\ud800', 'A'.repeat(200), '\\x00'.repeat(130),
];
export const arbJunk = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom('\\', 'x', '4', 'f', 'F', ':', '|', '0'), maxLength: 12 }),
);

/** A valid string with one field replaced, or the delimiter changed, or one character mutated. */
export const arbNearValid: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(arbValidRule, fc.integer({ min: 0, max: 6 }), arbJunk).map(([rule, field, junk]) => {
    const parts = buildRegister(rule).slice(1).split(':');
    parts[field] = junk;
    return `:${parts.join(':')}`;
  }),
  fc.tuple(arbValidRule, fc.oneof(fc.constantFrom('|', '#', ',', 'x', 'a', '1', '\\', ' ', '\n', 'é', '€', '\0', 'M'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }))).map(
    ([rule, del]) => `${del}${buildRegister(rule).slice(1).split(':').join(del)}`,
  ),
  fc.tuple(arbValidRule, fc.nat(), fc.string({ unit: 'binary', maxLength: 3 }), fc.nat({ max: 3 })).map(([rule, at, ins, del]) => {
    const s = buildRegister(rule);
    const i = at % (s.length + 1);
    return s.slice(0, i) + ins + s.slice(i + del);
  }),
  fc.tuple(arbValidRule, fc.constantFrom('\n', '\n\n', ' ', '\0', 'X', ':', ':F')).map(([rule, tail]) => buildRegister(rule) + tail),
);

export const arbOversized: fc.Arbitrary<string> = fc
  .tuple(arbValidRule, fc.integer({ min: 1900, max: 2100 }), fc.integer({ min: 0, max: 3 }))
  .map(([rule, len, field]) => {
    const parts = buildRegister(rule).slice(1).split(':');
    const s0 = `:${parts.join(':')}`;
    const pad = Math.max(0, len - s0.length);
    parts[[0, 3, 5, 4][field]!] += field === 1 || field === 3 ? '\\xff'.repeat(Math.ceil(pad / 4)) : 'a'.repeat(pad);
    return `:${parts.join(':')}`;
  });

export const arbAnyString = fc.oneof(
  { weight: 5, arbitrary: arbNearValid },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(':', 'M', 'E', '\\', 'x', '7', 'f', '/', 'a', 'F', 'C', '\n', '0', '1'), minLength: 8, maxLength: 60 }) },
  { weight: 1, arbitrary: arbOversized },
);

