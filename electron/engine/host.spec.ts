// The host's machine name comes from /proc/sys/kernel/arch (no node:os at start-up): the kernel's
// own architecture, which is uname's too, except under a 32-bit personality (that case, through
// the built CLI: test/cli/cli-process.test.ts).
import { machine } from 'node:os';
import { describe, expect, it } from 'vitest';
import { kernelMachine } from './host';

describe('kernelMachine', () => {
  it("is uname's machine for a process without a personality", () => {
    expect(kernelMachine()).toBe(machine());
  });
});
