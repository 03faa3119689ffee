/**
 * The architecture catalog: every CPU that QEMU's scripts/qemu-binfmt-conf.sh knows, with the
 * exact magic and mask bytes Debian 12 (QEMU 7.2) ships in /usr/lib/binfmt.d/qemu-*.conf, so a
 * handler Archway writes is byte-identical to the distro's. CPUs Debian does not ship a rule for
 * (its own host family, and a few QEMU added later) take their bytes from QEMU's script.
 * `cris` is included because Debian 12 still ships it (QEMU dropped it in 9.x).
 *
 * Pure data + pure helpers: no Node, no DOM.
 */

export type Cpu =
  | 'i386' | 'i486' | 'alpha' | 'arm' | 'armeb' | 'sparc' | 'sparc32plus' | 'sparc64'
  | 'ppc' | 'ppc64' | 'ppc64le' | 'm68k' | 'mips' | 'mipsel' | 'mipsn32' | 'mipsn32el'
  | 'mips64' | 'mips64el' | 'sh4' | 'sh4eb' | 's390x' | 'aarch64' | 'aarch64_be' | 'hppa'
  | 'riscv32' | 'riscv64' | 'xtensa' | 'xtensaeb' | 'microblaze' | 'microblazeel' | 'or1k'
  | 'x86_64' | 'hexagon' | 'loongarch64' | 'cris';

export interface CatalogRow {
  /** QEMU's name for the CPU; the handler is named `qemu-<cpu>`. */
  cpu: Cpu;
  /** QEMU's family: CPUs of the host's family are never registered by QEMU's script. */
  family: string;
  /** Hex of the magic bytes (offset 0). */
  magic: string;
  /** Hex of the mask, same length as magic. */
  mask: string;
  /**
   * magic & mask (what the kernel compares), only where the mask changes the magic (QEMU's x86
   * rows): data, not worked out digit by digit in every status (catalog.spec.ts checks every row).
   */
  masked?: string;
}

// prettier-ignore
export const CATALOG_ROWS: readonly CatalogRow[] = [
  { cpu: 'i386', family: 'i386', magic: '7f454c4601010100000000000000000002000300', mask: 'fffffffffffefe00fffffffffffffffffeffffff', masked: '7f454c4601000000000000000000000002000300' },  // not shipped by Debian 12: bytes from QEMU's script
  { cpu: 'i486', family: 'i386', magic: '7f454c4601010100000000000000000002000600', mask: 'fffffffffffefe00fffffffffffffffffeffffff', masked: '7f454c4601000000000000000000000002000600' },  // not shipped by Debian 12: bytes from QEMU's script
  { cpu: 'alpha', family: 'alpha', magic: '7f454c4602010100000000000000000002002690', mask: 'ffffffffffffff00fffffffffffffffffeffffff' },
  { cpu: 'arm', family: 'arm', magic: '7f454c4601010100000000000000000002002800', mask: 'ffffffffffffff00fffffffffffffffffeffffff' },
  { cpu: 'armeb', family: 'armeb', magic: '7f454c4601020100000000000000000000020028', mask: 'ffffffffffffff00fffffffffffffffffffeffff' },
  { cpu: 'sparc', family: 'sparc', magic: '7f454c4601020100000000000000000000020002', mask: 'fffffffffffffffcfffffffffffffffffffeffff' },
  { cpu: 'sparc32plus', family: 'sparc', magic: '7f454c4601020100000000000000000000020012', mask: 'fffffffffffffffcfffffffffffffffffffeffff' },
  { cpu: 'sparc64', family: 'sparc', magic: '7f454c460202010000000000000000000002002b', mask: 'fffffffffffffffcfffffffffffffffffffeffff' },
  { cpu: 'ppc', family: 'ppc', magic: '7f454c4601020100000000000000000000020014', mask: 'fffffffffffffffcfffffffffffffffffffeffff' },
  { cpu: 'ppc64', family: 'ppc', magic: '7f454c4602020100000000000000000000020015', mask: 'fffffffffffffffcfffffffffffffffffffeffff' },
  { cpu: 'ppc64le', family: 'ppcle', magic: '7f454c4602010100000000000000000002001500', mask: 'fffffffffffffffcfffffffffffffffffeffff00' },
  { cpu: 'm68k', family: 'm68k', magic: '7f454c4601020100000000000000000000020004', mask: 'ffffffffffffff00fffffffffffffffffffeffff' },
  { cpu: 'mips', family: 'mips', magic: '7f454c46010201000000000000000000000200080000000000000000000000000000000000000000', mask: 'ffffffffffffff00fefffffffffffffffffeffff0000000000000000000000000000000000000020' },
  { cpu: 'mipsel', family: 'mips', magic: '7f454c46010101000000000000000000020008000000000000000000000000000000000000', mask: 'ffffffffffffff00fefffffffffffffffeffffff0000000000000000000000000000000020' },
  { cpu: 'mipsn32', family: 'mips', magic: '7f454c46010201000000000000000000000200080000000000000000000000000000000000000020', mask: 'ffffffffffffff00fefffffffffffffffffeffff0000000000000000000000000000000000000020' },
  { cpu: 'mipsn32el', family: 'mips', magic: '7f454c46010101000000000000000000020008000000000000000000000000000000000020', mask: 'ffffffffffffff00fefffffffffffffffeffffff0000000000000000000000000000000020' },
  { cpu: 'mips64', family: 'mips', magic: '7f454c4602020100000000000000000000020008', mask: 'ffffffffffffff00fefffffffffffffffffeffff' },
  { cpu: 'mips64el', family: 'mips', magic: '7f454c4602010100000000000000000002000800', mask: 'ffffffffffffff00fefffffffffffffffeffffff' },
  { cpu: 'sh4', family: 'sh4', magic: '7f454c4601010100000000000000000002002a00', mask: 'fffffffffffffffcfffffffffffffffffeffffff' },
  { cpu: 'sh4eb', family: 'sh4', magic: '7f454c460102010000000000000000000002002a', mask: 'fffffffffffffffcfffffffffffffffffffeffff' },
  { cpu: 's390x', family: 's390x', magic: '7f454c4602020100000000000000000000020016', mask: 'fffffffffffffffcfffffffffffffffffffeffff' },
  { cpu: 'aarch64', family: 'arm', magic: '7f454c460201010000000000000000000200b700', mask: 'ffffffffffffff00fffffffffffffffffeffffff' },
  { cpu: 'aarch64_be', family: 'armeb', magic: '7f454c46020201000000000000000000000200b7', mask: 'ffffffffffffff00fffffffffffffffffffeffff' },  // not shipped by Debian 12: bytes from QEMU's script
  { cpu: 'hppa', family: 'hppa', magic: '7f454c460102010000000000000000000002000f', mask: 'ffffffffffffff00fffffffffffffffffffeffff' },
  { cpu: 'riscv32', family: 'riscv32', magic: '7f454c460101010000000000000000000200f300', mask: 'ffffffffffffff00fffffffffffffffffeffffff' },
  { cpu: 'riscv64', family: 'riscv64', magic: '7f454c460201010000000000000000000200f300', mask: 'ffffffffffffff00fffffffffffffffffeffffff' },
  { cpu: 'xtensa', family: 'xtensa', magic: '7f454c4601010100000000000000000002005e00', mask: 'ffffffffffffff00fffffffffffffffffeffffff' },
  { cpu: 'xtensaeb', family: 'xtensaeb', magic: '7f454c460102010000000000000000000002005e', mask: 'ffffffffffffff00fffffffffffffffffffeffff' },
  { cpu: 'microblaze', family: 'microblaze', magic: '7f454c460102010000000000000000000002baab', mask: 'ffffffffffffff00fffffffffffffffffffeffff' },
  { cpu: 'microblazeel', family: 'microblazeel', magic: '7f454c460101010000000000000000000200abba', mask: 'ffffffffffffff00fffffffffffffffffeffffff' },  // not shipped by Debian 12: bytes from QEMU's script
  { cpu: 'or1k', family: 'or1k', magic: '7f454c460102010000000000000000000002005c', mask: 'ffffffffffffff00fffffffffffffffffffeffff' },  // not shipped by Debian 12: bytes from QEMU's script
  { cpu: 'x86_64', family: 'i386', magic: '7f454c4602010100000000000000000002003e00', mask: 'fffffffffffefe00fffffffffffffffffeffffff', masked: '7f454c4602000000000000000000000002003e00' },  // not shipped by Debian 12: bytes from QEMU's script
  { cpu: 'hexagon', family: 'hexagon', magic: '7f454c460101010000000000000000000200a400', mask: 'ffffffffffffff00fffffffffffffffffeffffff' },
  { cpu: 'loongarch64', family: 'loongarch', magic: '7f454c4602010100000000000000000002000201', mask: 'fffffffffffffffc00fffffffffffffffeffffff' },
  { cpu: 'cris', family: 'cris', magic: '7f454c4601010100000000000000000002004c00', mask: 'ffffffffffffff00fffffffffffffffffeffffff' },];

export interface DockerPlatform {
  /** `linux/arm/v7` */
  platform: string;
  os: 'linux';
  architecture: string;
  variant?: string;
  cpu: Cpu;
  /** What `uname -m` prints inside a container of this platform when emulated by QEMU. */
  unameM: readonly string[];
}

/** The Docker platforms tonistiigi/binfmt and docker/setup-qemu-action know, plus arm/v6. */
export const DOCKER_PLATFORMS: readonly DockerPlatform[] = [
  { platform: 'linux/amd64', os: 'linux', architecture: 'amd64', cpu: 'x86_64', unameM: ['x86_64'] },
  { platform: 'linux/arm64', os: 'linux', architecture: 'arm64', cpu: 'aarch64', unameM: ['aarch64'] },
  { platform: 'linux/arm/v7', os: 'linux', architecture: 'arm', variant: 'v7', cpu: 'arm', unameM: ['armv7l'] },
  { platform: 'linux/arm/v6', os: 'linux', architecture: 'arm', variant: 'v6', cpu: 'arm', unameM: ['armv7l', 'armv6l'] },
  { platform: 'linux/riscv64', os: 'linux', architecture: 'riscv64', cpu: 'riscv64', unameM: ['riscv64'] },
  { platform: 'linux/ppc64le', os: 'linux', architecture: 'ppc64le', cpu: 'ppc64le', unameM: ['ppc64le'] },
  { platform: 'linux/s390x', os: 'linux', architecture: 's390x', cpu: 's390x', unameM: ['s390x'] },
  { platform: 'linux/386', os: 'linux', architecture: '386', cpu: 'i386', unameM: ['i686'] },
  { platform: 'linux/mips64le', os: 'linux', architecture: 'mips64le', cpu: 'mips64el', unameM: ['mips64'] },
  { platform: 'linux/mips64', os: 'linux', architecture: 'mips64', cpu: 'mips64', unameM: ['mips64'] },
  { platform: 'linux/loong64', os: 'linux', architecture: 'loong64', cpu: 'loongarch64', unameM: ['loongarch64'] },
];

/**
 * Names people use for each CPU (Debian arch, Docker arch, kernel `uname -m`, common spellings).
 * Both `mips64le` (Docker) and `mips64el` (Debian/QEMU) are accepted: mixing them up is a classic
 * uninstall footgun.
 */
export const CPU_ALIASES: Readonly<Partial<Record<Cpu, readonly string[]>>> = {
  x86_64: ['amd64', 'x86-64', 'x64'],
  i386: ['386', 'i686', 'i586', 'x86', 'ia32'],
  aarch64: ['arm64', 'arm64/v8', 'armv8', 'armv8l'],
  arm: ['armhf', 'armel', 'armv7', 'armv7l', 'arm/v7', 'armv6', 'armv6l', 'arm/v6', 'arm/v5', 'armv5'],
  ppc64le: ['ppc64el', 'powerpc64le'],
  ppc64: ['powerpc64'],
  ppc: ['powerpc'],
  mips64el: ['mips64le'],
  mipsel: ['mipsle'],
  loongarch64: ['loong64'],
  aarch64_be: ['arm64be'],
  hppa: ['parisc'],
  sh4: ['sh'],
};

export type Nativeness = 'yes' | 'maybe';

export interface NativeInfo {
  cpu: Cpu;
  native: Nativeness;
  why: string;
}

/**
 * Which CPUs a host runs without emulation, from the kernel's `uname -m`. "maybe" means it depends
 * on the exact processor or kernel build, and Archway says so instead of guessing.
 */
export function nativeCpus(hostMachine: string): NativeInfo[] {
  const m = hostMachine.trim();
  const yes = (cpu: Cpu, why = `the host is ${m}`): NativeInfo => ({ cpu, native: 'yes', why });
  const maybe = (cpu: Cpu, why: string): NativeInfo => ({ cpu, native: 'maybe', why });
  if (m === 'x86_64') {
    const ia32 = 'x86_64 kernels run 32-bit x86 programs natively (IA32 emulation, on in every mainstream distribution)';
    return [yes('x86_64'), yes('i386', ia32), yes('i486', ia32)];
  }
  if (/^i[3-6]86$/.test(m)) return [yes('i386'), yes('i486')];
  if (m === 'aarch64') {
    return [
      yes('aarch64'),
      maybe('arm', '32-bit ARM runs natively only on processors with AArch32 at EL0 (not Apple silicon, AWS Graviton 3+ or most new Arm cores)'),
    ];
  }
  if (m === 'aarch64_be') return [yes('aarch64_be'), maybe('armeb', 'depends on AArch32 support of the processor')];
  if (/^armv\d+l$/.test(m) || m === 'arm') return [yes('arm')];
  if (/^armv\d+b$/.test(m)) return [yes('armeb')];
  if (m === 'ppc64le') return [yes('ppc64le')];
  if (m === 'ppc64') return [yes('ppc64'), maybe('ppc', '32-bit PowerPC needs a kernel built with COMPAT')];
  if (m === 'ppc') return [yes('ppc')];
  if (m === 's390x') return [yes('s390x')];
  if (m === 'riscv64') return [yes('riscv64'), maybe('riscv32', 'needs a kernel with COMPAT and a processor with RV32 user mode')];
  if (m === 'riscv32') return [yes('riscv32')];
  if (m === 'mips64') return [yes('mips64'), maybe('mips', 'needs a kernel with O32 support'), maybe('mipsn32', 'needs a kernel with N32 support')];
  if (m === 'mips64el') return [yes('mips64el'), maybe('mipsel', 'needs a kernel with O32 support'), maybe('mipsn32el', 'needs a kernel with N32 support')];
  if (m === 'mips') return [yes('mips')];
  if (m === 'mipsel') return [yes('mipsel')];
  if (m === 'loongarch64') return [yes('loongarch64')];
  if (m === 'sparc64') return [yes('sparc64'), maybe('sparc32plus', 'needs a kernel with COMPAT'), maybe('sparc', 'needs a kernel with COMPAT')];
  if (m === 'alpha') return [yes('alpha')];
  if (m === 'm68k') return [yes('m68k')];
  if (m === 'hppa' || m === 'parisc' || m === 'parisc64') return [yes('hppa')];
  if (m === 'sh4') return [yes('sh4')];
  if (m === 'sh4eb') return [yes('sh4eb')];
  return [];
}

export interface CatalogEntry extends CatalogRow {
  masked: string;
  /** Handler name in binfmt_misc: `qemu-<cpu>` like Debian and tonistiigi/binfmt. */
  handlerName: string;
  /** Emulator program name: `qemu-<cpu>` (i486 uses qemu-i386). */
  emulator: string;
  elfClass: 32 | 64;
  endian: 'little' | 'big';
  /** ELF e_machine the magic selects. */
  elfMachine: number;
  aliases: readonly string[];
  platforms: readonly DockerPlatform[];
}

/** The value of each hex digit by char code (-1: not one). A table, not a function per digit: a
 * status decodes thousands of digits in code that runs once per process, before any JIT helps. */
const HEX_VALUE: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let d = 0; d < 10; d++) t[48 + d] = d;
  for (let d = 0; d < 6; d++) t[65 + d] = t[97 + d] = 10 + d;
  return t;
})();

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new Error(`not a hex string: ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const v = hexByteAt(hex, i);
    if (v < 0) throw new Error(`not a hex string: ${hex}`);
    out[i] = v;
  }
  return out;
}

const HEX_DIGITS = '0123456789abcdef';
const HEX_BYTE: readonly string[] = (() => {
  const t: string[] = [];
  for (let b = 0; b < 256; b++) t.push(HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!);
  return t;
})();

/** Lower-case hex of `a` AND `b` (two hex strings; `b` shorter: ff beyond its end), digit by digit. */
export function andHex(a: string, b: string): string {
  if (a.length % 2 !== 0 || b.length % 2 !== 0) throw new Error(`not a hex string: ${a.length % 2 ? a : b}`);
  // Built only from the first digit that differs from `a`'s: a magic the mask leaves as it is (the
  // catalog's, and every magic the kernel lists) is `a` itself, with no string built digit by digit.
  let out: string | undefined;
  for (let i = 0; i < a.length; i++) {
    const ch = a.charCodeAt(i);
    const x = HEX_VALUE[ch] ?? -1; // (inline: no call per digit in code run once)
    const y = i < b.length ? (HEX_VALUE[b.charCodeAt(i)] ?? -1) : 15;
    if (x < 0 || y < 0) throw new Error(`not a hex string: ${x < 0 ? a : b}`);
    const digit = HEX_DIGITS[x & y]!;
    if (out === undefined) {
      if (digit.charCodeAt(0) === ch) continue;
      out = a.slice(0, i);
    }
    out += digit;
  }
  return out ?? a;
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX_BYTE[bytes[i]!]!;
  return s;
}

/** Byte `i` of a hex string (-1 when it is not hex there). */
export function hexByteAt(hex: string, i: number): number {
  const hi = HEX_VALUE[hex.charCodeAt(2 * i)] ?? -1;
  const lo = HEX_VALUE[hex.charCodeAt(2 * i + 1)] ?? -1;
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

function toEntry(row: CatalogRow): CatalogEntry {
  const endian = hexByteAt(row.magic, 5) === 2 ? 'big' : 'little';
  const lo = Math.max(hexByteAt(row.magic, 18), 0);
  const hi = Math.max(hexByteAt(row.magic, 19), 0);
  return {
    ...row,
    masked: row.masked ?? row.magic,
    handlerName: `qemu-${row.cpu}`,
    emulator: row.cpu === 'i486' ? 'qemu-i386' : `qemu-${row.cpu}`,
    elfClass: hexByteAt(row.magic, 4) === 2 ? 64 : 32,
    endian,
    elfMachine: endian === 'little' ? lo | (hi << 8) : hi | (lo << 8),
    aliases: CPU_ALIASES[row.cpu] ?? [],
    platforms: DOCKER_PLATFORMS.filter((p) => p.cpu === row.cpu),
  };
}

export const CATALOG: readonly CatalogEntry[] = CATALOG_ROWS.map(toEntry);

/** Every catalog CPU, in the catalog's order (the order tables and matrices show them in). */
export const CATALOG_CPUS: readonly Cpu[] = CATALOG.map((c) => c.cpu);

const BY_CPU = new Map<string, CatalogEntry>(CATALOG.map((e) => [e.cpu, e]));

export function catalogEntry(cpu: string): CatalogEntry | undefined {
  return BY_CPU.get(cpu);
}

export function isCpu(name: string): name is Cpu {
  return BY_CPU.has(name);
}

/**
 * CPUs whose emulators can be fetched from a container image: those with a Docker platform that
 * this host does not run natively. Pure (the renderer lists them in the Engine view).
 */
export function fetchableCpus(hostMachine: string): Cpu[] {
  const native = new Set(nativeCpus(hostMachine).filter((n) => n.native === 'yes').map((n) => n.cpu));
  return CATALOG.filter((c) => c.platforms.length > 0 && !native.has(c.cpu)).map((c) => c.cpu);
}
