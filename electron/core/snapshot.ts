/**
 * The snapshot edge for this machine's (or a private instance's) binfmt_misc: read the facts the
 * planner decides from (shared/plan/snapshot.ts). It reads through the same engine functions as
 * status (electron/engine/inspect.ts): the table, the binfmt.d files, binfmt-support's names,
 * Archway's record, the host's ELF identity. Interpreter checks are run only for the files the
 * request's plans can consult (shared/plan/plan.ts interpreterQueries).
 */
import { lstatSync, readFileSync, statSync, existsSync } from 'node:fs';
import { CATALOG, catalogEntry, type Cpu } from '../../shared/arch/catalog';
import { parseProcEntry } from '../../shared/binfmt/entry';
import { ArchwayError, type HelperOp } from '../../shared/helper-protocol';
import { interpreterQueries } from '../../shared/plan/plan';
import { trustKey, type HostSnapshot, type InterpreterFact, type SnapshotCandidate, type SnapshotEntry } from '../../shared/plan/snapshot';
import type { ArchwayRecord } from '../../shared/record';
import { isMounted, readEntries } from '../engine/binfmtfs';
import { distroCandidates, readStoreManifest, storeCandidate } from '../engine/emulators';
import type { HostFacts } from '../engine/host';
import { PERSIST_HEADER, readBinfmtSupport, readBinfmtd, readRecord } from '../engine/owners';
import { persistFile, type ArchwayPaths } from '../engine/paths';
import { trustInterpreter } from '../engine/trust';

/**
 * A file's identity, cheap enough for 32 emulators per request: the link itself (lstat) and what it
 * names (stat) — device, inode, size, mtime and ctime in ns. Replacing the file (rename, copy over,
 * apt upgrade) changes the inode or ctime, which no one but the kernel sets.
 */
export function fileIdentity(path: string): string {
  const id = (s: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint; mode: bigint; uid: bigint }) =>
    `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.mode}:${s.uid}`;
  try {
    return `${id(lstatSync(path, { bigint: true }))}>${id(statSync(path, { bigint: true }))}`;
  } catch {
    return 'absent';
  }
}

/** The kernel's table as the planner sees it: parsed entries by name, in registration order. */
export function readTable(binfmt: string): { mounted: boolean; entries: Map<string, SnapshotEntry>; unparsed: Record<string, string> } {
  const mounted = isMounted(binfmt);
  const entries = new Map<string, SnapshotEntry>();
  const unparsed: Record<string, string> = {};
  if (mounted) {
    for (const e of readEntries(binfmt)) {
      try {
        const p = parseProcEntry(e.name, e.text);
        entries.set(e.name, { rule: p.rule, enabled: p.enabled, order: e.seq });
      } catch (err) {
        unparsed[e.name] = (err as Error).message; // status reports it; a plan that touches it is refused
      }
    }
  }
  return { mounted, entries, unparsed };
}

function cpusOf(ops: readonly HelperOp[]): Cpu[] {
  const out = new Set<Cpu>();
  for (const op of ops) {
    const e = 'arch' in op ? catalogEntry(op.arch) : undefined;
    if (e) out.add(e.cpu);
  }
  return [...out];
}

/**
 * The snapshot a request is planned on. `record` is the executor's copy when it has one (the
 * helper's start-up repair may just have changed it); else it is read.
 */
export function readSnapshot(paths: ArchwayPaths, host: HostFacts, ops: readonly HelperOp[], record?: { record: ArchwayRecord; problem?: string }): HostSnapshot {
  const rec = record ?? readRecord(paths);
  const { mounted, entries, unparsed } = readTable(paths.binfmt);
  const cpus = cpusOf(ops);
  const manifest = cpus.length ? readStoreManifest(paths) : {};
  const candidates: Partial<Record<Cpu, SnapshotCandidate[]>> = {};
  for (const cpu of cpus) {
    // A `use` of a store entry names its sha256: that entry is offered too (after the newest).
    const named = ops.flatMap((op) => (op.op === 'use' && op.emulator.source === 'store' && catalogEntry(op.arch)?.cpu === cpu ? [storeCandidate(paths, cpu, manifest, { sha256: op.emulator.sha256 })] : []));
    candidates[cpu] = [...distroCandidates(cpu), storeCandidate(paths, cpu, manifest), ...named].map((c) => ({
      path: c.path,
      source: c.source,
      preserveArgv0: c.preserveArgv0,
      exists: existsSync(c.path),
      ...(c.sha256 ? { sha256: c.sha256 } : {}),
    }));
  }
  const names = new Set<string>([...cpus.map((c) => CATALOG.find((x) => x.cpu === c)!.handlerName), ...Object.keys(rec.record.handlers)]);
  const persistFiles: HostSnapshot['persistFiles'] = {};
  for (const name of cpus.map((c) => catalogEntry(c)!.handlerName)) {
    const path = persistFile(paths, name);
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      text = existsSync(path) ? '' : undefined; // unreadable: not ours
    }
    (persistFiles as Record<string, { path: string; exists: boolean; ours: boolean }>)[name] = { path, exists: text !== undefined, ours: text?.startsWith(PERSIST_HEADER) ?? false };
  }
  const snap: HostSnapshot = {
    binfmtPath: paths.binfmt,
    mounted,
    entries,
    ...(Object.keys(unparsed).length ? { unparsed } : {}),
    record: rec.record,
    ...(rec.problem ? { recordProblem: rec.problem } : {}),
    binfmtd: readBinfmtd(paths.binfmtdDirs, names).rules,
    binfmtSupport: readBinfmtSupport(paths.binfmtSupportDir),
    persistFiles,
    interpreters: {},
    candidates,
    host: { machine: host.machine, header: host.header, elf: host.elf },
  };
  const interpreters: Record<string, InterpreterFact> = {};
  for (const q of interpreterQueries(snap, ops)) {
    const fact = (interpreters[q.path] ??= { path: q.path, identity: fileIdentity(q.path), trust: {} });
    const key = trustKey(q.path, q);
    if (key in fact.trust) continue;
    try {
      trustInterpreter(q.path, { hostElf: host.elf, allowDynamic: q.allowDynamic, allowSymlink: q.allowSymlink });
      fact.trust[key] = null;
    } catch (err) {
      const e = err instanceof ArchwayError ? err : new ArchwayError('io-error', (err as Error).message ?? String(err));
      fact.trust[key] = { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
    }
  }
  return { ...snap, interpreters };
}
