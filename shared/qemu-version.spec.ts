import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { qemuVersionFromBytes } from './qemu-version';

const enc = (s: string) => new TextEncoder().encode(s);
const padded = (s: string, at: number) => {
  const b = new Uint8Array(at + s.length + 300);
  b.fill(0x41);
  b.set(enc(`\0${s}\0`), at);
  return b;
};

describe('QEMU version from the bytes, never by running the program', () => {
  it("reads Debian's static qemu-aarch64 (the string its --version prints)", () => {
    const bytes = readFileSync('/usr/bin/qemu-aarch64-static');
    expect(qemuVersionFromBytes(bytes)).toMatch(/^7\.2\.\d+ \(Debian 1:7\.2\+dfsg-7\+deb12u\d+(\+b\d+)?\)$/);
  });
  it('finds a version split across chunks of any size', () => {
    const b = padded('qemu-riscv64 version 9.2.2', 5000);
    for (const chunk of [7, 64, 159, 160, 161, 4096, 5003, 1 << 20]) expect(qemuVersionFromBytes(b, chunk), String(chunk)).toBe('9.2.2');
  });
  it('a hostile suffix never carries control characters or unbounded text', () => {
    expect(qemuVersionFromBytes(padded('qemu-arm version 8.1.5 (\u001b[2Jx)', 10))).toBe('8.1.5');
    expect(qemuVersionFromBytes(padded(`qemu-arm version 8.1.5 (${'y'.repeat(500)})`, 10))).toBe('8.1.5');
    expect(qemuVersionFromBytes(padded('qemu-arm version 8.1.5 (Debian 1:8.1)', 10))).toBe('8.1.5 (Debian 1:8.1)');
  });
  it('no version string: undefined', () => {
    expect(qemuVersionFromBytes(readFileSync('/bin/busybox'))).toBeUndefined();
    expect(qemuVersionFromBytes(enc('qemu-'))).toBeUndefined();
  });
});
