import { describe, expect, it } from 'vitest';
import { buildRegister, parseRegister, sameRule, unescapeBytes, escapeBytes, RuleError, type Rule } from './register';
import { decodeFlags, normaliseFlags, FlagError } from './flags';
import { parseProcEntry } from './entry';
import { catalogRule } from '../status';

const AARCH64 =
  ':qemu-aarch64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-aarch64-static:OCF';

describe('register codec', () => {
  it('builds the exact string tonistiigi/Debian write for aarch64', () => {
    expect(buildRegister(catalogRule('aarch64', '/usr/bin/qemu-aarch64-static', 'FC'))).toBe(AARCH64);
  });

  it('round-trips every catalog rule', () => {
    for (const cpu of ['aarch64', 'mips', 'mipsn32el', 'loongarch64', 's390x', 'i386']) {
      const r = catalogRule(cpu, `/usr/bin/qemu-${cpu}-static`, 'F');
      const s = buildRegister(r);
      expect(sameRule(parseRegister(s), r)).toBe(true);
      expect(buildRegister(parseRegister(s))).toBe(s);
    }
  });

  it('parses other tools\' strings: literal ELF, other delimiters, offsets, extension rules', () => {
    const deb = parseRegister(':qemu-hexagon:M::\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xa4\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/libexec/qemu-binfmt/hexagon-binfmt-P:OPF');
    expect(deb).toMatchObject({ type: 'M', magic: '7f454c460101010000000000000000000200a400', flags: 'POF' });
    expect(parseRegister('|py|M|2|\\x0d\\x0a||/usr/bin/python3|')).toMatchObject({ name: 'py', offset: 2, magic: '0d0a', mask: '' });
    expect(parseRegister(':jar:E::jar::/usr/bin/jexec:')).toMatchObject({ type: 'E', extension: 'jar' });
    expect(parseRegister(':python3.11:M::\\xa7\\x0d\\x0d\\x0a::/usr/bin/python3.11:\n')).toMatchObject({ magic: 'a70d0d0a' });
  });

  it('every byte of magic and mask is escaped, so no delimiter or newline can hide inside', () => {
    expect(escapeBytes('3a0a5c')).toBe('\\x3a\\x0a\\x5c');
    expect(unescapeBytes('\\x3a\\x0aA')).toBe('3a0a41');
  });

  const bad: [string, Rule | string, RegExp][] = [
    ['empty name', { ...catalogRule('aarch64', '/x', ''), name: '' }, /name: must not be empty/],
    ['dot name', { ...catalogRule('aarch64', '/x', ''), name: '..' }, /reserved/],
    ['register name', { ...catalogRule('aarch64', '/x', ''), name: 'register' }, /reserved/],
    ['slash in name', { ...catalogRule('aarch64', '/x', ''), name: 'a/b' }, /"\/"/],
    ['colon in name', { ...catalogRule('aarch64', '/x', ''), name: 'a:b' }, /":"/],
    ['newline in interpreter', catalogRule('aarch64', '/usr/bin/q\nemu', ''), /control/],
    ['colon in interpreter', catalogRule('aarch64', '/usr/bin/q:emu', ''), /":"/],
    ['interpreter too long', catalogRule('aarch64', `/${'a'.repeat(127)}`, ''), /longer than 127/],
    ['empty interpreter', catalogRule('aarch64', '', ''), /interpreter: must not be empty/],
    ['unknown flag', catalogRule('aarch64', '/x', 'FX'), /unknown flag "X"/],
    ['mask length', { ...catalogRule('aarch64', '/x', ''), mask: 'ff' }, /mask: is 1 bytes but magic is 20/],
    ['window', { ...catalogRule('aarch64', '/x', ''), offset: 120 }, /limit is 128/],
    ['empty magic', { ...catalogRule('aarch64', '/x', ''), magic: '', mask: '' }, /magic/],
    ['too short string', ':a:M::', /kernel accepts 11–1920/],
    ['too long string', `:a:M::${'\\x00'.repeat(600)}::/x:`, /kernel accepts 11–1920|limit is 128/],
    ['bad type', ':abc:Q::\\x7f::/usr/bin/x:', /type: must be "M"/],
    ['missing fields', ':abc:M::\\x7f:/usr/bin/x', /expected 7 fields/],
  ];
  for (const [what, input, msg] of bad) {
    it(`refuses ${what}`, () => {
      const f = () => (typeof input === 'string' ? parseRegister(input) : buildRegister(input));
      expect(f).toThrowError(msg);
      try {
        f();
      } catch (e) {
        expect(e instanceof RuleError || e instanceof FlagError).toBe(true);
      }
    });
  }
});

describe('flags', () => {
  it('normalises to kernel order with C implying O', () => {
    expect(normaliseFlags('FC')).toBe('OCF');
    expect(normaliseFlags('CFP')).toBe('POCF');
    expect(normaliseFlags('FFF')).toBe('F');
    expect(normaliseFlags('')).toBe('');
    expect(() => normaliseFlags('f')).toThrow(FlagError);
  });
  it('explains each flag in one line', () => {
    const d = decodeFlags('POCF');
    expect(d.map((x) => x.letter)).toEqual(['P', 'O', 'C', 'F']);
    expect(d.find((x) => x.letter === 'F')!.explain).toMatch(/every container/);
    expect(d.find((x) => x.letter === 'C')!.explain).toMatch(/sudo/);
  });
});

describe('/proc entry', () => {
  it('parses a magic entry as the kernel prints it', () => {
    const e = parseProcEntry(
      'qemu-aarch64',
      'enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\noffset 0\nmagic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n',
    );
    expect(e).toMatchObject({ enabled: true, rule: { type: 'M', flags: 'POCF', offset: 0, interpreter: '/usr/libexec/qemu-binfmt/aarch64-binfmt-P' } });
    expect(sameRule(e.rule, catalogRule('aarch64', '/usr/libexec/qemu-binfmt/aarch64-binfmt-P', 'PCF'))).toBe(true);
  });
  it('parses extension and disabled entries, and entries without a mask', () => {
    expect(parseProcEntry('jar', 'disabled\ninterpreter /usr/bin/jexec\nflags: \nextension .jar\n')).toMatchObject({
      enabled: false,
      rule: { type: 'E', extension: 'jar' },
    });
    expect(parseProcEntry('py', 'enabled\ninterpreter /usr/bin/python3\nflags: \noffset 0\nmagic a70d0d0a\n').rule).toMatchObject({ mask: '' });
  });
  it('refuses garbage', () => {
    expect(() => parseProcEntry('x', 'hello\n')).toThrow(/expected enabled or disabled/);
    expect(() => parseProcEntry('x', 'enabled\nflags: F\n')).toThrow(/no interpreter/);
  });
});

describe('maskedMagic and hostHeaders, computed once per input (status asks the same questions many times)', () => {
  it('the remembered masked magic belongs to both the magic and the mask', async () => {
    const { maskedMagic } = await import('./register');
    const rule = (mask: string) => ({ name: 'x', type: 'M' as const, offset: 0, magic: '7f454c46ff', mask, interpreter: '/x', flags: '' });
    expect(maskedMagic(rule(''))).toBe('7f454c46ff');
    expect(maskedMagic(rule('ffffffff0f'))).toBe('7f454c460f');
    expect(maskedMagic(rule('ffffffff00'))).toBe('7f454c4600');
    expect(maskedMagic(rule(''))).toBe('7f454c46ff');
  });

  it('host headers are made again for another header or another ELF reading', async () => {
    const { hostHeaders } = await import('../plan/rules');
    const head = new Uint8Array(20);
    head.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    const le = { endian: 'little' } as Parameters<typeof hostHeaders>[1];
    const be = { endian: 'big' } as Parameters<typeof hostHeaders>[1];
    const a = hostHeaders(head, le);
    expect(hostHeaders(head, le)).toBe(a);
    expect(Array.from(a[0]!.subarray(16, 18))).toEqual([2, 0]);
    expect(Array.from(hostHeaders(head, be)[1]!.subarray(16, 18))).toEqual([0, 3]);
    const other = Uint8Array.from(head);
    other[4] = 1;
    expect(hostHeaders(other, le)[0]![4]).toBe(1);
  });
});
