import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import fc from 'fast-check';
import { CATALOG, DOCKER_PLATFORMS, andHex, bytesToHex, catalogEntry, hexToBytes, nativeCpus } from './catalog';
import { resolveArchs, resolveOne, resolvePlatform, UnknownArchError } from './resolve';
import { parseRegister } from '../binfmt/register';

const DEBIAN_DIR = '/usr/lib/binfmt.d';

describe('catalog', () => {
  it('has every CPU of qemu-binfmt-conf.sh (34) plus Debian 12\'s cris', () => {
    const qemu34 =
      'i386 i486 alpha arm armeb sparc sparc32plus sparc64 ppc ppc64 ppc64le m68k mips mipsel mipsn32 mipsn32el mips64 mips64el sh4 sh4eb s390x aarch64 aarch64_be hppa riscv32 riscv64 xtensa xtensaeb microblaze microblazeel or1k x86_64 hexagon loongarch64'.split(' ');
    expect(qemu34).toHaveLength(34);
    for (const cpu of qemu34) expect(catalogEntry(cpu), cpu).toBeDefined();
    expect(CATALOG.map((c) => c.cpu).sort()).toEqual([...qemu34, 'cris'].sort());
  });

  it('magic and mask bytes equal Debian\'s /usr/lib/binfmt.d/qemu-*.conf for every CPU Debian ships', () => {
    expect(existsSync(DEBIAN_DIR), 'install qemu-user-static (npm test does it when root)').toBe(true);
    const files = readdirSync(DEBIAN_DIR).filter((f) => /^qemu-.*\.conf$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(28);
    for (const f of files) {
      const line = readFileSync(`${DEBIAN_DIR}/${f}`, 'utf8').split('\n').find((l) => l.startsWith(':'))!;
      const rule = parseRegister(line);
      if (rule.type !== 'M') throw new Error(`${f} is not a magic rule`);
      const cpu = rule.name.replace(/^qemu-/, '');
      const entry = catalogEntry(cpu);
      expect(entry, `${f}: ${cpu} missing from catalog`).toBeDefined();
      expect(entry!.magic, `${cpu} magic`).toBe(rule.magic);
      expect(entry!.mask, `${cpu} mask`).toBe(rule.mask);
      expect(rule.offset).toBe(0);
    }
  });

  it('magic and mask have equal length and decode to the right ELF class, endianness and machine', () => {
    for (const c of CATALOG) expect(c.magic.length, c.cpu).toBe(c.mask.length);
    expect(catalogEntry('aarch64')).toMatchObject({ elfClass: 64, endian: 'little', elfMachine: 183 });
    expect(catalogEntry('s390x')).toMatchObject({ elfClass: 64, endian: 'big', elfMachine: 22 });
    expect(catalogEntry('arm')).toMatchObject({ elfClass: 32, endian: 'little', elfMachine: 40 });
    expect(catalogEntry('i486')!.emulator).toBe('qemu-i386');
    expect(catalogEntry('ppc64le')!.handlerName).toBe('qemu-ppc64le');
  });

  it('maps the 10 Docker platforms (plus arm/v6) to CPUs with the uname -m QEMU reports', () => {
    const platforms = DOCKER_PLATFORMS.map((p) => p.platform);
    for (const p of ['linux/amd64', 'linux/arm64', 'linux/arm/v7', 'linux/arm/v6', 'linux/riscv64', 'linux/ppc64le', 'linux/s390x', 'linux/386', 'linux/mips64le', 'linux/mips64', 'linux/loong64']) {
      expect(platforms).toContain(p);
    }
    expect(resolvePlatform('linux/mips64le')).toMatchObject({ cpu: 'mips64el', unameM: ['mips64'] });
    expect(resolvePlatform('arm/v7')).toMatchObject({ cpu: 'arm', unameM: ['armv7l'] });
  });
});

describe('native detection', () => {
  it('x86_64 runs x86_64 and i386 natively, for sure', () => {
    expect(nativeCpus('x86_64').map((n) => [n.cpu, n.native])).toEqual([
      ['x86_64', 'yes'],
      ['i386', 'yes'],
      ['i486', 'yes'],
    ]);
  });
  it('aarch64 runs arm only maybe, and says why', () => {
    const arm = nativeCpus('aarch64').find((n) => n.cpu === 'arm')!;
    expect(arm.native).toBe('maybe');
    expect(arm.why).toMatch(/AArch32/);
  });
  it('unknown machines claim nothing', () => {
    expect(nativeCpus('vax')).toEqual([]);
  });
});

describe('resolve', () => {
  it('accepts every spelling people use', () => {
    for (const n of ['arm64', 'aarch64', 'linux/arm64', 'ARM64', 'linux/arm64/v8', 'qemu-aarch64', 'qemu-aarch64-static']) {
      expect(resolveOne(n).cpu, n).toBe('aarch64');
    }
    expect(resolveOne('linux/arm/v7').cpu).toBe('arm');
    expect(resolveOne('armhf').cpu).toBe('arm');
    expect(resolveOne('mips64le').cpu).toBe('mips64el');
    expect(resolveOne('mips64el').cpu).toBe('mips64el');
    expect(resolveOne('386').cpu).toBe('i386');
    expect(resolveOne('amd64').cpu).toBe('x86_64');
    expect(resolveOne('loong64').cpu).toBe('loongarch64');
    expect(resolveOne('ppc64el').cpu).toBe('ppc64le');
  });

  it('suggests the nearest name for a typo', () => {
    expect(() => resolveOne('arm46')).toThrowError(UnknownArchError);
    let caught: unknown;
    try {
      resolveOne('s390');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UnknownArchError);
    expect((caught as UnknownArchError).suggestion).toBe('s390x');
    expect((caught as Error).message).toContain('did you mean "s390x"');
  });

  it('all = every catalog CPU the host does not run natively, deduplicated, in catalog order', () => {
    const all = resolveArchs(['all'], { hostMachine: 'x86_64' }).map((e) => e.cpu);
    expect(all).not.toContain('x86_64');
    expect(all).not.toContain('i386');
    expect(all).toContain('aarch64');
    expect(all).toHaveLength(CATALOG.length - 3);
    expect(resolveArchs(['arm64', 'aarch64', 'linux/arm64']).map((e) => e.cpu)).toEqual(['aarch64']);
    const docker = resolveArchs(['all'], { hostMachine: 'x86_64', allScope: 'docker' }).map((e) => e.cpu);
    expect(docker.sort()).toEqual(['aarch64', 'arm', 'loongarch64', 'mips64', 'mips64el', 'ppc64le', 'riscv64', 's390x'].sort());
  });
});

describe('hexToBytes / bytesToHex (the fast versions agree with the plain definition)', () => {
  const plainHexToBytes = (hex: string): Uint8Array => {
    if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) throw new Error(`not a hex string: ${hex}`);
    return Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
  };
  it('every byte value round-trips, lower and upper case', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hex = bytesToHex(all);
    expect(hex).toBe([...all].map((b) => b.toString(16).padStart(2, '0')).join(''));
    expect(hexToBytes(hex)).toEqual(all);
    expect(hexToBytes(hex.toUpperCase())).toEqual(all);
  });
  it('refuses what is not hex, like the plain definition', () => {
    for (const bad of ['f', 'fg', 'g0', ' 0', '0 ', '0x', '+1', '-1', 'é0', '0/', ':0', '@0', '`0', 'G0']) {
      expect(() => plainHexToBytes(bad), bad).toThrow();
      expect(() => hexToBytes(bad), bad).toThrow(/not a hex string/);
    }
  });
  it('agrees with the plain definition on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (s) => {
        let want: Uint8Array | 'throws';
        try { want = plainHexToBytes(s); } catch { want = 'throws'; }
        if (want === 'throws') expect(() => hexToBytes(s)).toThrow();
        else expect(hexToBytes(s)).toEqual(want);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('andHex (built only where the mask changes a digit) agrees with the plain definition', () => {
  const plainAnd = (a: string, b: string): string => {
    // (the mask's digits beyond the magic's length are never read)
    if (a.length % 2 !== 0 || b.length % 2 !== 0 || /[^0-9a-f]/i.test(a) || /[^0-9a-f]/i.test(b.slice(0, a.length))) throw new Error('not a hex string');
    return [...a].map((d, i) => (parseInt(d, 16) & (i < b.length ? parseInt(b[i]!, 16) : 15)).toString(16)).join('');
  };
  const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 16 });
  it('on hex strings of both cases, a mask longer, shorter or as long, and on what is not hex', () => {
    fc.assert(
      fc.property(fc.oneof(hex, fc.string({ maxLength: 6 })), fc.oneof(hex, fc.string({ maxLength: 6 })), (a, b) => {
        let want: string | 'throws';
        try { want = plainAnd(a, b); } catch { want = 'throws'; }
        if (want === 'throws') expect(() => andHex(a, b)).toThrow(/not a hex string/);
        else expect(andHex(a, b)).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });
  it("every catalog entry's masked magic (data) is its magic & mask", () => {
    for (const c of CATALOG) expect(c.masked, c.cpu).toBe(plainAnd(c.magic, c.mask));
  });
  it("a magic its mask leaves as it is comes back as is; the catalog's x86 magics are changed by theirs", () => {
    expect(andHex('7f454c46', 'ffffffff')).toBe('7f454c46');
    expect(andHex('7F454C46', 'ffffffff')).toBe('7f454c46');
    const i386 = catalogEntry('i386')!;
    expect(andHex(i386.magic, i386.mask)).not.toBe(i386.magic);
  });
});
