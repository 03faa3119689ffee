/**
 * The binfmt_misc register-string codec: `:name:type:offset:magic:mask:interpreter:flags`.
 * Rules follow the kernel's create_entry() (fs/binfmt_misc.c), tightened where older kernels are
 * stricter (offset + magic ≤ 128, the BINPRM_BUF_SIZE of kernels before 5.1). Pure.
 */
import { andHex, bytesToHex, CATALOG } from '../arch/catalog';
import { normaliseFlags, type FlagString } from './flags';

export const MAX_REGISTER_LENGTH = 1920;
export const MIN_REGISTER_LENGTH = 11;
export const MAX_INTERPRETER_LENGTH = 127;
export const MAX_MAGIC_WINDOW = 128;
export const MAX_NAME_LENGTH = 64;
export const RESERVED_NAMES: readonly string[] = ['register', 'status', '.', '..'];

export interface MagicRule {
  name: string;
  type: 'M';
  offset: number;
  /** Hex. */
  magic: string;
  /** Hex, same length as magic; '' means "no mask" (all bits compared). */
  mask: string;
  interpreter: string;
  flags: FlagString;
}

export interface ExtensionRule {
  name: string;
  type: 'E';
  extension: string;
  interpreter: string;
  flags: FlagString;
}

export type Rule = MagicRule | ExtensionRule;

export class RuleError extends Error {
  readonly code = 'invalid-rule';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

function hasControlOrDelimiter(s: string): boolean {
  // ':' is the delimiter we use; control characters (newline, NUL…) would end or split the write.
  return /[:\x00-\x1f\x7f]/.test(s);
}

export function validateName(name: string): void {
  if (name.length === 0) throw new RuleError('name', 'must not be empty');
  if (name.length > MAX_NAME_LENGTH) throw new RuleError('name', `longer than ${MAX_NAME_LENGTH} characters`);
  if (RESERVED_NAMES.includes(name)) throw new RuleError('name', `"${name}" is reserved by binfmt_misc`);
  if (name.includes('/')) throw new RuleError('name', 'must not contain "/"');
  if (hasControlOrDelimiter(name)) throw new RuleError('name', 'must not contain ":" or control characters');
  if (/[^\x20-\x7e]/.test(name)) throw new RuleError('name', 'must be printable ASCII');
}

export function validateInterpreter(interpreter: string): void {
  if (interpreter.length === 0) throw new RuleError('interpreter', 'must not be empty');
  if (interpreter.length > MAX_INTERPRETER_LENGTH) {
    throw new RuleError('interpreter', `longer than ${MAX_INTERPRETER_LENGTH} characters`);
  }
  if (hasControlOrDelimiter(interpreter)) {
    throw new RuleError('interpreter', 'must not contain ":" or control characters');
  }
  if (/[^\x20-\x7e]/.test(interpreter)) throw new RuleError('interpreter', 'must be printable ASCII');
}

/** Validate a rule the way the kernel will; throws RuleError. */
export function validateRule(rule: Rule): void {
  validateName(rule.name);
  validateInterpreter(rule.interpreter);
  normaliseFlags(rule.flags);
  if (rule.type === 'M') {
    if (!Number.isInteger(rule.offset) || rule.offset < 0) throw new RuleError('offset', 'must be a whole number ≥ 0');
    if (!/^([0-9a-f]{2})+$/.test(rule.magic)) throw new RuleError('magic', 'must be non-empty hex bytes');
    if (rule.mask !== '' && !/^([0-9a-f]{2})+$/.test(rule.mask)) throw new RuleError('mask', 'must be hex bytes');
    const size = rule.magic.length / 2;
    if (rule.mask !== '' && rule.mask.length !== rule.magic.length) {
      throw new RuleError('mask', `is ${rule.mask.length / 2} bytes but magic is ${size}`);
    }
    if (rule.offset + size > MAX_MAGIC_WINDOW) {
      throw new RuleError('magic', `offset + magic length is ${rule.offset + size}, the limit is ${MAX_MAGIC_WINDOW}`);
    }
  } else {
    if (rule.extension.length === 0) throw new RuleError('extension', 'must not be empty');
    if (rule.extension.includes('/') || hasControlOrDelimiter(rule.extension)) {
      throw new RuleError('extension', 'must not contain "/", ":" or control characters');
    }
  }
}

const ESCAPED = new Map<string, string>();
/** Every byte as \xHH: no delimiter, newline or backslash can hide inside. */
export function escapeBytes(hex: string): string {
  let out = ESCAPED.get(hex);
  if (out === undefined) {
    out = hex.replace(/(..)/g, '\\x$1');
    // The catalog's magics and masks, asked for again by every plan and status line: kept (bounded).
    if (ESCAPED.size < 512) ESCAPED.set(hex, out);
  }
  return out;
}

/**
 * Decode a magic or mask field. Only the form Archway and the kernel agree on byte for byte is
 * accepted: printable ASCII, where a backslash always starts `\xHH` (two hex digits, as the kernel's
 * scanarg() demands). A lone backslash, which the kernel's unescape reads differently, is refused.
 */
export function unescapeBytes(s: string, field = 'magic'): string {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 0x5c) {
      if (s[i + 1] !== 'x' || !/^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
        throw new RuleError(field, 'a backslash must start a \\xHH escape with two hex digits');
      }
      out.push(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (ch < 0x20 || ch > 0x7e) {
      throw new RuleError(field, 'must be printable ASCII (write other bytes as \\xHH)');
    } else {
      out.push(ch);
    }
  }
  return bytesToHex(Uint8Array.from(out));
}

/** Build the exact string written to binfmt_misc/register. Throws RuleError. */
export function buildRegister(rule: Rule): string {
  validateRule(rule);
  const flags = normaliseFlags(rule.flags);
  const s =
    rule.type === 'M'
      ? `:${rule.name}:M:${rule.offset === 0 ? '' : rule.offset}:${escapeBytes(rule.magic)}:${escapeBytes(rule.mask)}:${rule.interpreter}:${flags}`
      : `:${rule.name}:E::${rule.extension}::${rule.interpreter}:${flags}`;
  if (s.length < MIN_REGISTER_LENGTH || s.length > MAX_REGISTER_LENGTH) {
    throw new RuleError('register', `string is ${s.length} bytes; the kernel accepts ${MIN_REGISTER_LENGTH}–${MAX_REGISTER_LENGTH}`);
  }
  return s;
}

/**
 * Parse a register string (as found in /etc/binfmt.d, /usr/lib/binfmt.d or written by other tools).
 * Accepts any delimiter character, as the kernel does. Throws RuleError.
 */
export function parseRegister(input: string): Rule {
  const line = input.endsWith('\n') ? input.slice(0, -1) : input;
  // The kernel parses bytes as C strings: refuse what it would read differently (non-ASCII, where
  // lengths and the delimiter are bytes; NUL and other control characters, which end or split fields).
  if (/[^\x20-\x7e]/.test(line)) {
    throw new RuleError('register', 'must be printable ASCII on one line (write other bytes in magic and mask as \\xHH)');
  }
  if (line.length < MIN_REGISTER_LENGTH || line.length > MAX_REGISTER_LENGTH) {
    throw new RuleError('register', `string is ${line.length} bytes; the kernel accepts ${MIN_REGISTER_LENGTH}–${MAX_REGISTER_LENGTH}`);
  }
  const del = line[0]!;
  if (del === '\\' || /[\x00-\x1f]/.test(del)) throw new RuleError('register', 'bad delimiter');
  const parts = line.slice(1).split(del);
  // The magic may legitimately contain the delimiter only when escaped, so a plain split is exact.
  if (parts.length !== 7) throw new RuleError('register', `expected 7 fields after the delimiter, found ${parts.length}`);
  const [name, type, offset, magic, mask, interpreter, flags] = parts as [string, string, string, string, string, string, string];
  let rule: Rule;
  if (type === 'M') {
    if (offset !== '' && !/^\d+$/.test(offset)) throw new RuleError('offset', 'must be a whole number');
    rule = {
      name,
      type: 'M',
      offset: offset === '' ? 0 : Number(offset),
      magic: unescapeBytes(magic, 'magic'),
      mask: mask === '' ? '' : unescapeBytes(mask, 'mask'),
      interpreter,
      flags: flags as FlagString,
    };
  } else if (type === 'E') {
    rule = { name, type: 'E', extension: magic, interpreter, flags: flags as FlagString };
  } else {
    throw new RuleError('type', `must be "M" (magic) or "E" (extension), got "${type}"`);
  }
  validateRule(rule);
  return { ...rule, flags: normaliseFlags(rule.flags) };
}

/** Two rules select the same files and run the same interpreter the same way. */
export function sameRule(a: Rule, b: Rule): boolean {
  if (a.name !== b.name || a.type !== b.type || a.interpreter !== b.interpreter) return false;
  if (normaliseFlags(a.flags) !== normaliseFlags(b.flags)) return false;
  return sameMatch(a, b);
}

/** Two rules select the same files (name, interpreter and flags aside). */
export function sameMatch(a: Rule, b: Rule): boolean {
  if (a.type === 'E' || b.type === 'E') return a.type === b.type && (a as ExtensionRule).extension === (b as ExtensionRule).extension;
  return a.offset === b.offset && effectiveMask(a) === effectiveMask(b) && maskedMagic(a) === maskedMagic(b);
}

function effectiveMask(r: Pick<MagicRule, 'magic' | 'mask'>): string {
  return r.mask === '' ? 'ff'.repeat(r.magic.length / 2) : r.mask;
}

/**
 * Masked magic per (magic, mask) pair, computed once: status and the plans compare the same few
 * rules many times. Starts with the catalog's own (data: most rules in a table are the catalog's).
 */
let MASKED: Map<string, string> | undefined;

/** magic & mask, which is what the kernel really compares. */
export function maskedMagic(r: Pick<MagicRule, 'magic' | 'mask'>): string {
  const mask = effectiveMask(r);
  const key = `${r.magic}/${mask}`;
  MASKED ??= new Map(CATALOG.map((c) => [`${c.magic}/${c.mask}`, c.masked]));
  let out = MASKED.get(key);
  if (out === undefined) {
    out = andHex(r.magic, mask);
    if (MASKED.size < 512) MASKED.set(key, out);
  }
  return out;
}
