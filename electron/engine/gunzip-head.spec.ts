import { readFileSync, existsSync } from 'node:fs';
import { constants, deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipHead } from './gunzip-head';

/** Text with repeats and variety, so each level makes stored, fixed or dynamic blocks. */
function text(seed: number, n: number): Buffer {
  let x = seed;
  const words = ['qemu', 'Debian', 'binfmt', ' ', '\n', 'urgency=medium', '(1:7.2+dfsg-7)', '--', 'Michael', 'Tokarev', '.', ',', '*'];
  const out: string[] = [];
  while (out.join('').length < n) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push(x % 7 === 0 ? String.fromCharCode(32 + (x % 90)) : words[x % words.length]!);
  }
  return Buffer.from(out.join('').slice(0, n));
}

describe('gunzipHead: the first bytes of a gzip file without node:zlib', () => {
  it.each([0, 1, 6, 9])('matches zlib at level %i (stored, fixed and dynamic blocks), whole and truncated', (level) => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const plain = text(seed, 5000);
      const gz = gzipSync(plain, { level });
      expect(Buffer.from(gunzipHead(gz, 1 << 20))).toEqual(plain);
      expect(Buffer.from(gunzipHead(gz, 200))).toEqual(plain.subarray(0, 200));
      // Only the first kilobyte read: what it decodes is the start of the content.
      const head = Buffer.from(gunzipHead(gz.subarray(0, 1024), 200));
      expect(plain.subarray(0, head.length)).toEqual(head);
      const viaZlib = gunzipSync(gz.subarray(0, 1024), { finishFlush: constants.Z_SYNC_FLUSH });
      expect(head).toEqual(viaZlib.subarray(0, head.length));
    }
  });

  it('fixed Huffman blocks (a short input compresses to one)', () => {
    const plain = Buffer.from('qemu (1:7.2+dfsg-7+deb12u7) bookworm; urgency=medium\n\n  * qemu qemu qemu\n');
    const raw = deflateRawSync(plain, { strategy: constants.Z_FIXED });
    expect((raw[0]! >> 1) & 3).toBe(1);
    expect(Buffer.from(gunzipHead(gzipSync(plain, { strategy: constants.Z_FIXED }), 500))).toEqual(plain);
  });

  it('refuses what is not gzip, or corrupt', () => {
    expect(() => gunzipHead(Buffer.from('not a gzip file at all, really'), 10)).toThrow(/not a gzip file/);
    const gz = Buffer.from(gzipSync(text(7, 3000), { level: 9 }));
    gz[10] = 0xff; // block type 3
    expect(() => gunzipHead(gz, 100)).toThrow(/invalid DEFLATE/);
  });

  it.skipIf(!existsSync('/usr/share/doc/qemu-user-static/changelog.Debian.gz'))('reads the first line of Debian\'s QEMU changelog as zlib does', () => {
    const gz = readFileSync('/usr/share/doc/qemu-user-static/changelog.Debian.gz');
    expect(Buffer.from(gunzipHead(gz.subarray(0, 1024), 200)).toString()).toBe(gunzipSync(gz).subarray(0, 200).toString());
  });
});
