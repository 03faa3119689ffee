/**
 * A model of the kernel's binfmt_misc register parser (fs/binfmt_misc.c: create_entry(), scanarg(),
 * check_special_flags(), string_unescape_inplace(UNESCAPE_HEX)), working on BYTES as the kernel
 * does. It is the oracle of the codec fuzz specs: "whatever Archway's parser accepts, the kernel
 * accepts the same way". test/trust/kernel-agreement.test.ts proves the model against the real
 * kernel (a private binfmt_misc instance), so the in-process fuzzing can run thousands of cases
 * without a kernel.
 *
 * Not modelled (they depend on the live table or the filesystem, not on the string): EEXIST for a
 * name that exists (register, status, or an earlier entry), ENAMETOOLONG (> 255 bytes), and F's
 * open_exec() of the interpreter.
 */

import type { Rule } from '../../shared/binfmt/register';

/** BINPRM_BUF_SIZE since Linux 5.1 (128 before). */
export const KERNEL_BINPRM_BUF_SIZE = 256;
export const KERNEL_MAX_REGISTER_LENGTH = 1920;

export interface KernelRule {
  name: Uint8Array;
  type: 'M' | 'E';
  offset: number;
  /** Magic as written (hex; /proc shows it unmasked — Linux 6.x masks at match time). Extension bytes for E, hex. */
  magic: string;
  /** Hex, '' = no mask. */
  mask: string;
  interpreter: Uint8Array;
  /** Canonical letters in /proc order (P, O, C, F); C implies O. */
  flags: string;
}

export type KernelVerdict = { ok: true; rule: KernelRule } | { ok: false; why: string };

const isXdigit = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** kstrtoint(s, 10): optional '+', decimal digits, one optional trailing '\n'; fits in int. */
function kstrtoint(b: Uint8Array): number | undefined {
  let i = 0;
  let end = b.length;
  if (end > 0 && b[end - 1] === 0x0a) end--;
  if (b[0] === 0x2b) i++;
  if (i >= end) return undefined;
  let v = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x39) return undefined;
    v = v * 10 + (c - 0x30);
    if (v > 0x7fffffff) return undefined;
  }
  return v;
}

/**
 * string_unescape_inplace(UNESCAPE_HEX) on a NUL-terminated field (lib/string_helpers.c): a
 * backslash followed by x and one or two hex digits is that byte; a backslash followed by anything
 * else (another backslash included) is kept AND the next character is copied as it is, so "\\x41"
 * is four literal bytes, not a backslash and "A". Stops at the first NUL.
 */
function unescapeHex(field: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  const at = (j: number) => (j < field.length ? field[j]! : 0);
  while (at(i) !== 0) {
    if (at(i) === 0x5c && at(i + 1) !== 0) {
      i++;
      if (at(i) === 0x78 && isXdigit(at(i + 1))) {
        let num = parseInt(String.fromCharCode(at(i + 1)), 16);
        i += 2;
        if (isXdigit(at(i))) {
          num = num * 16 + parseInt(String.fromCharCode(at(i)), 16);
          i++;
        }
        out.push(num);
        continue;
      }
      out.push(0x5c);
    }
    out.push(at(i));
    i++;
  }
  return Uint8Array.from(out);
}

/** The C string at `buf[start]` (up to the first NUL, or `end`). */
function cstr(buf: Uint8Array, start: number, end: number): Uint8Array {
  const nul = buf.subarray(start, end).indexOf(0);
  return buf.subarray(start, nul === -1 ? end : start + nul);
}

/** What the kernel does with `input` written to binfmt_misc/register (as UTF-8). */
export function kernelParse(input: string | Uint8Array): KernelVerdict {
  const raw = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  const count = raw.length;
  if (count < 11 || count > KERNEL_MAX_REGISTER_LENGTH) return { ok: false, why: `length ${count} outside 11..1920` };
  const del = raw[0]!;
  // The kernel pads the buffer with 8 delimiters to simplify parsing.
  const buf = new Uint8Array(count + 8);
  buf.set(raw);
  buf.fill(del, count);
  const strchr = (from: number, ch: number): number => {
    for (let i = from; i < buf.length; i++) {
      if (buf[i] === ch) return i;
      if (buf[i] === 0) return -1;
    }
    return -1;
  };
  let p = 1;
  // name
  let q = strchr(p, del);
  if (q < 0) return { ok: false, why: 'no delimiter after name' };
  const name = buf.slice(p, q);
  p = q + 1;
  if (name.length === 0) return { ok: false, why: 'empty name' };
  const nameStr = Buffer.from(name).toString('latin1');
  if (nameStr === '.' || nameStr === '..' || name.includes(0x2f)) return { ok: false, why: 'bad name' };
  if (name.includes(0)) return { ok: false, why: 'NUL in name (strchr stops)' };
  // type
  const type = buf[p++];
  if (type !== 0x45 && type !== 0x4d) return { ok: false, why: 'type not M/E' };
  if (buf[p++] !== del) return { ok: false, why: 'no delimiter after type' };
  let offset = 0;
  let magic: string;
  let mask = '';
  if (type === 0x4d) {
    q = strchr(p, del);
    if (q < 0) return { ok: false, why: 'no delimiter after offset' };
    if (q !== p) {
      const v = kstrtoint(buf.subarray(p, q));
      if (v === undefined) return { ok: false, why: 'bad offset' };
      offset = v;
    }
    p = q + 1;
    // scanarg() for magic and mask: up to the delimiter, \x must be followed by two hex digits
    const scan = (from: number): number => {
      let s = from;
      for (;;) {
        const c = buf[s++];
        if (c === undefined) return -1;
        if (c === del) return s; // returns the char after the delimiter
        if (c === 0x5c && buf[s] === 0x78) {
          s++;
          if (!isXdigit(buf[s++] ?? 0)) return -1;
          if (!isXdigit(buf[s++] ?? 0)) return -1;
        }
        // No NUL check: scanarg() walks over NUL bytes; the unescape below stops at the first one.
      }
    };
    const magicStart = p;
    p = scan(p);
    if (p < 0) return { ok: false, why: 'bad magic field' };
    const magicField = buf.subarray(magicStart, p - 1);
    if (magicField.length === 0 || magicField[0] === 0) return { ok: false, why: 'empty magic' };
    const maskStart = p;
    p = scan(p);
    if (p < 0) return { ok: false, why: 'bad mask field' };
    const maskField = buf.subarray(maskStart, p - 1);
    const m = unescapeHex(magicField);
    const hasMask = maskField.length > 0 && maskField[0] !== 0;
    const k = hasMask ? unescapeHex(maskField) : undefined;
    if (k && k.length !== m.length) return { ok: false, why: 'mask length differs' };
    if (m.length > KERNEL_BINPRM_BUF_SIZE || KERNEL_BINPRM_BUF_SIZE - m.length < offset) return { ok: false, why: 'magic window' };
    magic = hex(m);
    mask = k ? hex(k) : '';
  } else {
    q = strchr(p, del);
    if (q < 0) return { ok: false, why: 'no delimiter after offset' };
    p = q + 1;
    q = strchr(p, del);
    if (q < 0) return { ok: false, why: 'no delimiter after extension' };
    const ext = buf.subarray(p, q);
    p = q + 1;
    if (ext.length === 0 || ext.includes(0x2f)) return { ok: false, why: 'bad extension' };
    magic = hex(ext);
    q = strchr(p, del);
    if (q < 0) return { ok: false, why: 'no delimiter after mask' };
    p = q + 1;
  }
  q = strchr(p, del);
  if (q < 0) return { ok: false, why: 'no delimiter after interpreter' };
  const interpreter = cstr(buf, p, q);
  p = q + 1;
  if (interpreter.length === 0) return { ok: false, why: 'empty interpreter' };
  const set = new Set<string>();
  for (;;) {
    const c = String.fromCharCode(buf[p] ?? 0);
    if (c === 'P' || c === 'O' || c === 'C' || c === 'F') {
      set.add(c);
      if (c === 'C') set.add('O');
      p++;
    } else break;
  }
  if (buf[p] === 0x0a) p++;
  if (p !== count) return { ok: false, why: 'junk after flags' };
  const flags = ['P', 'O', 'C', 'F'].filter((l) => set.has(l)).join('');
  return { ok: true, rule: { name, type: type === 0x4d ? 'M' : 'E', offset, magic, mask, interpreter, flags } };
}

/** The kernel's view of an Archway rule (what /proc would show), to compare with kernelParse(). */
export function kernelViewOf(rule: Rule): Omit<KernelRule, 'name' | 'interpreter'> & { name: string; interpreter: string } {
  const set = new Set(rule.flags.split(''));
  if (set.has('C')) set.add('O');
  const flags = ['P', 'O', 'C', 'F'].filter((l) => set.has(l)).join('');
  if (rule.type === 'E') {
    return { name: rule.name, type: 'E', offset: 0, magic: Buffer.from(rule.extension, 'utf8').toString('hex'), mask: '', interpreter: rule.interpreter, flags };
  }
  return { name: rule.name, type: 'M', offset: rule.offset || 0, magic: rule.magic, mask: rule.mask, interpreter: rule.interpreter, flags };
}

/** KernelRule with names as UTF-8 strings, for deep equality with kernelViewOf(). */
export function kernelRuleView(r: KernelRule): ReturnType<typeof kernelViewOf> {
  return { ...r, name: Buffer.from(r.name).toString('utf8'), interpreter: Buffer.from(r.interpreter).toString('utf8') };
}
