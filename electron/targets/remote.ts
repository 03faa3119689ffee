/**
 * A remote host as a target (DESIGN.md, "one planner, many targets"): its binfmt_misc table and
 * the facts the planner needs are read through its container engine by the registrar's read mode
 * (a short-lived helper container: the host's binfmt_misc and, read-only, its root file system;
 * fixed busybox applets; no network, no capabilities), then fed to the SAME functions as this
 * machine's: buildStatus() for status, plan() for an install. Changes go through the engine
 * registrar (register.ts), which validates again and writes exactly the planned string.
 *
 * On a remote host Archway keeps no record and writes no boot-time file (that needs root files on
 * the host): everything it registers there is reported as a handler of unknown owner, which is
 * what it is to anyone else on that host.
 */
import { createHash } from 'node:crypto';
import { CATALOG, catalogEntry, nativeCpus, type Cpu } from '../../shared/arch/catalog';
import { parseProcEntry } from '../../shared/binfmt/entry';
import { buildRegister } from '../../shared/binfmt/register';
import { describeHostProgramProblem, hostProgramProblem, parseElf } from '../../shared/elf';
import { ArchwayError, type HelperOp, type OpResult } from '../../shared/helper-protocol';

type InstallOp = Extract<HelperOp, { op: 'install' }>;
import { plan as planOp, interpreterQueries } from '../../shared/plan/plan';
import { trustKey, type HostSnapshot, type InterpreterFact, type SnapshotCandidate, type SnapshotEntry } from '../../shared/plan/snapshot';
import { qemuVersionFromBytes } from '../../shared/qemu-version';
import { emptyRecord } from '../../shared/record';
import { buildStatus, type AvailableEmulator, type InterpreterFacts, type RawStatus, type Status } from '../../shared/status';
import type { Connection } from '../container/endpoint';
import { hostElf } from '../container/emulator-image';
import { ContainerEngineError } from '../container/errors';
import { ContainerBinfmtSession, HOST_BINFMT, registerThroughContainerEngine, type ContainerEngineOutcome, type EngineHostFile, type SessionOptions } from '../container/register';
import { distroCandidates } from '../engine/emulators';

/** A native program every Linux host has: its first bytes tell which programs the host runs itself. */
const NATIVE_PROBES = ['/usr/bin/env', '/usr/bin/sh', '/usr/bin/ls'];

/** What the read mode brings back from one engine host. */
export interface RemoteRead {
  endpoint: string;
  hostMachine: string;
  mounted: boolean;
  globalEnabled: boolean | null;
  /** Oldest first (binfmt_misc lists newest first). */
  entries: { name: string; text: string; seq: number }[];
  /** Every emulator candidate and every entry's interpreter, by path. */
  files: Record<string, EngineHostFile & { head?: Uint8Array }>;
  hostHeader: Uint8Array;
  /** The emulator version found in the bytes of the first distro emulator present ("7.2.22 (Debian …)"). */
  qemuVersion?: string;
}

function allCandidates(): { cpu: Cpu; path: string; preserveArgv0: boolean }[] {
  return CATALOG.flatMap((c) => distroCandidates(c.cpu).map((d) => ({ cpu: c.cpu, path: d.path, preserveArgv0: d.preserveArgv0 })));
}

/** Where distributions keep QEMU (every candidate) and a native program: bound read-only in read mode. */
const HOST_DIRS = ['/usr'];

const underHostDirs = (p: string) => HOST_DIRS.some((d) => p.startsWith(`${d}/`));

/** Read one engine host's table and emulator files through the registrar's read mode. */
export async function readRemote(conn: Connection, opts: SessionOptions = {}): Promise<RemoteRead> {
  const s = await ContainerBinfmtSession.open(conn, [], { ...opts, hostDirs: HOST_DIRS });
  let read: RemoteRead;
  try {
    const globalEnabled = (await s.globalEnabled()) ?? null;
    const mounted = globalEnabled !== null;
    const listed = mounted ? await s.entries() : [];
    // grep -r walks binfmt_misc in its directory order, newest first: the kernel's own order reversed.
    const entries = [...listed].reverse().map((e, seq) => ({ name: e.name, text: e.text, seq }));
    const interpreters = [...interpretersOf(entries)].filter(underHostDirs);
    const paths = [...new Set([...allCandidates().map((c) => c.path), ...interpreters, ...NATIVE_PROBES])].filter((p) => underHostDirs(p) && !p.includes('//'));
    const files: RemoteRead['files'] = await s.hostFiles(paths);
    for (const p of interpreters) if (files[p]?.exists) files[p] = { ...files[p]!, head: (await s.hostHead(p)) ?? new Uint8Array() };
    let hostHeader: Uint8Array | undefined;
    for (const p of NATIVE_PROBES) {
      if (!files[p]?.exists) continue;
      hostHeader = await s.hostHead(p, 128);
      if (hostHeader && parseElf(hostHeader)) break;
    }
    if (!hostHeader) throw new ContainerEngineError('engine-refused', `cannot read a native program (${NATIVE_PROBES.join(', ')}) on the engine host at ${conn.info.endpoint}`);
    let qemuVersion: string | undefined;
    const firstEmulator = allCandidates().find((c) => files[c.path]?.exists && !c.preserveArgv0);
    if (firstEmulator) {
      const line = await s.hostQemuVersionLine(firstEmulator.path);
      qemuVersion = line ? qemuVersionFromBytes(new TextEncoder().encode(line)) : undefined;
    }
    read = { endpoint: conn.info.endpoint, hostMachine: conn.info.hostMachine, mounted, globalEnabled, entries, files, hostHeader, ...(qemuVersion ? { qemuVersion } : {}) };
  } finally {
    await s.close();
  }
  // Interpreters elsewhere (an emulator store, /opt): their directories, in a second helper.
  const elsewhere = [...interpretersOf(read.entries)].filter((p) => !underHostDirs(p) && p.startsWith('/') && !p.includes('//'));
  if (elsewhere.length) {
    const dirs = [...new Set(elsewhere.map((p) => p.slice(0, p.lastIndexOf('/')) || '/'))].filter((d) => d !== '/');
    try {
      const s2 = await ContainerBinfmtSession.open(conn, [], { ...opts, hostDirs: dirs });
      try {
        const more = await s2.hostFiles(elsewhere);
        for (const p of elsewhere) read.files[p] = more[p]!.exists ? { ...more[p]!, head: (await s2.hostHead(p)) ?? new Uint8Array() } : more[p]!;
      } finally {
        await s2.close();
      }
    } catch {
      // A directory that is gone (an F handler keeps its emulator open): those files read as absent.
    }
  }
  return read;
}

function interpretersOf(entries: RemoteRead['entries']): Set<string> {
  const out = new Set<string>();
  for (const e of entries) {
    try {
      out.add(parseProcEntry(e.name, e.text).rule.interpreter);
    } catch {
      /* status reports it */
    }
  }
  return out;
}

function interpreterFacts(f: (EngineHostFile & { head?: Uint8Array }) | undefined, path: string): InterpreterFacts {
  if (!f || !f.exists) return { path, exists: false };
  const elf = f.head ? (parseElf(f.head) ?? null) : undefined;
  return { path, exists: true, regular: f.regular, uid: f.uid, mode: f.mode, ...(elf !== undefined ? { elf } : {}) };
}

/** The raw facts buildStatus() takes, from a remote read. */
export function remoteRawStatus(r: RemoteRead): RawStatus {
  const interpreters: Record<string, InterpreterFacts> = {};
  for (const e of r.entries) {
    try {
      const p = parseProcEntry(e.name, e.text).rule.interpreter;
      interpreters[p] = interpreterFacts(r.files[p], p);
    } catch {
      /* reported by buildStatus */
    }
  }
  const available: Partial<Record<Cpu, AvailableEmulator[]>> = {};
  for (const c of allCandidates()) {
    if (!r.files[c.path]?.exists) continue;
    (available[c.cpu] ??= []).push({ path: c.path, source: 'distro', ...(r.qemuVersion ? { version: r.qemuVersion } : {}) });
  }
  return {
    mount: { path: HOST_BINFMT, mounted: r.mounted },
    globalEnabled: r.globalEnabled,
    entries: r.entries,
    interpreters,
    hostMachine: r.hostMachine,
    hostHeader: r.hostHeader,
    binfmtd: [],
    binfmtSupport: [],
    record: emptyRecord(),
    available,
    ...(r.qemuVersion ? { emulatorVersions: { distro: r.qemuVersion } } : {}),
  };
}

/** A remote host's status: the same model (shared/status.ts) as this machine's. */
export function remoteStatus(r: RemoteRead): Status {
  return buildStatus(remoteRawStatus(r), parseElf(r.hostHeader));
}

/** The trust verdict of a remote emulator file, as trustInterpreter() decides it for a local one. */
function remoteTrust(f: EngineHostFile & { head?: Uint8Array }, q: { allowSymlink: boolean; allowDynamic: boolean }, hostMachine: string): InterpreterFact['trust'][string] {
  if (!f.exists) return { code: 'no-emulator', message: `${f.path} does not exist on the host`, hint: 'Install a static emulator there: apt-get install qemu-user-static.' };
  if (f.symlink && !q.allowSymlink) return { code: 'unsafe-interpreter', message: `${f.path} is a symbolic link on the host` };
  if (!f.regular) return { code: 'unsafe-interpreter', message: `${f.path} is not a regular file on the host` };
  if (f.uid !== 0 || (f.mode & 0o022) !== 0) return { code: 'unsafe-interpreter', message: `${f.path} is owned by uid ${f.uid} with mode ${f.mode.toString(8)} on the host: whoever can change it runs code in every program it handles` };
  if ((f.mode & 0o111) === 0) return { code: 'unsafe-interpreter', message: `${f.path} is not executable on the host` };
  const want = hostElf(hostMachine);
  if (!want) return { code: 'unsafe-interpreter', message: `${f.path}: Archway does not know which programs a ${hostMachine} host runs` };
  // "A program for this host" is decided in one place (shared/elf.ts), as for a local emulator.
  const problem = hostProgramProblem(f.head ? parseElf(f.head) : undefined, want, { allowDynamic: q.allowDynamic });
  if (problem?.kind === 'dynamic') return { code: 'dynamic-interpreter', message: `${f.path} is dynamically linked: it fails inside containers with a foreign root file system`, hint: 'Install qemu-user-static on the host.' };
  if (problem) return { code: 'unsafe-interpreter', message: `${describeHostProgramProblem(f.path, problem)} (on a ${hostMachine} host)` };
  return null;
}

/** The planner's snapshot of a remote host for `ops`: table, candidates, interpreter verdicts. */
export function remoteSnapshot(r: RemoteRead, ops: readonly InstallOp[]): HostSnapshot {
  const entries = new Map<string, SnapshotEntry>();
  const unparsed: Record<string, string> = {};
  for (const e of r.entries) {
    try {
      const p = parseProcEntry(e.name, e.text);
      entries.set(e.name, { rule: p.rule, enabled: p.enabled, order: e.seq });
    } catch (err) {
      unparsed[e.name] = (err as Error).message;
    }
  }
  const candidates: Partial<Record<Cpu, SnapshotCandidate[]>> = {};
  for (const c of allCandidates()) (candidates[c.cpu] ??= []).push({ path: c.path, source: 'distro', preserveArgv0: c.preserveArgv0, exists: r.files[c.path]?.exists === true });
  const elf = parseElf(r.hostHeader);
  if (!elf) throw new ContainerEngineError('engine-refused', `the engine host at ${r.endpoint} sent no readable ELF header`);
  const snap: HostSnapshot = {
    binfmtPath: HOST_BINFMT,
    mounted: r.mounted,
    entries,
    ...(Object.keys(unparsed).length ? { unparsed } : {}),
    record: emptyRecord(),
    binfmtd: [],
    binfmtSupport: [],
    // Archway writes no boot-time file on a remote host (a change through its engine never persists).
    persistFiles: Object.fromEntries(
      ops.flatMap((op) => {
        const e = catalogEntry(op.arch);
        return e ? [[e.handlerName, { path: `/etc/binfmt.d/${e.handlerName}.conf`, exists: false, ours: false }]] : [];
      }),
    ),
    interpreters: {},
    candidates,
    host: { machine: r.hostMachine, header: r.hostHeader, elf },
  };
  const interpreters: Record<string, InterpreterFact> = {};
  for (const q of interpreterQueries(snap, ops)) {
    const f = r.files[q.path] ?? { path: q.path, exists: false, symlink: false, regular: false, uid: -1, mode: 0, identity: 'absent' };
    const fact = (interpreters[q.path] ??= { path: q.path, identity: f.identity, trust: {} });
    fact.trust[trustKey(q.path, q)] = remoteTrust(f, q, r.hostMachine);
  }
  return { ...snap, interpreters };
}

/** The plan's result when the host already has exactly the entry the planner would write (enabled). */
function alreadyThere(snap: HostSnapshot, op: InstallOp, ctx: { callerUid: number; now: string; hash: (t: string) => string }): OpResult | undefined {
  let r: OpResult;
  try {
    r = planOp(snap, { ...op, takeOver: true }, ctx).result;
  } catch {
    return undefined;
  }
  const cur = r.name ? snap.entries.get(r.name) : undefined;
  if (!cur || !cur.enabled || !r.register || buildRegister(cur.rule) !== r.register) return undefined;
  return { op: 'install', ...(r.arch ? { arch: r.arch } : {}), name: r.name, ok: true, changed: false, message: `${r.name} is already registered exactly so`, register: r.register };
}

export interface RemoteInstallResult {
  /** What the planner decided per architecture (the dry run), or why it refused. */
  planned: OpResult[];
  /** What the engine did. */
  outcomes: ContainerEngineOutcome[];
}

/**
 * Install handlers on a remote host: plan each architecture on its snapshot (the planner's own
 * decisions: emulator, flags, the existing entry, native refusal), then register exactly those
 * strings through the engine. Emulator files need the host's heads for trust: read first.
 */
export async function installRemote(conn: Connection, archs: readonly string[], opts: SessionOptions & { allowSetuid?: boolean; flags?: string; dryRun?: boolean; expectRegisters?: readonly string[] } = {}): Promise<RemoteInstallResult> {
  const read = await readRemote(conn, opts);
  const ops: InstallOp[] = archs.map((arch) => ({ op: 'install', arch, ...(opts.flags ? { flags: opts.flags } : {}), ...(opts.allowSetuid ? { allowSetuid: true } : {}) }));
  // The trust checks need each candidate's first bytes: fetch them for the files the plans consult.
  const needHeads = interpreterQueries(remoteSnapshot(read, ops), ops).map((q) => q.path).filter((p) => read.files[p]?.exists && !read.files[p]?.head);
  if (needHeads.length) {
    const s = await ContainerBinfmtSession.open(conn, [], { ...opts, hostDirs: HOST_DIRS });
    try {
      for (const p of new Set(needHeads.filter(underHostDirs))) read.files[p] = { ...read.files[p]!, head: (await s.hostHead(p)) ?? new Uint8Array() };
    } finally {
      await s.close();
    }
  }
  const snap = remoteSnapshot(read, ops);
  const ctx = { callerUid: process.getuid?.() ?? 0, now: new Date().toISOString(), hash: (t: string) => createHash('sha256').update(t).digest('hex') };
  const planned: OpResult[] = [];
  for (const op of ops) {
    const cpu = catalogEntry(op.arch)?.cpu;
    const nat = cpu ? nativeCpus(read.hostMachine).find((n) => n.cpu === cpu) : undefined;
    if (cpu && nat?.native === 'yes') {
      // In a fleet a native architecture is nothing to do on that host, not a refusal.
      planned.push({ op: 'install', arch: cpu, ok: true, changed: false, message: `${cpu} runs natively on this ${read.hostMachine} host: nothing to install` });
      continue;
    }
    try {
      planned.push(planOp(snap, op, ctx).result);
    } catch (err) {
      if (!(err instanceof ArchwayError)) throw err;
      const same = err.code === 'not-owned' ? alreadyThere(snap, op, ctx) : undefined;
      if (same) {
        // No record is kept on a remote host: an entry exactly as planned is the wanted state, not another tool's.
        planned.push(same);
        continue;
      }
      planned.push({ op: 'install', arch: op.arch, ok: false, changed: false, message: err.message, error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } });
    }
  }
  const todo = planned.filter((p) => p.ok && p.changed && p.register);
  if (opts.expectRegisters) {
    // The preview is the action: what is applied is what was shown, or nothing.
    const now = todo.map((p) => p.register!).join('\n');
    if (now !== opts.expectRegisters.join('\n')) {
      throw new ArchwayError('plan-changed', `what the plan showed for ${conn.info.endpoint} changed before it was applied (the host's table or emulators differ now); nothing was changed`, 'Plan again, check what it shows now, and apply that.');
    }
  }
  if (opts.dryRun || todo.length === 0 || planned.some((p) => !p.ok)) return { planned, outcomes: [] };
  const outcomes = await registerThroughContainerEngine(conn, todo.map((p) => ({ register: p.register! })), opts);
  return { planned, outcomes };
}
