// The host's machine name comes from /proc/sys/kernel/arch (no node:os at start-up): the kernel's
// own architecture, which is uname's too, except under a 32-bit personality (through the built
// CLI: test/cli/cli-process.test.ts). Kernels before 6.0 have no such file: uname's answer, mapped
// back to the 64-bit kernel's under PER_LINUX32 (/proc/self/personality).
import { machine } from 'node:os';
import { describe, expect, it } from 'vitest';
import { kernelMachine } from './host';

/** A /proc without kernel/arch (Linux < 6.0), with this personality. */
const oldKernel = (personality: string) => (path: string): string => {
  if (path === '/proc/self/personality') return `${personality}\n`;
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
};

describe('kernelMachine', () => {
  it("is uname's machine for a process without a personality", () => {
    expect(kernelMachine()).toBe(machine());
  });
  it('without /proc/sys/kernel/arch: uname, mapped back to the 64-bit kernel under PER_LINUX32 only', () => {
    expect(kernelMachine(oldKernel('00000000'), () => 'x86_64')).toBe('x86_64');
    expect(kernelMachine(oldKernel('00000000'), () => 'i686')).toBe('i686'); // a 32-bit kernel
    expect(kernelMachine(oldKernel('00000008'), () => 'i686')).toBe('x86_64');
    expect(kernelMachine(oldKernel('00400008'), () => 'armv8l')).toBe('aarch64'); // flags above the low byte
    expect(kernelMachine(oldKernel('00000008'), () => 'mips')).toBe('mips'); // not known: as uname says
    expect(kernelMachine(() => { throw new Error('no procfs'); }, () => 'riscv64')).toBe('riscv64');
  });
  it('a kernel/arch that does not look like a machine name is not taken', () => {
    expect(kernelMachine((p) => (p === '/proc/sys/kernel/arch' ? 'x86 64\n' : '00000000'), () => 'x86_64')).toBe('x86_64');
  });
});
