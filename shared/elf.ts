/** ELF header and program-header facts, from the first bytes of a file. Pure. */

export interface ElfInfo {
  class: 32 | 64;
  endian: 'little' | 'big';
  /** e_type: 2 EXEC, 3 DYN (PIE or shared object). */
  type: number;
  machine: number;
  /** PT_INTERP present: the program needs a dynamic loader at run time. */
  dynamic: boolean;
  /** The PT_INTERP path, when present and inside the bytes given. */
  interp?: string;
}

export const EM_NAMES: Readonly<Record<number, string>> = {
  2: 'sparc', 3: 'i386', 4: 'm68k', 6: 'i486', 8: 'mips', 15: 'hppa', 18: 'sparc32plus', 20: 'ppc',
  21: 'ppc64', 22: 's390', 40: 'arm', 42: 'sh', 43: 'sparcv9', 62: 'x86_64', 76: 'cris', 92: 'or1k',
  94: 'xtensa', 164: 'hexagon', 183: 'aarch64', 189: 'microblaze', 243: 'riscv', 258: 'loongarch',
  0x9026: 'alpha', 0xbaab: 'microblaze',
};

/** How many leading bytes parseElf() needs at most to see the program headers of normal files. */
export const ELF_PROBE_BYTES = 4096;

/**
 * Returns undefined when the bytes are not an ELF file. Program headers beyond the bytes given are
 * not seen; ELF_PROBE_BYTES covers every normal executable (headers follow the ELF header).
 */
export function parseElf(buf: Uint8Array): ElfInfo | undefined {
  if (buf.length < 52 || buf[0] !== 0x7f || buf[1] !== 0x45 || buf[2] !== 0x4c || buf[3] !== 0x46) return undefined;
  const cls = buf[4] === 2 ? 64 : buf[4] === 1 ? 32 : undefined;
  const endian = buf[5] === 1 ? 'little' : buf[5] === 2 ? 'big' : undefined;
  if (!cls || !endian) return undefined;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const le = endian === 'little';
  const u16 = (o: number) => dv.getUint16(o, le);
  const u32 = (o: number) => dv.getUint32(o, le);
  const uN = (o: number) => (cls === 64 ? Number(dv.getBigUint64(o, le)) : u32(o));
  const type = u16(16);
  const machine = u16(18);
  const phoff = uN(cls === 64 ? 32 : 28);
  const phentsize = u16(cls === 64 ? 54 : 42);
  const phnum = u16(cls === 64 ? 56 : 44);
  let dynamic = false;
  let interp: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + phentsize > buf.length || phentsize < (cls === 64 ? 56 : 32)) break;
    if (u32(off) === 3 /* PT_INTERP */) {
      dynamic = true;
      const pOffset = uN(off + (cls === 64 ? 8 : 4));
      const pSize = uN(off + (cls === 64 ? 32 : 16));
      if (pOffset + pSize <= buf.length && pSize > 0 && pSize < 4096) {
        interp = String.fromCharCode(...buf.subarray(pOffset, pOffset + pSize)).replace(/\0+$/, '');
      }
    }
  }
  return interp === undefined ? { class: cls, endian, type, machine, dynamic } : { class: cls, endian, type, machine, dynamic, interp };
}

export function describeElf(e: ElfInfo): string {
  const m = EM_NAMES[e.machine] ?? `machine ${e.machine}`;
  return `ELF ${e.class}-bit ${e.endian === 'little' ? 'LSB' : 'MSB'} ${m}, ${e.dynamic ? `dynamically linked (${e.interp ?? 'loader'})` : 'statically linked'}`;
}

/** Why a file cannot serve as an emulator on this host, as a typed value (the one place this is decided). */
export type HostProgramProblem =
  | { kind: 'not-elf' }
  | { kind: 'wrong-host'; elf: ElfInfo }
  | { kind: 'not-executable'; elf: ElfInfo }
  | { kind: 'dynamic'; elf: ElfInfo };

/**
 * Is `elf` a program this host's kernel runs directly — same machine, class and byte order, an
 * executable (EXEC, or DYN as static-pie) — and static unless `allowDynamic`? Returns undefined when
 * it is, else the first problem. Status, helper, store and fetch all ask this function.
 */
export function hostProgramProblem(elf: ElfInfo | null | undefined, hostElf: Pick<ElfInfo, 'machine' | 'class' | 'endian'>, opts: { allowDynamic?: boolean } = {}): HostProgramProblem | undefined {
  if (!elf) return { kind: 'not-elf' };
  if (elf.machine !== hostElf.machine || elf.class !== hostElf.class || elf.endian !== hostElf.endian) return { kind: 'wrong-host', elf };
  if (elf.type !== 2 && elf.type !== 3) return { kind: 'not-executable', elf };
  if (elf.dynamic && opts.allowDynamic !== true) return { kind: 'dynamic', elf };
  return undefined;
}

/** One sentence for a HostProgramProblem about `file`. */
export function describeHostProgramProblem(file: string, p: HostProgramProblem): string {
  switch (p.kind) {
    case 'not-elf':
      return `${file} is not an ELF program`;
    case 'wrong-host':
      return `${file} is ${describeElf(p.elf)}, not a program for this host`;
    case 'not-executable':
      return `${file} is an ELF file of type ${p.elf.type}, not an executable program`;
    case 'dynamic':
      return `${file} is dynamically linked (${p.elf.interp ?? 'needs a loader'}); it fails inside containers with a foreign root filesystem`;
  }
}
