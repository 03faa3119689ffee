/**
 * What the planner reads: one target's binfmt_misc table and everything around it, as plain data.
 * An edge (electron/core/snapshot.ts for this machine) fills it; the planner (shared/plan/plan.ts)
 * decides from it alone, so the same snapshot always gives the same plan. Pure types.
 */
import type { Cpu } from '../arch/catalog';
import type { Rule } from '../binfmt/register';
import type { ElfInfo } from '../elf';
import type { ErrorCode } from '../helper-protocol';
import type { ArchwayRecord, HandlerRecord } from '../record';
import type { BinfmtdRule, InterpreterFacts } from '../status';

export interface SnapshotEntry {
  rule: Rule;
  enabled: boolean;
  /** Position in the kernel's table (registration order; the kernel tries entries newest first). */
  order: number;
}

/** An emulator the target offers for a CPU, in preference order. */
export interface SnapshotCandidate {
  path: string;
  source: Exclude<HandlerRecord['source'], 'path'>;
  /** Debian's `<cpu>-binfmt-P` wrapper: QEMU expects flag P. */
  preserveArgv0: boolean;
  exists: boolean;
  /** A store entry's content digest and its extractor's claim, in words ("reported: …"): shown, never trusted. */
  sha256?: string;
  reported?: string;
  /** The version string a store entry's bytes carry (read by the helper when it stored them). */
  version?: string;
}

/** The key of one trust verdict: the same path can be checked as a fixed wrapper (symlink allowed) or not. */
export function trustKey(path: string, opts: { allowSymlink: boolean; allowDynamic: boolean }): string {
  return `${path}|${opts.allowSymlink ? 'link' : 'nolink'}|${opts.allowDynamic ? 'dyn' : 'static'}`;
}

export interface InterpreterFact {
  path: string;
  /**
   * The file's identity as the target saw it (device, inode, size, times, mode, owner of the link and
   * of what it names; 'absent'): bound into the plan's digest, so a swapped file changes the plan. ('not read (status)' in a snapshot read for status only, which no applied plan comes from)
   */
  identity: string;
  /** Verdicts of the interpreter checks, by trustKey(): null = trusted, else the refusal. */
  trust: Record<string, { code: ErrorCode; message: string; hint?: string } | null>;
}

export interface HostSnapshot {
  /** Where this target's binfmt_misc is (for words and plans). */
  binfmtPath: string;
  mounted: boolean;
  /** The kernel's entries by name; empty when not mounted. */
  entries: ReadonlyMap<string, SnapshotEntry>;
  /** Entries the kernel shows that do not parse, by name: why. Plans that touch them are refused. */
  unparsed?: Readonly<Record<string, string>>;
  /** Archway's record for this instance, and why it could not be read (then it reads as empty). */
  record: ArchwayRecord;
  recordProblem?: string;
  /** binfmt.d rules in effect; those Archway wrote carry `archway: true`. */
  binfmtd: readonly BinfmtdRule[];
  binfmtSupport: readonly { name: string; package?: string }[];
  /** Archway's boot-time file of each handler name it may write, and whether Archway wrote it. */
  persistFiles: Readonly<Record<string, { path: string; exists: boolean; ours: boolean }>>;
  /** Facts of every interpreter the request may use, by path. */
  interpreters: Readonly<Record<string, InterpreterFact>>;
  /** Emulators offered per CPU (distribution's first, then Archway's store). */
  candidates: Readonly<Partial<Record<Cpu, readonly SnapshotCandidate[]>>>;
  host: { machine: string; header: Uint8Array; elf: ElfInfo };
  /** What status shows beyond what plans decide from: read by the same reader when asked for it. */
  status?: StatusFacts;
}

/** The facts only status needs (shared/status.ts statusOf derives the whole status from the snapshot). */
export interface StatusFacts {
  /** The global status file: enabled / disabled; null when not mounted. */
  globalEnabled: boolean | null;
  /** Every entry as the kernel printed it, unparsed ones too; `seq`: registration order, higher is newer. */
  texts: readonly { name: string; text: string; seq: number }[];
  /** stat and ELF facts of each registered entry's interpreter, by path. */
  files: Readonly<Record<string, InterpreterFacts>>;
  /** Where emulators come from: the distribution's QEMU version; per store file, its reported provenance sentence. */
  emulatorVersions: { distro?: string; storeDir?: string; store?: Record<string, string>; storeVersions?: Record<string, string> };
  /** What could not be read (binfmt.d lines that do not parse). */
  problems: readonly string[];
}
