import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTar, TarError } from './tar';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'archway-tar-spec-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function make(format: string, setup: (root: string) => string[]): Uint8Array {
  const root = fs.mkdtempSync(path.join(dir, 'root-'));
  const names = setup(root);
  const out = path.join(dir, `${format}-${path.basename(root)}.tar`);
  execFileSync('tar', [`--format=${format}`, '--owner=0', '--group=0', '-C', root, '-cf', out, ...names]);
  return fs.readFileSync(out);
}

describe('readTar', () => {
  it.each(['gnu', 'pax', 'ustar'])('reads files and symlinks (%s)', (format) => {
    const tar = make(format, (root) => {
      fs.writeFileSync(path.join(root, 'qemu-aarch64'), Buffer.alloc(1000, 7), { mode: 0o755 });
      fs.symlinkSync('qemu-aarch64', path.join(root, 'qemu-arm64'));
      return ['qemu-aarch64', 'qemu-arm64'];
    });
    const [file, link] = readTar(tar);
    expect(file).toMatchObject({ path: 'qemu-aarch64', type: 'file', size: 1000, mode: 0o755, uid: 0 });
    expect(Buffer.from(file!.data).equals(Buffer.alloc(1000, 7))).toBe(true);
    expect(link).toMatchObject({ path: 'qemu-arm64', type: 'symlink', linkTarget: 'qemu-aarch64' });
  });

  it.each(['gnu', 'pax'])('reads long names (%s)', (format) => {
    const long = 'd'.repeat(120);
    const tar = make(format, (root) => {
      fs.mkdirSync(path.join(root, long));
      fs.writeFileSync(path.join(root, long, 'f'.repeat(110)), 'x');
      return [long];
    });
    const entries = readTar(tar);
    expect(entries.map((e) => e.path)).toEqual([`${long}/`, `${long}/${'f'.repeat(110)}`]);
    expect(entries[0]!.type).toBe('directory');
  });

  it('refuses damaged archives', () => {
    const tar = Uint8Array.from(make('gnu', (root) => (fs.writeFileSync(path.join(root, 'a'), 'hello'), ['a'])));
    const bad = Uint8Array.from(tar);
    bad[10] = bad[10]! ^ 0xff;
    expect(() => readTar(bad)).toThrow(TarError);
    expect(() => readTar(tar.subarray(0, 512))).toThrow(/truncated/);
  });
});
