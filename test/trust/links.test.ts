/**
 * trustInterpreter with allowSymlink (Debian's *-binfmt-P wrappers are links to the emulator): the
 * link's target is opened without following links in its directory's real path; a target that is
 * itself a link, or missing, takes realpath(3). Real files in root-owned directories under /tmp
 * (sticky), checked as status and the planner check them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, lchownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ArchwayError } from '../../shared/errors';
import { hostFacts } from '../../electron/engine/host';
import { trustInterpreter } from '../../electron/engine/trust';

const STATIC = '/bin/busybox'; // a static program for this host
let work: string;
let real: string;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('trust tests need root: the checks demand root-owned files and directories');
  work = mkdtempSync('/tmp/archway-links-');
  chmodSync(work, 0o755);
  const bin = join(work, 'bin');
  const wrappers = join(work, 'wrappers');
  mkdirSync(bin, { mode: 0o755 });
  mkdirSync(wrappers, { mode: 0o755 });
  real = join(bin, 'qemu-test-static');
  copyFileSync(STATIC, real);
  chmodSync(real, 0o755);
  symlinkSync('../bin/qemu-test-static', join(wrappers, 'plain-P')); // the usual Debian link
  symlinkSync('qemu-test-static', join(bin, 'qemu-test'));
  symlinkSync('../bin/qemu-test', join(wrappers, 'chain-P')); // a link to a link
  symlinkSync('../bin/qemu-gone', join(wrappers, 'dangling-P'));
  symlinkSync(bin, join(work, 'bin-alias'));
  symlinkSync('../bin-alias/qemu-test-static', join(wrappers, 'through-dir-P')); // a link through a linked directory
  symlinkSync('../bin', join(wrappers, 'dir-P'));
  // A chain through a link someone else owns (in a directory only root can change: /tmp is sticky).
  const theirs = join(work, 'theirs');
  mkdirSync(theirs, { mode: 0o755 });
  symlinkSync(real, join(theirs, 'qemu-test'));
  lchownSync(join(theirs, 'qemu-test'), 1000, 1000);
  symlinkSync('../theirs/qemu-test', join(wrappers, 'foreign-hop-P'));
  symlinkSync('loop-b', join(wrappers, 'loop-a'));
  symlinkSync('loop-a', join(wrappers, 'loop-b'));
  symlinkSync('loop-a', join(wrappers, 'loop-P'));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const trust = (name: string) => trustInterpreter(join(work, 'wrappers', name), { hostElf: hostFacts().elf, allowSymlink: true });

describe('trustInterpreter, links allowed', () => {
  it('a link to a plain file: the file, by its real path', () => {
    expect(trust('plain-P')).toMatchObject({ realPath: real, elf: { dynamic: false } });
  });
  it('a link to a link, and a link through a linked directory: resolved all the way to the same file', () => {
    expect(trust('chain-P').realPath).toBe(real);
    expect(trust('through-dir-P').realPath).toBe(real);
  });
  it('a link to nothing: no-emulator, naming the missing file', () => {
    let err: unknown;
    try {
      trust('dangling-P');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArchwayError);
    expect(err).toMatchObject({ code: 'no-emulator' });
    expect((err as Error).message).toMatch(/dangling-P points to a missing file: .*qemu-gone/);
  });
  it('a chain through a link owned by someone else: refused (without flag F the kernel follows it at every start)', () => {
    expect(() => trust('foreign-hop-P')).toThrow(/goes through the link .*theirs\/qemu-test, owned by uid 1000, not root/);
  });
  it('a loop of links: refused', () => {
    expect(() => trust('loop-P')).toThrow(/more than 40 links/);
  });
  it('a link to a directory: refused as not a regular file', () => {
    expect(() => trust('dir-P')).toThrow(/is not a regular file/);
  });
});
