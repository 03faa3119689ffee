/**
 * A minimal tar reader for what the engine's archive endpoint returns (ustar, with GNU long names
 * and pax extended headers). Pure: bytes in, entries out. Refuses what it does not understand.
 */

export interface TarEntry {
  path: string;
  type: 'file' | 'symlink' | 'hardlink' | 'directory' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkTarget?: string;
  data: Uint8Array;
}

export class TarError extends Error {}

const BLOCK = 512;

function str(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  let s = '';
  for (let i = off; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function octal(b: Uint8Array, off: number, len: number, what: string): number {
  // Base-256 (GNU) for large numbers: first byte has the high bit set.
  if ((b[off]! & 0x80) !== 0) {
    let v = b[off]! & 0x7f;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = str(b, off, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarError(`bad ${what} field "${s}" in tar header`);
  return parseInt(s, 8);
}

function utf8(bytes: Uint8Array): string {
  try {
    return decodeURIComponent(Array.from(bytes, (c) => `%${c.toString(16).padStart(2, '0')}`).join(''));
  } catch {
    throw new TarError('pax header is not UTF-8');
  }
}

function parsePax(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    let sp = i;
    while (sp < data.length && data[sp] !== 0x20) sp++;
    const len = parseInt(str(data, i, sp - i), 10);
    if (!Number.isFinite(len) || len <= 0 || i + len > data.length) throw new TarError('bad pax header');
    const record = utf8(data.subarray(sp + 1, i + len - 1));
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

function checksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === octal(h, 148, 8, 'checksum');
}

/** Every entry of a tar archive, in order. */
export function readTar(buf: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    if (!checksumOk(h)) throw new TarError(`bad tar header checksum at offset ${off}`);
    const flag = String.fromCharCode(h[156]!) || '0';
    let size = octal(h, 124, 12, 'size');
    if (pax.size !== undefined) size = Number(pax.size);
    const dataStart = off + BLOCK;
    if (dataStart + size > buf.length) throw new TarError('tar archive is truncated');
    const data = buf.subarray(dataStart, dataStart + size);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'L') {
      longName = str(data, 0, data.length);
      continue;
    }
    if (flag === 'K') {
      longLink = str(data, 0, data.length);
      continue;
    }
    if (flag === 'x') {
      pax = parsePax(data);
      continue;
    }
    if (flag === 'g') continue;
    const magic = str(h, 257, 6);
    const prefix = magic.startsWith('ustar') ? str(h, 345, 155) : '';
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
    const link = pax.linkpath ?? longLink ?? str(h, 157, 100);
    const type: TarEntry['type'] =
      flag === '0' || flag === '\0' || flag === '7' ? 'file' : flag === '2' ? 'symlink' : flag === '1' ? 'hardlink' : flag === '5' ? 'directory' : 'other';
    entries.push({
      path: name,
      type,
      mode: octal(h, 100, 8, 'mode') & 0o7777,
      uid: pax.uid !== undefined ? Number(pax.uid) : octal(h, 108, 8, 'uid'),
      gid: pax.gid !== undefined ? Number(pax.gid) : octal(h, 116, 8, 'gid'),
      size,
      ...(type === 'symlink' || type === 'hardlink' ? { linkTarget: link } : {}),
      data: type === 'file' ? data : new Uint8Array(0),
    });
    longName = undefined;
    longLink = undefined;
    pax = {};
  }
  return entries;
}
