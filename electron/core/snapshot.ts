/**
 * The one reader of a binfmt_misc target's facts (this machine's, or a private instance's named by
 * an ArchwayPaths): the table, the binfmt.d files, binfmt-support's names, Archway's record, the
 * emulators on offer, the boot-time files, the host's ELF identity, and the interpreter checks the
 * plans will consult (shared/plan/plan.ts interpreterQueries). The planner decides from what it
 * returns (shared/plan/snapshot.ts); status is derived from the same snapshot read with its status
 * facts (shared/status.ts statusOf; electron/engine/inspect.ts readStatus), so the two never read or
 * assemble the same facts twice.
 */
import { closeSync, existsSync, lstatSync, openSync, readFileSync, readSync, readlinkSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { CATALOG, catalogEntry, type Cpu } from '../../shared/arch/catalog';
import { parseProcEntry } from '../../shared/binfmt/entry';
import type { ElfInfo } from '../../shared/elf';
import { ArchwayError } from '../../shared/errors';
import type { HelperOp } from '../../shared/helper-protocol';
import { readinessOps } from '../../shared/plan/install';
import { interpreterQueries } from '../../shared/plan/plan';
import { trustKey, type HostSnapshot, type InterpreterFact, type SnapshotCandidate, type SnapshotEntry } from '../../shared/plan/snapshot';
import { describeReported } from '../../shared/provenance';
import type { ArchwayRecord } from '../../shared/record';
import type { InterpreterFacts } from '../../shared/status';
import { isMounted, readEntries, readGlobalStatus, type RawEntry } from '../engine/binfmtfs';
import { distroCandidates, readStoreEntries, storeCandidate, storeCandidates } from '../engine/emulators';
import { gunzipHead } from '../engine/gunzip-head';
import { readElf, type HostFacts } from '../engine/host';
import { PERSIST_HEADER, readBinfmtSupport, readBinfmtd, readRecord } from '../engine/owners';
import { listIfPresent, persistFile, type ArchwayPaths } from '../engine/paths';
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
  return { mounted, ...parseTable(mounted ? readEntries(binfmt) : []) };
}

function parseTable(raw: readonly RawEntry[]): { entries: Map<string, SnapshotEntry>; unparsed: Record<string, string> } {
  const entries = new Map<string, SnapshotEntry>();
  const unparsed: Record<string, string> = {};
  for (const e of raw) {
    try {
      const p = parseProcEntry(e.name, e.text);
      entries.set(e.name, { rule: p.rule, enabled: p.enabled, order: e.seq });
    } catch (err) {
      unparsed[e.name] = (err as Error).message; // status reports it; a plan that touches it is refused
    }
  }
  return { entries, unparsed };
}

function cpusOf(ops: readonly HelperOp[]): Cpu[] {
  const out = new Set<Cpu>();
  for (const op of ops) {
    const e = 'arch' in op ? catalogEntry(op.arch) : undefined;
    if (e) out.add(e.cpu);
  }
  return [...out];
}

/** The identity of a file in a snapshot read for status: not read (no plan made from it is applied). */
export const STATUS_ONLY = 'not read (status)';

/** What a snapshot is read for. */
export interface SnapshotScope {
  /** The operations it will be planned for: whose emulators, boot-time files and interpreter checks are read. */
  ops: readonly HelperOp[];
  /** Also read what status shows (entry texts, the global switch, interpreter file facts, emulator versions). */
  status?: boolean;
  /** The executor's copy of the record, when it has one (the helper's start-up repair may just have changed it); else it is read. */
  record?: { record: ArchwayRecord; problem?: string };
}

/** The scope status reads: every install status asks readiness for (shared/plan/install.ts readinessOps), with the status facts. */
export function statusScope(host: HostFacts): SnapshotScope {
  return { ops: readinessOps(host.machine), status: true };
}

/** The snapshot a request is planned on (compatible form of readHostSnapshot). */
export function readSnapshot(paths: ArchwayPaths, host: HostFacts, ops: readonly HelperOp[], record?: { record: ArchwayRecord; problem?: string }): HostSnapshot {
  return readHostSnapshot(paths, host, { ops, ...(record ? { record } : {}) });
}

/** Read a target's snapshot for `scope`: the one reader behind plans and status. */
export function readHostSnapshot(paths: ArchwayPaths, host: HostFacts, scope: SnapshotScope): HostSnapshot {
  const { ops } = scope;
  const rec = scope.record ?? readRecord(paths);
  const mounted = isMounted(paths.binfmt);
  const raw = mounted ? readEntries(paths.binfmt) : [];
  const { entries, unparsed } = parseTable(raw);
  const cpus = cpusOf(ops);
  const store = cpus.length || scope.status ? readStoreEntries(paths) : [];
  const candidates: Partial<Record<Cpu, SnapshotCandidate[]>> = {};
  for (const cpu of cpus) {
    // Status lists every stored version (newest first: what *Use previous* and the version picker
    // offer); a plan offers the newest, and a `use` of a store entry also the one its sha256 names.
    const named = () => ops.flatMap((op) => (op.op === 'use' && op.emulator.source === 'store' && catalogEntry(op.arch)?.cpu === cpu ? [storeCandidate(paths, cpu, store, { sha256: op.emulator.sha256 })] : []));
    const stored = scope.status ? storeCandidates(paths, cpu, store) : [storeCandidate(paths, cpu, store), ...named()];
    candidates[cpu] = [...distroCandidates(cpu), ...stored].map((c) => ({
      path: c.path,
      source: c.source,
      preserveArgv0: c.preserveArgv0,
      exists: existsSync(c.path),
      ...(c.sha256 ? { sha256: c.sha256 } : {}),
      ...(c.reported ? { reported: c.reported } : {}),
      ...(c.version ? { version: c.version } : {}),
    }));
  }
  const handlerNames = cpus.map((c) => catalogEntry(c)!.handlerName);
  // binfmt.d rules are parsed only for names that can matter (Archway's own files always): the
  // record's; the table's for status (owners of what is registered); the request's for a plan. A
  // status readiness plan reads owners only of names in the table, so status parses no more.
  const names = new Set<string>([...Object.keys(rec.record.handlers), ...(scope.status ? raw.map((e) => e.name) : handlerNames)]);
  const persistFiles: Record<string, { path: string; exists: boolean; ours: boolean }> = {};
  // One listing of the boot-time directory instead of a lookup per CPU (status asks for all 32).
  let listed: Set<string>;
  try {
    listed = new Set(listIfPresent(paths.persistDir)); // none when there is no such directory
  } catch {
    listed = new Set(); // unreadable: no boot-time files seen
  }
  for (const name of handlerNames) {
    const path = persistFile(paths, name);
    let text: string | undefined;
    if (listed.has(basename(path))) {
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        // Gone since the listing, or a dangling link: not there (as existsSync said before); else unreadable: not ours.
        text = (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : '';
      }
    }
    persistFiles[name] = { path, exists: text !== undefined, ours: text?.startsWith(PERSIST_HEADER) ?? false };
  }
  const binfmtd = readBinfmtd(paths.binfmtdDirs, names);
  const snap: HostSnapshot = {
    binfmtPath: paths.binfmt,
    mounted,
    entries,
    ...(Object.keys(unparsed).length ? { unparsed } : {}),
    record: rec.record,
    ...(rec.problem ? { recordProblem: rec.problem } : {}),
    binfmtd: binfmtd.rules,
    binfmtSupport: readBinfmtSupport(paths.binfmtSupportDir),
    persistFiles,
    interpreters: {},
    candidates,
    host: { machine: host.machine, header: host.header, elf: host.elf },
  };
  const interpreters: Record<string, InterpreterFact> = {};
  // Directories found root-owned and not writable by others during this one reading.
  const trustedDirs = new Set<string>();
  const realDirs = new Map<string, string>();
  // For status: the ELF facts of each file the checks read, so the interpreter facts of the same
  // file (same device and inode) are not read a second time (one ELF read per file).
  const elfRead = new Map<string, ElfRead>();
  for (const op of ops) {
    for (const q of interpreterQueries(snap, [op])) {
      // Status binds no plan to content (it shows readiness, never applies it): no identity read for it.
      const fact = (interpreters[q.path] ??= { path: q.path, identity: scope.status ? STATUS_ONLY : fileIdentity(q.path), trust: {} });
      const key = trustKey(q.path, q);
      if (!(key in fact.trust)) {
        try {
          const t = trustInterpreter(q.path, { hostElf: host.elf, allowDynamic: q.allowDynamic, allowSymlink: q.allowSymlink, trustedDirs, realDirs });
          if (scope.status) elfRead.set(t.realPath, { dev: t.dev, ino: t.ino, elf: t.elf });
          fact.trust[key] = null;
        } catch (err) {
          const e = err instanceof ArchwayError ? err : new ArchwayError('io-error', (err as Error).message ?? String(err));
          fact.trust[key] = { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
        }
      }
      // An install takes the first emulator that checks out, in this order (shared/plan/install.ts
      // pickInterpreter): the verdicts after it are never consulted, so they are not read.
      if (op.op === 'install' && fact.trust[key] === null) break;
    }
  }
  if (!scope.status) return { ...snap, interpreters };
  const files: Record<string, InterpreterFacts> = {};
  for (const e of entries.values()) files[e.rule.interpreter] ??= interpreterFacts(e.rule.interpreter, elfRead);
  return {
    ...snap,
    interpreters,
    status: {
      globalEnabled: mounted ? readGlobalStatus(paths.binfmt) : null,
      texts: raw,
      files,
      emulatorVersions: {
        ...(raw.length ? { distro: distroQemuVersion() } : {}),
        storeDir: paths.storeDir,
        store: Object.fromEntries(store.map((m) => [m.file, describeReported(m.reported)])),
        storeVersions: Object.fromEntries(store.flatMap((m) => (m.version ? [[m.file, m.version]] : []))),
      },
      problems: binfmtd.problems,
    },
  };
}

/** The ELF facts of a file read during the same snapshot reading, with the file's device and inode. */
export interface ElfRead {
  dev: number;
  ino: number;
  elf: ElfInfo;
}

/**
 * stat and ELF facts of an interpreter file, as status shows them (no privileges needed). `read`:
 * ELF facts already read in this reading, by real path; used when the file is still the same one
 * (not a symlink, same device and inode), instead of opening it again.
 */
export function interpreterFacts(path: string, read?: ReadonlyMap<string, ElfRead>): InterpreterFacts {
  const facts: InterpreterFacts = { path, exists: false };
  let l;
  try {
    l = lstatSync(path);
    if (l.isSymbolicLink()) facts.symlinkTarget = readlinkSync(path);
  } catch {
    return facts;
  }
  try {
    // Not a symlink: lstat already said what stat would (one syscall per interpreter fewer).
    const st = l.isSymbolicLink() ? statSync(path) : l;
    facts.exists = true;
    facts.regular = st.isFile();
    facts.uid = st.uid;
    facts.mode = st.mode;
    if (st.isFile()) {
      const seen = st === l ? read?.get(path) : undefined;
      facts.elf = seen && seen.dev === st.dev && seen.ino === st.ino ? seen.elf : (readElf(path) ?? null);
    }
  } catch (err) {
    facts.error = (err as Error).message;
  }
  return facts;
}

/** The distribution's QEMU version, from Debian/Ubuntu's package changelog (no process spawned). */
export function distroQemuVersion(): string | undefined {
  try {
    // Only the first line is needed: inflate the first kilobyte, not the whole changelog.
    const fd = openSync('/usr/share/doc/qemu-user-static/changelog.Debian.gz', 'r');
    const head = Buffer.alloc(1024);
    let n: number;
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    // Decoded here rather than with node:zlib, whose loading (Node's stream stack) cost status 2–4 ms.
    const text = Buffer.from(gunzipHead(head.subarray(0, n), 200)).toString('utf8');
    const m = /^qemu \((?:\d+:)?([^)]+)\)/.exec(text);
    return m ? m[1] : undefined;
  } catch {
    return undefined;
  }
}
