/**
 * The codec fuzz specs use test/trust/kernel-model.ts as their oracle ("the kernel accepts this
 * string and reads this rule"). This proves the oracle against the real kernel: generated register
 * strings (valid rules, near-valid strings with one field mutated, other delimiters, random bytes,
 * oversized fields) are written to a private binfmt_misc's register file; the kernel's verdict and
 * the /proc entry it shows must be what the model predicts. It also proves Archway's own output
 * end to end: every string buildRegister() makes is accepted by the kernel and read back as the
 * same rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { buildRegister, parseRegister, sameRule } from '../../shared/binfmt/register';
import { parseProcEntry } from '../../shared/binfmt/entry';
import { privateBinfmt, type PrivateBinfmt } from '../kernel/namespace';
import { kernelParse } from './kernel-model';
import { arbAnyString, arbValidRule } from './register-arbitraries';

const SEED = Number(process.env.ARCHWAY_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

let ns: PrivateBinfmt;
let dir: string;

beforeAll(async () => {
  ns = await privateBinfmt();
  dir = mkdtempSync(join(tmpdir(), 'archway-kagree-'));
});
afterAll(async () => {
  await ns?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface KernelAnswer {
  errno: string | null;
  /** The /proc entry's name and text (base64) when registered. */
  entry: { name: string; text: string } | null;
}

/** Write each string (as bytes) to register inside the namespace; read back and remove each entry. */
async function askKernel(strings: Uint8Array[]): Promise<KernelAnswer[]> {
  const file = join(dir, `batch-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(strings.map((s) => Buffer.from(s).toString('base64'))));
  const script = `
const fs = require('fs'); const d = '/proc/sys/fs/binfmt_misc/';
const before = new Set(fs.readdirSync(d));
const out = [];
for (const b64 of JSON.parse(fs.readFileSync(process.argv[1], 'utf8'))) {
  const buf = Buffer.from(b64, 'base64');
  let errno = null, entry = null;
  try {
    const fd = fs.openSync(d + 'register', 'w');
    try { fs.writeSync(fd, buf); } finally { fs.closeSync(fd); }
  } catch (e) { errno = e.code; }
  if (errno === null) {
    const added = fs.readdirSync(d, { encoding: 'buffer' }).filter((n) => !before.has(n.toString('latin1')));
    for (const n of added) {
      const p = Buffer.concat([Buffer.from(d), n]);
      entry = { name: n.toString('base64'), text: fs.readFileSync(p).toString('base64') };
      fs.writeFileSync(p, '-1');
    }
  }
  out.push({ errno, entry });
}
process.stdout.write(JSON.stringify(out));`;
  const r = await ns.run([process.execPath, '-e', script, file], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`kernel driver failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as KernelAnswer[];
}

/** The /proc entry of a registered string, in the model's terms. */
function procView(entry: { name: string; text: string }) {
  const name = Buffer.from(entry.name, 'base64');
  const text = Buffer.from(entry.text, 'base64').toString('latin1');
  const lines = text.split('\n');
  const field = (k: string) => lines.find((l) => l.startsWith(k))?.slice(k.length);
  const ext = field('extension .');
  return {
    name: Buffer.from(name).toString('hex'),
    type: ext !== undefined ? 'E' : 'M',
    offset: ext !== undefined ? 0 : Number(field('offset ') ?? 0),
    magic: ext !== undefined ? Buffer.from(ext, 'latin1').toString('hex') : (field('magic ') ?? ''),
    mask: field('mask ') ?? '',
    interpreter: Buffer.from(field('interpreter ') ?? '', 'latin1').toString('hex'),
    flags: field('flags: ') ?? '',
  };
}

describe('the kernel model agrees with the real kernel', () => {
  it('on generated register strings: same verdict, and the same rule when accepted', async () => {
    // No F flag in this half (with F the kernel opens the interpreter, which the model does not do):
    // strings whose flags field holds F are checked for "not EINVAL when the model accepts".
    const strings = fc.sample(arbAnyString, { numRuns: 1500, seed: SEED }).map((s) => new TextEncoder().encode(s));
    const answers = await askKernel(strings);
    const problems: string[] = [];
    let accepted = 0;
    strings.forEach((bytes, i) => {
      const model = kernelParse(bytes);
      const k = answers[i]!;
      const shown = JSON.stringify(Buffer.from(bytes).toString('latin1')).slice(0, process.env.ARCHWAY_FUZZ_FULL ? undefined : 200);
      if (!model.ok) {
        if (k.errno !== 'EINVAL') problems.push(`model refuses (${model.why}) but the kernel says ${k.errno ?? 'ok'}: ${shown}`);
        return;
      }
      const name = Buffer.from(model.rule.name).toString('latin1');
      const exists = name === 'register' || name === 'status';
      const nameTooLong = model.rule.name.length > 255;
      if (k.errno === 'EINVAL') problems.push(`model accepts but the kernel says EINVAL: ${shown}`);
      else if (k.errno === 'EEXIST' && !exists) problems.push(`unexpected EEXIST: ${shown}`);
      else if (k.errno !== null && !exists && !nameTooLong && !model.rule.flags.includes('F')) problems.push(`model accepts but the kernel says ${k.errno}: ${shown}`);
      // /proc prints one field a line: a newline inside the interpreter or extension cannot be read
      // back unambiguously, so only the verdict is compared for those.
      const unreadable = model.rule.interpreter.includes(0x0a) || (model.rule.type === 'E' && Buffer.from(model.rule.magic, 'hex').includes(0x0a));
      if (k.entry && !unreadable) {
        accepted++;
        const want = { ...model.rule, name: Buffer.from(model.rule.name).toString('hex'), interpreter: Buffer.from(model.rule.interpreter).toString('hex') };
        const got = procView(k.entry);
        if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`the kernel reads ${shown} as ${JSON.stringify(got)}, the model as ${JSON.stringify(want)}`);
      }
    });
    if (problems.length) writeFileSync(join(tmpdir(), `archway-kagree-${SEED}.txt`), problems.join('\n'));
    expect(problems.slice(0, 10), `seed ${SEED} (ARCHWAY_FUZZ_SEED reproduces)`).toEqual([]);
    expect(accepted).toBeGreaterThan(100);
  });

  it("every string Archway builds is accepted by the kernel and read back as the same rule", async () => {
    // Interpreters must exist for F; use a real file for every rule so F rules register too.
    const rules = fc.sample(arbValidRule, { numRuns: 800, seed: SEED }).map((r) => ({ ...r, interpreter: '/usr/bin/qemu-aarch64-static' }));
    const strings = rules.map((r) => buildRegister(r));
    const answers = await askKernel(strings.map((s) => new TextEncoder().encode(s)));
    const problems: string[] = [];
    strings.forEach((s, i) => {
      const k = answers[i]!;
      if (k.errno || !k.entry) {
        problems.push(`kernel refused ${s}: ${k.errno}`);
        return;
      }
      const entry = parseProcEntry(Buffer.from(k.entry.name, 'base64').toString('utf8'), Buffer.from(k.entry.text, 'base64').toString('utf8'));
      if (!sameRule(entry.rule, parseRegister(s))) problems.push(`kernel shows ${JSON.stringify(entry.rule)} for ${s}`);
    });
    expect(problems.slice(0, 10), `seed ${SEED}`).toEqual([]);
  });
});
