/**
 * What every operation's planner shares: the plan shape (the result the dry run shows, the steps an
 * executor runs, the file identities it is bound to), the context, and the small lookups over a
 * snapshot (which CPU, who owns it in words, is the boot-time file Archway's, is an emulator trusted).
 * Pure.
 */
import { catalogEntry, type Cpu } from '../arch/catalog';
import { buildRegister, type Rule } from '../binfmt/register';
import { ArchwayError } from '../errors';
import type { OpResult } from '../helper-protocol';
import type { HandlerRecord, PendingStep } from '../record';
import { attributeOwner } from './owner';
import { trustKey, type HostSnapshot, type SnapshotEntry } from './snapshot';

export interface PlanContext {
  /** Who asked (recorded as installedBy and in the audit log). */
  callerUid: number;
  /** The time written into records and the journal (ISO 8601). */
  now: string;
  /** sha256 of a string, hex: injected so the planner stays pure. */
  hash: (text: string) => string;
}

/** The typed steps an executor runs, in order. */
export type Step =
  | { kind: 'mount' }
  /** Install and drop-c: register `rule` for `name` (replacing what is there when `replace`). */
  | { kind: 'register'; cpu: Cpu; name: string; rule: Rule; register: string; handler: HandlerRecord; replace: boolean; owned: boolean; takeOver: boolean }
  /** Uninstall: remove `name` (if present), restore a taken-over handler, forget Archway's record of it. */
  | { kind: 'unregister'; cpu: Cpu; name: string; restore?: string }
  | { kind: 'toggle'; name: string; enable: boolean }
  /** Persist on/off: write or remove the boot-time file, then record `next`. */
  | { kind: 'persist'; cpu: Cpu; name: string; next: HandlerRecord; previous: HandlerRecord };

/** One operation's plan: what the dry run shows is `result`; what an apply does is `steps`. */
export interface OpPlan {
  result: OpResult;
  /** Identities of the files this plan relies on (path → identity), bound into its digest. */
  binds: Record<string, string>;
  /** The journal entry an apply writes before its first kernel write. */
  pending?: PendingStep;
  steps: Step[];
}

export function cpuOf(arch: string): Cpu {
  const e = catalogEntry(arch);
  if (!e) {
    throw new ArchwayError(
      'unknown-arch',
      `"${arch}" is not an architecture Archway knows`,
      'The helper takes catalog names (aarch64, s390x, arm, …); `archway status` lists them.',
    );
  }
  return e.cpu;
}

export function handlerName(cpu: Cpu): string {
  return catalogEntry(cpu)!.handlerName;
}

/**
 * The digest of a planned operation: what it writes, what the person was warned of (a take-over
 * and whose, the setuid risk), and every file identity it relies on.
 */
export function planDigest(r: OpResult, binds: Record<string, string>, hash: (text: string) => string): string {
  const what = [r.op, r.arch ?? '', r.name ?? '', r.changed, r.register ?? '', r.files ?? [], Object.entries(binds).sort(), r.warnings ?? [], r.risks ?? []];
  return hash(JSON.stringify(what));
}

/** The kernel's entry of that name, when binfmt_misc is mounted. */
export function entryOf(s: HostSnapshot, name: string): SnapshotEntry | undefined {
  if (!s.mounted) return undefined;
  const why = s.unparsed?.[name];
  if (why !== undefined) throw new ArchwayError('invalid-rule', `binfmt_misc entry ${name} cannot be read: ${why}`, `Look at it: cat ${s.binfmtPath}/${name}`);
  return s.entries.get(name);
}

/** The kernel's entry, for operations that need binfmt_misc mounted. */
export function requireEntry(s: HostSnapshot, name: string): SnapshotEntry | undefined {
  if (!s.mounted) {
    throw new ArchwayError('not-mounted', `binfmt_misc is not mounted at ${s.binfmtPath}`, 'Install a handler first (Archway mounts it), or: archway mount');
  }
  return entryOf(s, name);
}

/** Who owns an entry, in words: the one attribution (owner.ts). */
export function ownerWords(s: HostSnapshot, name: string): string {
  const rule = entryOf(s, name)?.rule ?? { name, type: 'M' as const, offset: 0, magic: '', mask: '', interpreter: '', flags: '' };
  const { owner } = attributeOwner(name, rule, s);
  // In a sentence about who registered it, "unknown" reads as a name: say what it is.
  return owner.kind === 'unknown' ? 'another tool (no binfmt.d file, binfmt-support entry or Archway record names it)' : owner.detail;
}

export function persistPathOf(s: HostSnapshot, name: string): string {
  const f = s.persistFiles[name];
  if (!f) throw new ArchwayError('io-error', `the snapshot has no boot-time file facts for ${name}`);
  return f.path;
}

/** Archway writes and removes only boot-time files it wrote itself. */
export function checkPersistFileIsOurs(s: HostSnapshot, name: string): void {
  const f = s.persistFiles[name];
  if (f?.exists && !f.ours) {
    throw new ArchwayError('not-owned', `${f.path} exists and was not written by Archway; it is left alone`, 'Move it away yourself if Archway should manage this handler at boot.');
  }
}

/** The snapshot's verdict on an interpreter (electron/engine/trust.ts's checks): throws the refusal. */
export function checkTrusted(s: HostSnapshot, path: string, opts: { allowSymlink: boolean; allowDynamic: boolean }): void {
  const v = s.interpreters[path]?.trust[trustKey(path, opts)];
  if (v === undefined) throw new ArchwayError('io-error', `the snapshot has no facts about ${path}`);
  if (v) throw new ArchwayError(v.code, v.message, v.hint);
}

export function identityOf(s: HostSnapshot, path: string): string {
  return s.interpreters[path]?.identity ?? 'absent';
}

/** Where an emulator path comes from, for the record. */
export function sourceOf(s: HostSnapshot, cpu: Cpu, path: string): HandlerRecord['source'] {
  return s.candidates[cpu]?.find((c) => c.path === path)?.source ?? 'path';
}

/** Is this path one of Debian's fixed *-binfmt-P wrappers for the CPU? */
export function isWrapper(s: HostSnapshot, cpu: Cpu, path: string): boolean {
  return !!s.candidates[cpu]?.some((c) => c.path === path && c.source === 'distro' && c.preserveArgv0);
}

/**
 * A plan that registers `rule` (install and drop-c): the handler record Archway keeps, its journal
 * entry, and the register step, bound to the emulator's identity.
 */
export function registerPlan(
  s: HostSnapshot,
  ctx: PlanContext,
  result: OpResult,
  a: { cpu: Cpu; rule: Rule; source: HandlerRecord['source']; persist: boolean; previous: HandlerRecord['previous'] | undefined; replace: boolean; owned: boolean; takeOver: boolean; usedBefore?: string },
): OpPlan {
  const register = buildRegister(a.rule);
  const handler: HandlerRecord = {
    cpu: a.cpu,
    register,
    source: a.source,
    installedAt: ctx.now,
    installedBy: ctx.callerUid,
    persist: a.persist,
    ...(a.previous ? { previous: a.previous } : {}),
    ...(a.usedBefore ? { usedBefore: a.usedBefore } : {}),
  };
  const name = a.rule.name;
  return {
    result,
    binds: { [a.rule.interpreter]: identityOf(s, a.rule.interpreter) },
    pending: { name, op: 'install', register, startedAt: ctx.now, handler },
    // The register step mounts binfmt_misc first when it is not mounted.
    steps: [{ kind: 'register', cpu: a.cpu, name, rule: a.rule, register, handler, replace: a.replace, owned: a.owned, takeOver: a.takeOver }],
  };
}
