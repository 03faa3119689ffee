// Register strings as the kernel reads them, written out by hand (not built by the code under test),
// and Archway's default flags in ONE place for every test that checks them.
//
// Default flags: with Debian's *-binfmt-P wrapper Archway registers P (preserve argv[0]) + F (pin
// the interpreter); with a plain emulator F alone. C (credentials, implies O) only by opt-in
// (--allow-setuid), never by default: every register-string assertion follows this line.
export const DEFAULT_FLAGS = { wrapper: 'PF', plain: 'F' } as const;

/** The magic and mask of an ELF 64-bit little-endian executable for aarch64 (e_machine 0xb7). */
export const AARCH64_MAGIC_MASK =
  '\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:' +
  '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff';

/** The magic and mask of an ELF 64-bit big-endian executable for s390x (e_machine 0x16; QEMU's mask leaves the OS ABI's low bits free). */
export const S390X_MAGIC_MASK =
  '\\x7f\\x45\\x4c\\x46\\x02\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x16:' +
  '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfc\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff';

/** `:qemu-<cpu>:M::<magic>:<mask>:<interpreter>:<flags>` for a catalog CPU whose magic is written above. */
export function qemuRegister(cpu: 'aarch64' | 's390x', interpreter: string, flags: string): string {
  return `:qemu-${cpu}:M::${cpu === 'aarch64' ? AARCH64_MAGIC_MASK : S390X_MAGIC_MASK}:${interpreter}:${flags}`;
}

/** Debian's P wrapper for a CPU (qemu-user-static), and the plain static emulator. */
export const debianWrapper = (cpu: string): string => `/usr/libexec/qemu-binfmt/${cpu}-binfmt-P`;
export const debianStatic = (cpu: string): string => `/usr/bin/qemu-${cpu}-static`;
