/**
 * Runs inside a private binfmt_misc namespace (as its root), bundled by helper-fuzz.test.ts.
 * Feeds generated requests to the real Helper in-process — exactly what electron/helper/main.ts
 * does after reading stdin (parse, start-up reconcile unless dry run, run) — and checks, after
 * each request, against the real kernel table and the real files:
 *   - refused → the kernel table and Archway's files are byte-for-byte unchanged, and the error
 *     has a code from the protocol's list and words;
 *   - accepted → the response invariant (register strings re-parse to the catalog rule…) holds AND
 *     the kernel shows what the results claim (installed, removed, enabled, disabled, persisted);
 *   - always → record, persist files and kernel agree (consistencyProblems), the start-up repair
 *     has nothing to repair, and the user's own handlers are untouched.
 * Usage: node driver.mjs <cases.json>  → prints one JSON report on stdout.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProcEntry } from '../../shared/binfmt/entry';
import { parseRegister, sameRule } from '../../shared/binfmt/register';
import { ArchwayError, type HelperResponse } from '../../shared/helper-protocol';
import { ArchwayRecordSchema, type ArchwayRecord } from '../../shared/record';
import { archwayPaths } from '../../electron/engine/paths';
import { hostFacts } from '../../electron/engine/host';
import { Helper, parseRequest } from '../../electron/helper/ops';
import { checkResponse, expectClearError } from './requests';
import { consistencyProblems } from './support';

interface Input {
  root: string;
  resetEvery: number;
  usersOwn: string[];
  /** Handlers of "another tool": registered at each reset; requests may take them over or force them out. */
  otherTools: string[];
  cases: { input: unknown }[];
}

const BINFMT = '/proc/sys/fs/binfmt_misc';
const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Input;
const paths = archwayPaths(spec.root, BINFMT);
const host = hostFacts();

function kernel(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(BINFMT).sort()) if (n !== 'register') out[n] = readFileSync(join(BINFMT, n), 'utf8');
  return out;
}

/** Archway's files (record, persist files, store), by content; the audit log and the lock excluded. */
function files(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      if (p === paths.auditLog || n === 'lock') continue;
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else out[p] = `${(st.mode & 0o7777).toString(8)}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(spec.root);
  return out;
}

/** Archway's record. No file is an empty record; a file that does not parse is a violation (never an empty record). */
function record(problem: (p: string) => void): ArchwayRecord {
  const file = join(paths.stateDir, 'state.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, handlers: {} };
    throw e;
  }
  try {
    return ArchwayRecordSchema.parse(JSON.parse(text));
  } catch (e) {
    problem(`${file} is corrupt (${(e as Error).message.split('\n')[0]}): ${JSON.stringify(text.slice(0, 200))}`);
    return { version: 1, handlers: {} };
  }
}

function persistFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    for (const n of readdirSync(paths.persistDir)) out[n] = readFileSync(join(paths.persistDir, n), 'utf8');
  } catch {
    /* none */
  }
  return out;
}

function reset(): void {
  writeFileSync(join(BINFMT, 'status'), '-1');
  for (const r of [...spec.usersOwn, ...spec.otherTools]) writeFileSync(join(BINFMT, 'register'), r);
  rmSync(spec.root, { recursive: true, force: true });
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const stats = { accepted: 0, refused: 0, partial: 0, refusedEarly: 0 };
const violations: { index: number; input: unknown; problem: string }[] = [];
const usersOwnNames = spec.usersOwn.map((r) => r.split(r[0]!)[1]!);

reset();
const initialUsers = kernel();
for (const [index, c] of spec.cases.entries()) {
  if (index > 0 && index % spec.resetEvery === 0) reset();
  const problem = (p: string) => violations.push({ index, input: c.input, problem: p });
  const k0 = kernel();
  const f0 = files();
  let res: HelperResponse | undefined;
  let repairs: string[] = [];
  try {
    const req = parseRequest(c.input);
    const helper = new Helper({ paths, host, callerUid: 0 });
    if (!req.dryRun) repairs = helper.reconcile();
    res = await helper.run(req);
  } catch (err) {
    if (!(err instanceof ArchwayError)) {
      problem(`threw ${String(err)} (not an ArchwayError)`);
      continue;
    }
    try {
      expectClearError(err.toJSON(), 'request');
    } catch (e) {
      problem((e as Error).message);
    }
    stats.refusedEarly++;
  }
  if (repairs.length) problem(`start-up repair had work to do (state was inconsistent after the previous request): ${repairs.join(' | ')}`);
  const k1 = kernel();
  const f1 = files();
  let verdict: 'accepted' | 'refused' | 'partial' = 'refused';
  if (res) {
    try {
      verdict = checkResponse(res, { hostHeader: host.header, opCount: parseRequest(c.input).ops.length });
    } catch (e) {
      problem((e as Error).message);
    }
  }
  stats[verdict]++;
  if (verdict === 'refused' || res?.dryRun) {
    if (!same(k0, k1)) problem(`refused or dry run, but the kernel table changed: ${JSON.stringify(Object.keys(k0))} → ${JSON.stringify(Object.keys(k1))}`);
    if (!same(f0, f1)) problem('refused or dry run, but Archway\'s files changed');
  }
  if (res && res.ok && !res.dryRun) {
    // The kernel shows what the results claim.
    const rec = record(problem);
    for (const r of res.results) {
      const name = r.name;
      if (!name) continue;
      const text = k1[name];
      if (r.op === 'install') {
        if (!text) problem(`install ${name} ok but not in the kernel`);
        else {
          const e = parseProcEntry(name, text);
          if (!sameRule(e.rule, parseRegister(r.register!))) problem(`install ${name} ok but the kernel shows another rule`);
          if (!e.enabled) problem(`install ${name} ok but disabled`);
        }
        if (!rec.handlers[name]) problem(`install ${name} ok but not in Archway's record`);
      } else if (r.op === 'uninstall' && r.changed) {
        if (text && !(r.register && sameRule(parseProcEntry(name, text).rule, parseRegister(r.register)))) problem(`uninstall ${name} ok but still in the kernel`);
        if (rec.handlers[name]) problem(`uninstall ${name} ok but still in Archway's record`);
      } else if (r.op === 'enable' || r.op === 'disable') {
        if (!text) problem(`${r.op} ${name} ok but no entry`);
        else if (parseProcEntry(name, text).enabled !== (r.op === 'enable')) problem(`${r.op} ${name} ok but the entry is not ${r.op}d`);
      } else if (r.op === 'persist') {
        const on = !!rec.handlers[name]?.persist;
        const want = /^keep |is already kept/.test(r.message);
        if (on !== want) problem(`persist ${name} ok but the record says persist=${on}`);
      }
    }
  }
  const state = { kernel: k1, record: record(problem), persistFiles: persistFiles(), stateDirFiles: Object.keys(f1).map((p) => p.slice(spec.root.length + 1)) };
  for (const p of consistencyProblems(state)) problem(`inconsistent: ${p}`);
  for (const n of usersOwnNames) if (k1[n] !== initialUsers[n]) problem(`the user's own handler ${n} changed`);
}
process.stdout.write(`${JSON.stringify({ stats, violations })}\n`);
