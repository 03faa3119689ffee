import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Demuxer, DemuxError } from './demux';

function frame(stream: number, data: Uint8Array): Uint8Array {
  const h = new Uint8Array(8 + data.length);
  h[0] = stream;
  new DataView(h.buffer).setUint32(4, data.length, false);
  h.set(data, 8);
  return h;
}

describe('Demuxer', () => {
  it('splits frames however the bytes are chunked (model check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ s: fc.constantFrom(1, 2), d: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 20 }),
        (frames, cuts) => {
          const all = Uint8Array.from(frames.flatMap((f) => Array.from(frame(f.s, f.d))));
          const d = new Demuxer();
          const got = { stdout: [] as number[], stderr: [] as number[] };
          let i = 0;
          let k = 0;
          while (i < all.length) {
            const n = cuts[k++ % cuts.length]!;
            for (const p of d.push(all.subarray(i, i + n))) if (p.stream !== 'stdin') got[p.stream].push(...p.data);
            i += n;
          }
          expect(got.stdout).toEqual(frames.filter((f) => f.s === 1).flatMap((f) => Array.from(f.d)));
          expect(got.stderr).toEqual(frames.filter((f) => f.s === 2).flatMap((f) => Array.from(f.d)));
          expect(d.partial).toBe(false);
        },
      ),
    );
  });

  it('refuses a stream that is not multiplexed', () => {
    expect(() => new Demuxer().push(new TextEncoder().encode('hello world\n'))).toThrow(DemuxError);
  });

  it('reports a frame cut short', () => {
    const d = new Demuxer();
    d.push(frame(1, new Uint8Array(10)).subarray(0, 12));
    expect(d.partial).toBe(true);
  });
});
