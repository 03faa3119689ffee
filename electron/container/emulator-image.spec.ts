import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hostElf, verifyEmulatorBytes } from './emulator-image';

describe('emulator checks', () => {
  it('knows what a host runs', () => {
    expect(hostElf('x86_64')).toEqual({ machine: 62, class: 64, endian: 'little' });
    expect(hostElf('aarch64')).toEqual({ machine: 183, class: 64, endian: 'little' });
    expect(hostElf('vax')).toBeUndefined();
  });

  it('accepts a static emulator for the host and refuses the rest', () => {
    const x86 = new Uint8Array(64);
    x86.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    new DataView(x86.buffer).setUint16(16, 2, true);
    new DataView(x86.buffer).setUint16(18, 62, true);
    expect(verifyEmulatorBytes(x86, 'x86_64', 'e').machine).toBe(62);
    expect(() => verifyEmulatorBytes(x86, 'aarch64', 'e')).toThrow(/not a program for this host/);
    expect(() => verifyEmulatorBytes(new TextEncoder().encode('#!/bin/sh\n'.padEnd(64)), 'x86_64', 'e')).toThrow(/not an ELF/);
    const core = x86.slice();
    new DataView(core.buffer).setUint16(16, 4, true); // ET_CORE
    expect(() => verifyEmulatorBytes(core, 'x86_64', 'e')).toThrow(/type 4, not an executable/);
  });

  it.runIf(fs.existsSync('/usr/bin/qemu-aarch64-static') && fs.existsSync('/bin/ls') && process.arch === 'x64')('checks real files: Debian\'s static QEMU yes, /bin/ls (dynamic) no', () => {
    const head = (p: string) => fs.readFileSync(p).subarray(0, 65536);
    expect(verifyEmulatorBytes(head('/usr/bin/qemu-aarch64-static'), 'x86_64', 'q').dynamic).toBe(false);
    expect(() => verifyEmulatorBytes(head('/bin/ls'), 'x86_64', '/bin/ls')).toThrow(/dynamically linked/);
  });
});
