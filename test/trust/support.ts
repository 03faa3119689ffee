/**
 * Shared pieces of the trust suite: running the built helper inside a private binfmt_misc
 * namespace, reading what it left behind, and the consistency invariant ("every handler is either
 * fully registered with its ownership record and persist file, or absent; nothing half-written").
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseProcEntry } from '../../shared/binfmt/entry';
import { parseRegister, sameRule } from '../../shared/binfmt/register';
import { ArchwayRecordSchema, type ArchwayRecord } from '../../shared/record';
import { AuditEntrySchema, type AuditEntry } from '../../electron/engine/audit';
import type { HelperResponse } from '../../shared/helper-protocol';
import { REPO_ROOT } from '../fixtures/foreign';
import type { PrivateBinfmt, RunResult } from '../kernel/namespace';

export const HELPER = join(REPO_ROOT, 'dist/helper/archway-helper.mjs');
export const CLI = join(REPO_ROOT, 'dist/cli/archway.mjs');
export const PERSIST_HEADER = '# Managed by Archway';

export interface HelperResult extends RunResult {
  json: HelperResponse | undefined;
  killed: boolean;
}

/** Run the built helper (as root inside `ns`) with ARCHWAY_ROOT=root and optional extra env. */
export async function runHelperIn(ns: PrivateBinfmt, root: string, request: unknown, env: Record<string, string> = {}): Promise<HelperResult> {
  const r = await ns.run([process.execPath, HELPER], {
    input: typeof request === 'string' ? request : JSON.stringify(request),
    env: { ...process.env, ARCHWAY_ROOT: root, ...env },
  });
  let json: HelperResponse | undefined;
  try {
    json = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as HelperResponse;
  } catch {
    json = undefined;
  }
  return { ...r, json, killed: r.signal === 'SIGKILL' || r.code === 137 };
}

export async function cliIn(ns: PrivateBinfmt, root: string, args: string[]): Promise<RunResult> {
  return ns.run([process.execPath, CLI, ...args], { env: { ...process.env, ARCHWAY_ROOT: root } });
}

/** Write a register string inside the namespace, as another tool (or the user) would. */
export async function registerIn(ns: PrivateBinfmt, register: string): Promise<void> {
  const r = await ns.run([process.execPath, '-e', `require('fs').writeFileSync('/proc/sys/fs/binfmt_misc/register', ${JSON.stringify(register)})`]);
  if (r.code !== 0) throw new Error(`registering ${register} failed: ${r.stderr}`);
}

/** Remove every entry of the namespace's binfmt_misc (write -1 to status), then register `rules` (one process). */
export async function flushIn(ns: PrivateBinfmt, rules: string[] = []): Promise<void> {
  const script = `const fs = require('fs'); const d = '/proc/sys/fs/binfmt_misc/';
fs.writeFileSync(d + 'status', '-1');
for (const r of ${JSON.stringify(rules)}) fs.writeFileSync(d + 'register', r);`;
  const r = await ns.run([process.execPath, '-e', script]);
  if (r.code !== 0) throw new Error(`resetting binfmt_misc failed: ${r.stderr}`);
}

export function recordPath(root: string): string {
  return join(root, 'var/lib/archway/state.json');
}
export function persistDir(root: string): string {
  return join(root, 'etc/binfmt.d');
}
export function auditPath(root: string): string {
  return join(root, 'var/log/archway/audit.log');
}

export function readRecordFile(root: string): ArchwayRecord {
  let text: string;
  try {
    text = readFileSync(recordPath(root), 'utf8');
  } catch {
    return { version: 1, handlers: {} };
  }
  return ArchwayRecordSchema.parse(JSON.parse(text));
}

/** Every audit line, parsed; a line that does not parse is returned as an error string. */
export function readAuditLines(root: string): (AuditEntry | string)[] {
  let text = '';
  try {
    text = readFileSync(auditPath(root), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      try {
        return AuditEntrySchema.parse(JSON.parse(line));
      } catch {
        return `torn line: ${line}`;
      }
    });
}

/** Files under dir (relative names), recursively. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(p, `${rel}${n}/`);
      else out.push(`${rel}${n}`);
    }
  };
  walk(dir, '');
  return out;
}

export interface ConsistencyInput {
  kernel: Record<string, string>;
  record: ArchwayRecord;
  /** name -> text of each persist file present (relative to the persist dir). */
  persistFiles: Record<string, string>;
  /** Every file under the state and persist dirs (to spot leftovers). */
  stateDirFiles: string[];
}

export function gather(ns: PrivateBinfmt, root: string): Promise<ConsistencyInput> {
  return ns.snapshot().then((kernel) => {
    const persistFiles: Record<string, string> = {};
    for (const f of listFiles(persistDir(root))) persistFiles[f] = readFileSync(join(persistDir(root), f), 'utf8');
    return {
      kernel,
      record: readRecordFile(root),
      persistFiles,
      stateDirFiles: [...listFiles(join(root, 'var/lib/archway')).map((f) => `var/lib/archway/${f}`), ...Object.keys(persistFiles).map((f) => `etc/binfmt.d/${f}`)],
    };
  });
}

/**
 * The crash-safety invariant. Returns a list of problems (empty = consistent):
 *  - no pending journal entries remain;
 *  - every handler in the record is in the kernel with exactly the recorded rule, enabled;
 *  - its persist file exists (Archway's header + the recorded rule) iff the record says persist;
 *  - no Archway persist file exists for a handler Archway does not own;
 *  - no temp files are left in the state or persist folders.
 */
export function consistencyProblems(s: ConsistencyInput): string[] {
  const problems: string[] = [];
  if (s.record.pending?.length) problems.push(`pending journal left: ${JSON.stringify(s.record.pending)}`);
  for (const [name, h] of Object.entries(s.record.handlers)) {
    const text = s.kernel[name];
    if (!text) {
      problems.push(`${name} is in Archway's record but not in the kernel`);
      continue;
    }
    const entry = parseProcEntry(name, text);
    if (!sameRule(entry.rule, parseRegister(h.register))) problems.push(`${name}: the kernel's rule differs from the record`);
    const file = `${name}.conf`;
    const have = s.persistFiles[file];
    if (h.persist) {
      if (have === undefined) problems.push(`${name}: record says persist but ${file} is missing`);
      else if (!have.startsWith(PERSIST_HEADER) || !have.split('\n').includes(h.register)) problems.push(`${name}: ${file} does not hold the recorded rule`);
    } else if (have !== undefined && have.startsWith(PERSIST_HEADER)) {
      problems.push(`${name}: record says no persist but ${file} exists`);
    }
  }
  for (const [file, text] of Object.entries(s.persistFiles)) {
    const name = file.replace(/\.conf$/, '');
    if (text.startsWith(PERSIST_HEADER) && !s.record.handlers[name]) problems.push(`${file} is Archway's but Archway does not own ${name}`);
  }
  for (const f of s.stateDirFiles) if (/\.tmp$/.test(f) || /\/\.[^/]*\.[0-9a-f]{12}\.tmp/.test(f)) problems.push(`temp file left behind: ${f}`);
  return problems;
}
