// The helper's plan digests (electron/helper/ops.ts sha256) come from this JavaScript SHA-256; it must
// agree with node:crypto on every input: empty, block boundaries (55/56/63/64/65 bytes), multi-byte
// UTF-8, long texts, and random ones.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from './sha256';

const ref = (t: string) => createHash('sha256').update(t, 'utf8').digest('hex');

describe('sha256Hex', () => {
  it('the FIPS 180-4 examples', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('agrees with node:crypto at block boundaries, on UTF-8 and on long and random texts', () => {
    const texts = [55, 56, 57, 63, 64, 65, 119, 120, 128, 1000].map((n) => 'x'.repeat(n));
    texts.push('é'.repeat(28), 'register qemu-aarch64 → /usr/bin/qemu-aarch64-static ✓', '\u0000\uffff\u{1f600}', 'a'.repeat(100_000));
    for (let i = 0; i < 50; i++) texts.push(randomBytes(i * 7).toString('latin1'));
    for (const t of texts) expect(sha256Hex(t), JSON.stringify(t.slice(0, 20))).toBe(ref(t));
  });
});

describe('randomHex (temp file names without node:crypto)', () => {
  it('gives the asked number of random bytes as hex, different each time', async () => {
    const { randomHex } = await import('./fsutil');
    const seen = new Set(Array.from({ length: 50 }, () => randomHex(6)));
    expect(seen.size).toBe(50);
    for (const h of seen) expect(h).toMatch(/^[0-9a-f]{12}$/);
  });
});
