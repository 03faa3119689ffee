/**
 * The first bytes of a gzip file's content, decoded in JavaScript: status reads the distribution's
 * QEMU version from the first line of Debian's changelog.Debian.gz, and loading node:zlib for that
 * (it brings Node's stream stack) cost `archway status` 2–4 ms of its 15 ms budget. A small
 * DEFLATE decoder (RFC 1951; gzip framing RFC 1952), after Mark Adler's puff.c: stored, fixed and
 * dynamic Huffman blocks; it stops once `max` bytes are out, and a truncated input gives what was
 * decoded so far. Throws on what is not gzip or not valid DEFLATE.
 */

const LBASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEXT = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DBASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DEXT = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CLORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

class Truncated extends Error {}

interface Huffman {
  count: Uint16Array;
  symbol: Uint16Array;
}

function huffman(lengths: ArrayLike<number>, n: number): Huffman {
  const count = new Uint16Array(16);
  const symbol = new Uint16Array(n);
  for (let i = 0; i < n; i++) count[lengths[i]!]!++;
  const offs = new Uint16Array(16);
  for (let len = 1; len < 15; len++) offs[len + 1] = offs[len]! + count[len]!;
  for (let i = 0; i < n; i++) if (lengths[i]) symbol[offs[lengths[i]!]!++] = i;
  return { count, symbol };
}

export function gunzipHead(gz: Uint8Array, max: number): Uint8Array {
  if (gz.length < 18 || gz[0] !== 0x1f || gz[1] !== 0x8b || gz[2] !== 8) throw new Error('not a gzip file');
  const flags = gz[3]!;
  let pos = 10;
  if (flags & 4) pos += 2 + (gz[pos]! | (gz[pos + 1]! << 8)); // FEXTRA
  if (flags & 8) while (pos < gz.length && gz[pos++] !== 0); // FNAME
  if (flags & 16) while (pos < gz.length && gz[pos++] !== 0); // FCOMMENT
  if (flags & 2) pos += 2; // FHCRC

  const out: number[] = [];
  let bitbuf = 0;
  let bitcnt = 0;
  const bits = (need: number): number => {
    let val = bitbuf;
    while (bitcnt < need) {
      if (pos >= gz.length) throw new Truncated();
      val |= gz[pos++]! << bitcnt;
      bitcnt += 8;
    }
    bitbuf = val >>> need;
    bitcnt -= need;
    return val & ((1 << need) - 1);
  };
  const decode = (h: Huffman): number => {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= 15; len++) {
      code |= bits(1);
      const count = h.count[len]!;
      if (code - count < first) return h.symbol[index + (code - first)]!;
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    throw new Error('invalid DEFLATE data (a code no table has)');
  };
  const codes = (lit: Huffman, dist: Huffman): void => {
    for (;;) {
      const sym = decode(lit);
      if (sym < 256) out.push(sym);
      else if (sym === 256) return;
      else {
        const s = sym - 257;
        if (s >= 29) throw new Error('invalid DEFLATE data (length code)');
        const len = LBASE[s]! + bits(LEXT[s]!);
        const d = decode(dist);
        if (d >= 30) throw new Error('invalid DEFLATE data (distance code)');
        const back = DBASE[d]! + bits(DEXT[d]!);
        if (back > out.length) throw new Error('invalid DEFLATE data (distance too far back)');
        for (let i = 0; i < len; i++) out.push(out[out.length - back]!);
      }
      if (out.length >= max) return;
    }
  };

  try {
    let last = 0;
    while (!last && out.length < max) {
      last = bits(1);
      const type = bits(2);
      if (type === 0) {
        bitbuf = 0;
        bitcnt = 0;
        if (pos + 4 > gz.length) throw new Truncated();
        const len = gz[pos]! | (gz[pos + 1]! << 8);
        if ((len ^ 0xffff) !== (gz[pos + 2]! | (gz[pos + 3]! << 8))) throw new Error('invalid DEFLATE data (stored length)');
        pos += 4;
        for (let i = 0; i < len; i++) {
          if (pos >= gz.length) throw new Truncated();
          out.push(gz[pos++]!);
        }
      } else if (type === 1) {
        const l = new Uint8Array(288);
        l.fill(8, 0, 144);
        l.fill(9, 144, 256);
        l.fill(7, 256, 280);
        l.fill(8, 280, 288);
        codes(huffman(l, 288), huffman(new Uint8Array(30).fill(5), 30));
      } else if (type === 2) {
        const nlen = bits(5) + 257;
        const ndist = bits(5) + 1;
        const ncode = bits(4) + 4;
        const cl = new Uint8Array(19);
        for (let i = 0; i < ncode; i++) cl[CLORDER[i]!] = bits(3);
        const lencode = huffman(cl, 19);
        const lengths = new Uint8Array(nlen + ndist);
        for (let i = 0; i < nlen + ndist; ) {
          const sym = decode(lencode);
          if (sym < 16) lengths[i++] = sym;
          else {
            let rep = 0;
            let val = 0;
            if (sym === 16) {
              if (i === 0) throw new Error('invalid DEFLATE data (repeat with nothing before)');
              val = lengths[i - 1]!;
              rep = 3 + bits(2);
            } else rep = sym === 17 ? 3 + bits(3) : 11 + bits(7);
            if (i + rep > nlen + ndist) throw new Error('invalid DEFLATE data (too many lengths)');
            lengths.fill(val, i, i + rep);
            i += rep;
          }
        }
        codes(huffman(lengths, nlen), huffman(lengths.subarray(nlen), ndist));
      } else throw new Error('invalid DEFLATE data (block type 3)');
    }
  } catch (err) {
    if (!(err instanceof Truncated)) throw err;
  }
  return Uint8Array.from(out.length > max ? out.slice(0, max) : out);
}
