/**
 * The planner's single definitions of what a rule selects: the catalog rule of a CPU, whether a
 * rule matches a file header (what the kernel compares), which catalog CPUs it serves, the
 * native-hijack check (EXEC and DYN headers of the host's own programs), and never-touch. Pure.
 * Status, the dry run and the helper all decide through these.
 */
import { CATALOG, hexByteAt, hexToBytes, type Cpu } from '../arch/catalog';
import { maskedMagic, type MagicRule, type Rule } from '../binfmt/register';
import type { ElfInfo } from '../elf';

/** Does an entry's magic/mask select a file whose first bytes are `header`? (what the kernel checks) */
export function ruleMatchesHeader(rule: Rule, header: Uint8Array): boolean {
  if (rule.type !== 'M') return false;
  // Compared in the hex text, byte by byte, up to the first difference (most rules differ from a
  // header within a few bytes): no decoded copies, in code that runs once per `archway status`.
  const n = rule.magic.length / 2;
  const masked = rule.mask !== '';
  for (let i = 0; i < n; i++) {
    const m = hexByteAt(rule.magic, i);
    const k = masked ? hexByteAt(rule.mask, i) : 0xff;
    if (m < 0 || k < 0) throw new Error(`not a hex string: ${m < 0 ? rule.magic : rule.mask}`);
    const b = header[rule.offset + i] ?? 0;
    if ((b & k) !== (m & k)) return false;
  }
  return true;
}

/** The catalog's rule for a CPU, with a given interpreter and flags. */
export function catalogRule(cpu: Cpu | string, interpreter: string, flags: string): MagicRule {
  const c = CATALOG.find((x) => x.cpu === cpu);
  if (!c) throw new Error(`not a catalog CPU: ${cpu}`);
  return { name: c.handlerName, type: 'M', offset: 0, magic: c.magic, mask: c.mask, interpreter, flags };
}

/** Catalog CPUs whose canonical ELF header (the catalog magic) this rule selects. */
export function cpusForRule(rule: Rule): Cpu[] {
  if (rule.type !== 'M' || rule.offset !== 0) return [];
  const mask = rule.mask === '' ? 'ff'.repeat(rule.magic.length / 2) : rule.mask;
  const masked = maskedMagic(rule);
  const exact = CATALOG.filter((c) => c.mask === mask && c.masked === masked);
  if (exact.length > 0) return exact.map((c) => c.cpu);
  return CATALOG.filter((c) => ruleMatchesHeader(rule, hexToBytes(c.magic))).map((c) => c.cpu);
}

/** Native executables come as EXEC (2) and DYN/PIE (3): a handler matching either hijacks them. */
export function hostHeaders(host: Uint8Array, hostElf: ElfInfo | undefined): Uint8Array[] {
  if (!hostElf) return [host];
  // The same host header is asked about for every rule status and the plans look at: made once per header.
  const known = HOST_HEADERS.get(host);
  if (known && known.elf === hostElf) return known.headers;
  const headers = makeHostHeaders(host, hostElf);
  HOST_HEADERS.set(host, { elf: hostElf, headers });
  return headers;
}

const HOST_HEADERS = new WeakMap<Uint8Array, { elf: ElfInfo; headers: Uint8Array[] }>();

function makeHostHeaders(host: Uint8Array, hostElf: ElfInfo): Uint8Array[] {
  const le = hostElf.endian === 'little';
  return [2, 3].map((t) => {
    const h = Uint8Array.from(host);
    h[16] = le ? t : 0;
    h[17] = le ? 0 : t;
    return h;
  });
}

/** Would this rule send the host's own programs (EXEC or DYN) to an emulator? */
export function hijacksHost(rule: Rule, host: { header: Uint8Array; elf?: ElfInfo | undefined }): boolean {
  return hostHeaders(host.header, host.elf).some((h) => ruleMatchesHeader(rule, h));
}

/**
 * Does this rule carry the setuid risk (flag C: QEMU runs a foreign setuid program with its owner's
 * credentials and reads QEMU_* from the caller)? Status marks it, a plan names it, drop-c removes it.
 */
export function hasSetuidRisk(rule: Pick<Rule, 'flags'>): boolean {
  return rule.flags.includes('C');
}

/** Entries Archway never changes, whatever the request says (WSL's interop handler). */
export function isNeverTouch(name: string): boolean {
  return name.startsWith('WSLInterop');
}
