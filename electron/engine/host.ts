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

/** PER_LINUX32 (linux/personality.h): a 64-bit kernel showing its 32-bit machine to uname. */
const PER_LINUX32 = 0x0008;

/** What uname says under PER_LINUX32, and the 64-bit kernel it says it for. */
const LINUX32_KERNEL: Readonly<Record<string, string>> = { i386: 'x86_64', i486: 'x86_64', i586: 'x86_64', i686: 'x86_64', armv8l: 'aarch64', armv8b: 'aarch64_be', s390: 's390x' };

const readText = (path: string): string => readFileSync(path, 'latin1');

/**
 * The kernel's machine name (uname -m as the kernel itself would say it), from
 * /proc/sys/kernel/arch (Linux ≥ 6.0): loading node:os for uname(2) cost every `archway status`
 * 0.3 ms. Under a 32-bit personality (setarch linux32) uname says i686 though an x86_64 kernel
 * still runs x86_64 programs natively, and a handler for them would take every native program:
 * older kernels get uname's answer mapped back through /proc/self/personality.
 */
export function kernelMachine(read: (path: string) => string = readText, uname: () => string = () => os().machine()): string {
  try {
    const name = read('/proc/sys/kernel/arch').trim();
    if (/^[a-z0-9_]+$/.test(name)) return name;
  } catch {
    /* Linux < 6.0 */
  }
  const m = uname();
  let persona = 0;
  try {
    persona = Number.parseInt(read('/proc/self/personality').trim(), 16);
  } catch {
    /* no procfs: uname as it is */
  }
  return (persona & 0xff) === PER_LINUX32 ? (LINUX32_KERNEL[m] ?? m) : m;
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
