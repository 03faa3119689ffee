/** Facts about the machine we run on. */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { lazyBuiltin } from './lazy-builtin';
import { ELF_PROBE_BYTES, parseElf, type ElfInfo } from '../../shared/elf';

export interface HostFacts {
  machine: string;
  header: Uint8Array;
  elf: ElfInfo;
}

let cached: HostFacts | undefined;

const os = lazyBuiltin<typeof import('node:os')>('node:os');

/**
 * The kernel's machine name (uname -m), from /proc/sys/kernel/arch where the kernel has it: loading
 * node:os for uname(2) cost every `archway status` 0.3 ms. That file names the kernel's own
 * architecture also under a 32-bit personality (setarch i686), where uname says i686 though the
 * kernel still runs x86_64 programs natively: the answer binfmt_misc decisions need.
 */
export function kernelMachine(): string {
  try {
    const name = readFileSync('/proc/sys/kernel/arch', 'latin1').trim();
    if (/^[a-z0-9_]+$/.test(name)) return name;
  } catch {
    /* older kernels: uname(2) */
  }
  return os().machine();
}

/**
 * One buffer for ELF headers that are parsed at once and not kept (status reads one per emulator:
 * a fresh zero-filled 4 KiB each was 300 KiB of garbage per `archway status`). Never returned.
 */
const SCRATCH = Buffer.allocUnsafe(ELF_PROBE_BYTES);

/** parseElf of the first bytes of an open file (undefined: not an ELF program). */
export function elfOfFd(fd: number): ElfInfo | undefined {
  const n = readSync(fd, SCRATCH, 0, SCRATCH.length, 0);
  return parseElf(SCRATCH.subarray(0, n));
}

/** parseElf of a file's first bytes. */
export function readElf(path: string): ElfInfo | undefined {
  const fd = openSync(path, 'r');
  try {
    return elfOfFd(fd);
  } finally {
    closeSync(fd);
  }
}

export function readHead(path: string, bytes = ELF_PROBE_BYTES): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** The kernel's machine and the ELF header of a program it runs natively (this process). */
export function hostFacts(): HostFacts {
  if (cached) return cached;
  const header = readHead('/proc/self/exe');
  const elf = parseElf(header);
  if (!elf) throw new Error('cannot read the ELF header of the running program (/proc/self/exe)');
  cached = { machine: kernelMachine(), header: header.subarray(0, 128), elf };
  return cached;
}
