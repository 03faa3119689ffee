// interpreterFacts reuses the ELF facts the trust checks read in the same snapshot reading (one ELF
// read per file), but only for the very same file: a file replaced since (new inode) or a symlink
// is read again. Real files in a temporary directory.
import { copyFileSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseElf } from '../../shared/elf';
import { readHead } from '../engine/host';
import { interpreterFacts, type ElfRead } from './snapshot';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'archway-snapshot-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function readNow(path: string): ElfRead {
  const st = statSync(path);
  return { dev: st.dev, ino: st.ino, elf: parseElf(readHead(path))! };
}

describe('interpreterFacts with the ELF facts already read', () => {
  it('the same file (same device and inode): the facts read before, not a second read', () => {
    const exe = join(dir, 'emu');
    copyFileSync(process.execPath, exe);
    const seen = readNow(exe);
    const facts = interpreterFacts(exe, new Map([[exe, seen]]));
    expect(facts.elf).toBe(seen.elf);
    expect(facts).toMatchObject({ exists: true, regular: true });
    expect(interpreterFacts(exe).elf).toEqual(seen.elf); // what a fresh read says
  });

  it('a file replaced since (another inode): read again', () => {
    const exe = join(dir, 'emu');
    copyFileSync(process.execPath, exe);
    const stale: ElfRead = { ...readNow(exe), elf: { ...readNow(exe).elf, machine: 0xbeef } };
    const other = join(dir, 'other');
    copyFileSync(process.execPath, other);
    renameSync(other, exe);
    const facts = interpreterFacts(exe, new Map([[exe, stale]]));
    expect(facts.elf).not.toBe(stale.elf);
    expect(facts.elf?.machine).not.toBe(0xbeef);
  });

  it('a symlink: its target is read, never facts filed under the link', () => {
    const exe = join(dir, 'emu');
    copyFileSync(process.execPath, exe);
    const link = join(dir, 'link');
    symlinkSync(exe, link);
    const st = statSync(exe);
    const fake: ElfRead = { dev: st.dev, ino: st.ino, elf: { ...readNow(exe).elf, machine: 0xbeef } };
    const facts = interpreterFacts(link, new Map([[link, fake]]));
    expect(facts.symlinkTarget).toBe(exe);
    expect(facts.elf?.machine).not.toBe(0xbeef);
  });
});
