/**
 * The privileged helper's logic: validate a whole request first (nothing changes if any operation
 * is refused), then carry out each operation with a journal so a crash at any point leaves either
 * the old or the new state. The same code runs unprivileged with dryRun to show a plan.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, existsSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { catalogEntry, nativeCpus, type Cpu } from '../../shared/arch/catalog';
import { F_REQUIRED, FlagError, lacksF, SETUID_RISK_MARKER, withoutC } from '../../shared/binfmt/flags';
import { buildRegister, parseRegister, sameRule, RuleError, type Rule } from '../../shared/binfmt/register';
import { catalogRule, hijacksHost, isNeverTouch } from '../../shared/plan/rules';
import { attributeOwner } from '../../shared/plan/owner';
import { decideExisting, decideFlags } from '../../shared/plan/install';
import { recordDrift, type Drift } from '../../shared/plan/drift';
import {
  ArchwayError,
  HelperRequestSchema,
  MAX_REQUEST_BYTES,
  PROTOCOL_VERSION,
  type HelperOp,
  type HelperResponse,
  type OpResult,
} from '../../shared/helper-protocol';
import type { ArchwayRecord, HandlerRecord, PendingStep } from '../../shared/record';
import { control, isMounted, mountBinfmt, readEntry, register } from '../engine/binfmtfs';
import { distroCandidates, storeCandidate, type EmulatorCandidate } from '../engine/emulators';
import { atomicWrite, removeFile } from '../engine/fsutil';
import type { HostFacts } from '../engine/host';
import { PERSIST_HEADER, readBinfmtSupport, readBinfmtd, readRecord } from '../engine/owners';
import { persistFile, recordFile, type ArchwayPaths } from '../engine/paths';
import { trustInterpreter } from '../engine/trust';
import { appendAudit, appendAuditLines, type AuditEntry } from '../engine/audit';
import { planStoreAdd } from './store-add';

export interface HelperContext {
  paths: ArchwayPaths;
  host: HostFacts;
  /** Who asked: PKEXEC_UID under pkexec, else the real uid. */
  callerUid: number;
  /** Test hook for crash-safety tests: die (SIGKILL) when this step is reached. Never set under pkexec. */
  killAt?: string;
}

/** Temp files of fsutil's atomicWrite: `.<name>.<12 hex>.tmp`. */
const ATOMIC_TEMP = /^\..+\.[0-9a-f]{12}\.tmp$/;

export type { Drift };

/** A validated operation, ready to run. */
export interface Planned {
  result: OpResult;
  /** Identities of the files this plan relies on (path → fingerprint), bound into its digest. */
  binds?: Record<string, string>;
  /** The journal entry its apply writes before its first kernel write (batched per request). */
  pending?: PendingStep;
  apply?: () => Promise<OpResult>;
}

function fail(op: HelperOp | { op: string; arch?: string }, err: unknown): OpResult {
  const e =
    err instanceof ArchwayError
      ? err
      : err instanceof RuleError
        ? new ArchwayError('invalid-rule', err.message)
        : err instanceof FlagError
          ? new ArchwayError('bad-flags', err.message)
          : new ArchwayError('io-error', (err as Error).message ?? String(err));
  return {
    op: op.op,
    ...('arch' in op && op.arch ? { arch: op.arch } : {}),
    ok: false,
    changed: false,
    message: e.message,
    error: e.toJSON(),
  };
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

/** The digest of a planned operation: what it writes and every file identity it relies on. */
export function planDigest(r: OpResult, binds: Record<string, string> = {}): string {
  const what = [r.op, r.arch ?? '', r.name ?? '', r.changed, r.register ?? '', r.files ?? [], Object.entries(binds).sort()];
  return createHash('sha256').update(JSON.stringify(what)).digest('hex');
}

/** Where an emulator path comes from, for the record. */
function sourceOf(paths: ArchwayPaths, cpu: Cpu, path: string): HandlerRecord['source'] {
  if (distroCandidates(cpu).some((c) => c.path === path)) return 'distro';
  if (storeCandidate(paths, cpu).path === path) return 'store';
  return 'path';
}

export class Helper {
  private record: ArchwayRecord;
  private recordProblem: string | undefined;
  /**
   * Batch durability (one request, several changes): the journal entries of every operation are
   * written together before the first kernel write, the record once after the last, and the audit
   * lines in one append — one fsync per file per request instead of five per operation. A crash in
   * between leaves every started operation in the journal, and start-up repair settles each from
   * what the kernel shows, exactly as for one operation.
   */
  private batch: { journaled: Set<string>; audit: AuditEntry[]; dirty: boolean } | undefined;

  constructor(private readonly ctx: HelperContext) {
    const { record, problem } = readRecord(ctx.paths);
    this.record = record;
    this.recordProblem = problem;
  }

  /** A named point of an operation; `killAt` may name it alone ('install:registered') or for one arch ('install:registered@s390x'). */
  private step(name: string, cpu?: string): void {
    const k = this.ctx.killAt;
    if (k !== undefined && (k === name || (cpu !== undefined && k === `${name}@${cpu}`))) process.kill(process.pid, 'SIGKILL');
  }

  /** Who owns an entry, in words: the planner's one attribution (shared/plan/owner.ts). */
  private ownerWords(name: string): string {
    const e = isMounted(this.ctx.paths.binfmt) ? readEntry(this.ctx.paths.binfmt, name) : undefined;
    const rule = e?.rule ?? { name, type: 'M' as const, offset: 0, magic: '', mask: '', interpreter: '', flags: '' };
    return attributeOwner(name, rule, {
      record: this.record,
      binfmtd: readBinfmtd(this.ctx.paths.binfmtdDirs).rules,
      binfmtSupport: readBinfmtSupport(this.ctx.paths.binfmtSupportDir),
    }).owner.detail;
  }

  private saveRecord(): void {
    if (this.recordProblem) {
      // Keep the damaged file for a human before replacing it.
      const f = recordFile(this.ctx.paths);
      try {
        if (existsSync(f)) renameSync(f, `${f}.damaged-${Date.now()}`);
      } catch {
        /* best effort */
      }
      this.recordProblem = undefined;
    }
    atomicWrite(recordFile(this.ctx.paths), `${JSON.stringify(this.record, null, 2)}\n`, 0o644);
  }

  private audit(r: OpResult, before: string | null, after: string | null): void {
    const entry: AuditEntry = {
      time: new Date().toISOString(),
      uid: this.ctx.callerUid,
      op: r.op,
      ...(r.arch ? { arch: r.arch } : {}),
      ...(r.name ? { name: r.name } : {}),
      ok: r.ok,
      message: r.message,
      before,
      after,
      ...(r.files ? { files: r.files } : {}),
    };
    if (this.batch) {
      this.batch.audit.push(entry);
      return;
    }
    try {
      appendAudit(this.ctx.paths.auditLog, entry);
    } catch {
      // The change itself succeeded; an unwritable log must not turn it into a failure.
    }
  }

  private currentRegister(name: string): { register: string | null; enabled: boolean } {
    const e = readEntry(this.ctx.paths.binfmt, name);
    if (!e) return { register: null, enabled: false };
    try {
      return { register: buildRegister(e.rule), enabled: e.enabled };
    } catch {
      return { register: `(unparseable ${name})`, enabled: e.enabled };
    }
  }

  // ---------------------------------------------------------------- planning

  private pickInterpreter(op: Extract<HelperOp, { op: 'install' }>, cpu: Cpu): { path: string; source: HandlerRecord['source']; preserveArgv0: boolean } {
    const hostElf = this.ctx.host.elf;
    const allowDynamic = op.allowDynamic === true;
    const src = op.interpreter ?? { source: 'distro' as const };
    if (src.source === 'path') {
      trustInterpreter(src.path, { hostElf, allowDynamic });
      return { path: src.path, source: 'path', preserveArgv0: false };
    }
    // Explicit flags choose between Debian's P wrapper and the plain emulator.
    const wantP = op.flags === undefined ? undefined : op.flags.includes('P');
    const candidates: EmulatorCandidate[] = (src.source === 'store' ? [storeCandidate(this.ctx.paths, cpu)] : distroCandidates(cpu)).filter(
      (c) => wantP === undefined || c.preserveArgv0 === wantP,
    );
    let lastError: unknown;
    for (const c of candidates) {
      if (!existsSync(c.path)) continue;
      try {
        trustInterpreter(c.path, { hostElf, allowDynamic, allowSymlink: c.preserveArgv0 });
        return { path: c.path, source: c.source, preserveArgv0: c.preserveArgv0 };
      } catch (err) {
        lastError = err;
      }
    }
    if (lastError) throw lastError;
    const emu = catalogEntry(cpu)!.emulator;
    throw new ArchwayError(
      'no-emulator',
      src.source === 'store'
        ? `Archway's emulator store has no ${emu}`
        : `no ${emu} emulator found (looked in ${candidates.map((c) => c.path).join(', ')})`,
      src.source === 'store'
        ? `Fetch one first: archway emulators fetch ${cpu}`
        : 'Install static emulators: apt-get install qemu-user-static (Debian/Ubuntu) or dnf install qemu-user-static (Fedora).',
    );
  }

  /** The emulator and flags Archway recorded for one of its handlers, if that emulator is still trustworthy. */
  private recordedChoice(
    name: string,
    cpu: Cpu,
    allowDynamic: boolean,
  ): { path: string; source: HandlerRecord['source']; preserveArgv0: boolean; flags: string } | undefined {
    const owned = this.record.handlers[name];
    if (!owned) return undefined;
    let rule: Rule;
    try {
      rule = parseRegister(owned.register);
    } catch {
      return undefined;
    }
    const wrapper = distroCandidates(cpu).find((c) => c.path === rule.interpreter && c.preserveArgv0);
    try {
      trustInterpreter(rule.interpreter, { hostElf: this.ctx.host.elf, allowDynamic, allowSymlink: !!wrapper });
    } catch {
      return undefined; // gone or no longer safe: choose afresh
    }
    return { path: rule.interpreter, source: owned.source, preserveArgv0: !!wrapper, flags: rule.flags };
  }

  private planInstall(op: Extract<HelperOp, { op: 'install' }>): Planned {
    const cpu = cpuOf(op.arch);
    const entry = catalogEntry(cpu)!;
    const nat = nativeCpus(this.ctx.host.machine).find((n) => n.cpu === cpu);
    if (nat?.native === 'yes') {
      throw new ArchwayError('native-arch', `${cpu} runs natively on this ${this.ctx.host.machine} host (${nat.why}); a handler would send native programs through QEMU`, 'Nothing to install.');
    }
    // Re-installing a handler Archway owns (e.g. one that vanished at reboot) without naming an
    // emulator or flags puts back exactly what Archway had registered, when that still checks out.
    const recorded = op.interpreter === undefined && op.flags === undefined ? this.recordedChoice(entry.handlerName, cpu, op.allowDynamic === true) : undefined;
    const interp = recorded ?? this.pickInterpreter(op, cpu);
    const flags = decideFlags({
      cpu,
      ...(op.flags !== undefined ? { requested: op.flags } : {}),
      allowSetuid: op.allowSetuid === true,
      ...(recorded ? { recorded: recorded.flags } : {}),
      preserveArgv0: interp.preserveArgv0,
      interpreter: interp.path,
    });
    const rule = catalogRule(cpu, interp.path, flags);
    const reg = buildRegister(rule);
    if (this.hijacksHost(rule)) {
      throw new ArchwayError('native-arch', `the ${cpu} rule would match this host's own programs`, 'Nothing to install.');
    }
    const name = entry.handlerName;
    const existing = isMounted(this.ctx.paths.binfmt) ? readEntry(this.ctx.paths.binfmt, name) : undefined;
    const owned = this.record.handlers[name];
    const { replace, previous, warnings } = decideExisting({ cpu, rule, existing, owned, takeOver: op.takeOver === true, ownerWords: () => this.ownerWords(name) });
    const persistPath = persistFile(this.ctx.paths, name);
    const wantPersist = op.persist ?? owned?.persist ?? false;
    if (wantPersist) this.checkPersistFileIsOurs(persistPath);
    const files = wantPersist ? [persistPath] : [];
    const alreadyDone = !!existing && !replace && wantPersist === (owned?.persist ?? false);
    const base: OpResult = {
      op: 'install',
      arch: cpu,
      name,
      ok: true,
      changed: !alreadyDone,
      message: alreadyDone
        ? `${name} is already installed by Archway with ${interp.path} (${rule.flags})`
        : `${replace ? 'replace' : 'register'} ${name} → ${interp.path} with flags ${rule.flags}${wantPersist ? `, kept after reboot in ${persistPath}` : ''}`,
      register: reg,
      files,
      ...(warnings.length ? { warnings } : {}),
      ...(rule.flags.includes('C') ? { risks: [SETUID_RISK_MARKER] } : {}),
    };
    const binds = { [interp.path]: fileIdentity(interp.path) };
    if (alreadyDone) return { result: base, binds };
    const handler: HandlerRecord = {
      cpu,
      register: reg,
      source: interp.source,
      installedAt: new Date().toISOString(),
      installedBy: this.ctx.callerUid,
      persist: wantPersist,
      ...(previous ? { previous } : {}),
    };
    const pending: PendingStep = { name, op: 'install', register: reg, startedAt: handler.installedAt, handler };
    return { result: base, binds, pending, apply: () => this.applyRegister({ cpu, name, rule, reg, handler, pending, replace, owned: !!owned, takeOver: op.takeOver === true, base }) };
  }

  /**
   * Register `rule` for `name` (install and drop-c). One commit point: the kernel write. Before it,
   * the journal and the persist file; after it, the audit line and the record. A crash or an error
   * at any point is settled by settle() from what the kernel shows: the new rule → finish (record
   * it); anything else → undo.
   */
  private async applyRegister(a: { cpu: Cpu; name: string; rule: Rule; reg: string; handler: HandlerRecord; pending: PendingStep; replace: boolean; owned: boolean; takeOver: boolean; base: OpResult }): Promise<OpResult> {
    const { cpu, name, rule, reg, handler, replace, owned, takeOver, base } = a;
    const binfmt = this.ctx.paths.binfmt;
    if (!isMounted(binfmt)) await mountBinfmt(binfmt);
    const before = this.currentRegister(name);
    const stillThere = readEntry(binfmt, name);
    const removeOld = !!stillThere && (replace || !sameRule(stillThere.rule, rule));
    if (removeOld && !owned && !takeOver) throw new ArchwayError('not-owned', `${name} appeared while Archway was working; left alone`);
    const pending = a.pending;
    this.setPending(pending);
    this.step('install:journaled', cpu);
    try {
      this.syncPersistFile(name, handler);
      this.step('install:persisted', cpu);
      if (removeOld) {
        control(binfmt, name, '-1');
        this.step('install:removed-old', cpu);
      }
      if (!readEntry(binfmt, name)) register(binfmt, reg);
      this.step('install:registered', cpu);
      const now = readEntry(binfmt, name);
      if (!now || !sameRule(now.rule, rule)) throw new ArchwayError('kernel-refused', `the kernel does not show ${name} as written`);
      if (!now.enabled) control(binfmt, name, '1');
    } catch (err) {
      throw this.failAndSettle(err, pending);
    }
    this.audit(base, before.register, reg);
    this.record.handlers[name] = handler;
    this.clearPending(name);
    this.step('install:recorded', cpu);
    return base;
  }

  /**
   * Drop C: the same emulator, magic and mask, without C, whoever registered the handler. Another
   * tool's handler is taken over (its rule recorded and restored on uninstall).
   */
  private planDropC(op: Extract<HelperOp, { op: 'drop-c' }>): Planned {
    const cpu = cpuOf(op.arch);
    const name = catalogEntry(cpu)!.handlerName;
    const e = this.requireEntry(name);
    if (!e) throw new ArchwayError('not-found', `${name} is not registered`, `Nothing to drop; install it without C: archway install ${cpu}`);
    if (isNeverTouch(name)) throw new ArchwayError('never-touch', `${name} belongs to WSL and is never changed`);
    const owned = this.record.handlers[name];
    const base0 = { op: 'drop-c', arch: cpu, name, ok: true } as const;
    if (!e.rule.flags.includes('C')) return { result: { ...base0, changed: false, message: `${name} has no C flag (flags ${e.rule.flags || 'none'})` } };
    const flags = withoutC(e.rule.flags);
    if (lacksF(flags)) {
      throw new ArchwayError('bad-flags', `${name} has no F flag, so dropping C alone would leave it unsafe: ${F_REQUIRED}`, `Reinstall it with Archway's defaults: archway install ${cpu} --take-over`);
    }
    const wrapper = distroCandidates(cpu).find((c) => c.path === e.rule.interpreter && c.preserveArgv0);
    // F opens the emulator as root at registration: it must pass the same checks as any other.
    trustInterpreter(e.rule.interpreter, { hostElf: this.ctx.host.elf, allowDynamic: false, allowSymlink: !!wrapper });
    const rule: Rule = { ...e.rule, flags };
    if (this.hijacksHost(rule)) throw new ArchwayError('native-arch', `${name} would match this host's own programs`, `Remove it: archway uninstall ${cpu} --force`);
    const reg = buildRegister(rule);
    const previous: HandlerRecord['previous'] = owned ? owned.previous : { register: buildRegister(e.rule), owner: this.ownerWords(name) };
    const warnings = owned ? [] : [`takes over ${name} from ${previous!.owner}; uninstalling it later restores theirs (with C)`];
    const wantPersist = owned?.persist ?? false;
    if (wantPersist) this.checkPersistFileIsOurs(persistFile(this.ctx.paths, name));
    const base: OpResult = {
      ...base0,
      changed: true,
      message: `re-register ${name} → ${rule.interpreter} with flags ${flags} (C dropped: setuid programs keep the caller's credentials)`,
      register: reg,
      files: wantPersist ? [persistFile(this.ctx.paths, name)] : [],
      ...(warnings.length ? { warnings } : {}),
    };
    const handler: HandlerRecord = {
      cpu,
      register: reg,
      source: owned?.source ?? sourceOf(this.ctx.paths, cpu, rule.interpreter),
      installedAt: new Date().toISOString(),
      installedBy: this.ctx.callerUid,
      persist: wantPersist,
      ...(previous ? { previous } : {}),
    };
    const dropPending: PendingStep = { name, op: 'install', register: reg, startedAt: handler.installedAt, handler };
    return {
      result: base,
      binds: { [rule.interpreter]: fileIdentity(rule.interpreter) },
      pending: dropPending,
      apply: () => this.applyRegister({ cpu, name, rule, reg, handler, pending: dropPending, replace: true, owned: !!owned, takeOver: !owned, base }),
    };
  }

  /** Would this rule match the host's own programs (EXEC or DYN)? */
  private hijacksHost(rule: Rule): boolean {
    return hijacksHost(rule, this.ctx.host);
  }

  private checkPersistFileIsOurs(path: string): void {
    if (!existsSync(path)) return;
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      /* unreadable: treat as not ours */
    }
    if (!text.startsWith(PERSIST_HEADER)) {
      throw new ArchwayError('not-owned', `${path} exists and was not written by Archway; it is left alone`, 'Move it away yourself if Archway should manage this handler at boot.');
    }
  }

  private persistText(name: string, h: HandlerRecord): string {
    return (
      `${PERSIST_HEADER}: keeps ${name} registered after reboot (read by systemd-binfmt).\n` +
      `# Installed ${h.installedAt}. Remove with: archway persist off ${h.cpu}\n` +
      `${h.register}\n`
    );
  }

  /**
   * Make the persist file match the record (or `want`: a handler record to match, null = none):
   * present with our rule when persist is on, absent when off. Written atomically; a full or
   * read-only /etc throws a clear io-error and leaves the old file as it was.
   */
  private syncPersistFile(name: string, want?: HandlerRecord | null): string[] {
    const path = persistFile(this.ctx.paths, name);
    const h = want === undefined ? this.record.handlers[name] : (want ?? undefined);
    if (h?.persist) {
      const want = this.persistText(name, h);
      let have = '';
      try {
        have = readFileSync(path, 'utf8');
      } catch {
        /* absent */
      }
      if (have.split('\n').slice(2).join('\n') === want.split('\n').slice(2).join('\n') && have.startsWith(PERSIST_HEADER)) return [];
      this.checkPersistFileIsOurs(path);
      atomicWrite(path, want, 0o644);
      return [path];
    }
    if (existsSync(path)) {
      this.checkPersistFileIsOurs(path);
      removeFile(path);
      return [path];
    }
    return [];
  }

  /**
   * Settle one journal entry from what the kernel shows — the kernel write is each operation's
   * commit point:
   *  - install: the kernel shows the new rule → finish (record it); anything else → undo (the
   *    record keeps the old handler; a removed old entry, Archway's or a taken-over one, is
   *    registered again);
   *  - uninstall: the kernel still shows Archway's rule → undo (keep it); else → finish (forget
   *    it, restore a taken-over handler).
   * Then the persist file is made to follow the record, the journal entry is dropped, and every
   * repair is written to the audit log. Returns what it did, in words.
   */
  private settle(p: PendingStep): string[] {
    const binfmt = this.ctx.paths.binfmt;
    const mounted = isMounted(binfmt);
    const now = mounted ? readEntry(binfmt, p.name) : undefined;
    const beforeReg = now ? this.currentRegister(p.name).register : null;
    const parse = (s: string) => {
      try {
        return parseRegister(s);
      } catch {
        return undefined;
      }
    };
    const words: string[] = [];
    const started = `started ${p.startedAt}${p.handler ? ` by uid ${p.handler.installedBy}` : ''}`;
    if (p.op === 'install') {
      const wanted = parse(p.register);
      if (now && wanted && p.handler && sameRule(now.rule, wanted)) {
        if (!now.enabled) control(binfmt, p.name, '1');
        this.record.handlers[p.name] = p.handler;
        words.push(`finished an interrupted install of ${p.name} (${started}): the kernel already had the new rule`);
      } else if (!now && mounted) {
        const old = this.record.handlers[p.name]?.register ?? p.handler?.previous?.register;
        if (old) {
          try {
            register(binfmt, old);
            words.push(`undid an interrupted install of ${p.name} (${started}): registered the previous rule again`);
          } catch (err) {
            if (this.record.handlers[p.name]) delete this.record.handlers[p.name];
            words.push(`undid an interrupted install of ${p.name} (${started}), but could not register the previous rule again (${(err as Error).message}); it was: ${old}`);
          }
        } else {
          words.push(`undid an interrupted install of ${p.name} (${started}): it had not reached the kernel`);
        }
      } else {
        words.push(`undid an interrupted install of ${p.name} (${started}): the kernel still has the previous rule`);
      }
    } else if (p.op === 'uninstall') {
      const ours = p.handler ? parse(p.handler.register) : undefined;
      if (now && ours && sameRule(now.rule, ours) && p.handler) {
        this.record.handlers[p.name] = this.record.handlers[p.name] ?? p.handler;
        words.push(`undid an interrupted uninstall of ${p.name} (${started}): it is still registered and still Archway's`);
      } else {
        if (p.register && mounted && !now) {
          try {
            register(binfmt, p.register);
            words.push(`restored the handler ${p.name} that Archway had taken over`);
          } catch (err) {
            words.push(`could not restore the handler ${p.name} that Archway had taken over (${(err as Error).message}); its rule was: ${p.register}`);
          }
        }
        delete this.record.handlers[p.name];
        words.push(`finished an interrupted uninstall of ${p.name} (${started})`);
      }
    }
    const rest = (this.record.pending ?? []).filter((x) => x.name !== p.name);
    if (rest.length) this.record.pending = rest;
    else delete this.record.pending;
    this.saveRecord();
    try {
      const files = this.syncPersistFile(p.name);
      if (files.length) words.push(`made ${files.join(', ')} follow the record`);
    } catch (err) {
      words.push(`could not repair the persist file of ${p.name}: ${(err as Error).message}`);
    }
    const afterReg = mounted ? this.currentRegister(p.name).register : null;
    for (const w of words) this.auditRepair(p.name, w, beforeReg, afterReg);
    return words;
  }

  /** An operation failed after its journal entry was written: settle it now, and say so in the error. */
  private failAndSettle(err: unknown, p: PendingStep): unknown {
    let undo: string[] = [];
    try {
      undo = this.settle(p);
    } catch (e) {
      undo = [`and settling it failed too (${(e as Error).message}); the next run of the helper repairs it`];
    }
    if (err instanceof ArchwayError) return new ArchwayError(err.code, `${err.message}; ${undo.join('; ')}`, err.hint);
    return err;
  }

  private auditRepair(name: string, message: string, before: string | null, after: string | null): void {
    this.audit({ op: 'repair', name, ok: true, changed: true, message }, before, after);
  }

  private setPending(p: PendingStep): void {
    if (this.batch?.journaled.has(p.name)) return; // written with the whole batch, before any kernel write
    this.record.pending = [...(this.record.pending ?? []).filter((x) => x.name !== p.name), p];
    this.saveRecord();
  }

  private clearPending(name: string): void {
    const rest = (this.record.pending ?? []).filter((x) => x.name !== name);
    if (rest.length) this.record.pending = rest;
    else delete this.record.pending;
    if (this.batch) this.batch.dirty = true; // saved once, after the batch's last kernel write
    else this.saveRecord();
  }

  private requireEntry(name: string) {
    if (!isMounted(this.ctx.paths.binfmt)) {
      throw new ArchwayError('not-mounted', `binfmt_misc is not mounted at ${this.ctx.paths.binfmt}`, 'Install a handler first (Archway mounts it), or: archway mount');
    }
    const e = readEntry(this.ctx.paths.binfmt, name);
    return e;
  }

  private planUninstall(op: Extract<HelperOp, { op: 'uninstall' }>): Planned {
    const cpu = cpuOf(op.arch);
    const name = catalogEntry(cpu)!.handlerName;
    const owned = this.record.handlers[name];
    const existing = isMounted(this.ctx.paths.binfmt) ? readEntry(this.ctx.paths.binfmt, name) : undefined;
    if (!existing && !owned) {
      return { result: { op: 'uninstall', arch: cpu, name, ok: true, changed: false, message: `${name} is not installed` } };
    }
    if (existing && !owned && !op.force) {
      throw new ArchwayError(
        'not-owned',
        `${name} was registered by ${this.ownerWords(name)}, not Archway; left alone`,
        `To remove it anyway: archway uninstall ${cpu} --force`,
      );
    }
    const persistPath = persistFile(this.ctx.paths, name);
    const files = owned?.persist || (existsSync(persistPath) && owned) ? [persistPath] : [];
    const restore = owned?.previous;
    const base: OpResult = {
      op: 'uninstall',
      arch: cpu,
      name,
      ok: true,
      changed: true,
      message: existing
        ? `remove ${name}${restore ? ` and restore the handler of ${restore.owner}` : ''}${files.length ? `, delete ${persistPath}` : ''}`
        : `${name} had already vanished from the kernel; forget it${files.length ? ` and delete ${persistPath}` : ''}`,
      files,
      ...(restore ? { register: restore.register } : {}),
    };
    const pending: PendingStep | undefined = owned
      ? { name, op: 'uninstall', register: restore?.register ?? '', startedAt: new Date().toISOString(), handler: owned }
      : undefined;
    return {
      result: base,
      ...(pending ? { pending } : {}),
      // Commit point: the kernel entry's removal. Before it, the journal and the persist file's
      // removal (so a full or read-only /etc stops the uninstall before anything changed); after
      // it, the taken-over handler's restoration, the audit line and the record.
      apply: async () => {
        const binfmt = this.ctx.paths.binfmt;
        const before = this.currentRegister(name);
        if (pending) {
          this.setPending(pending);
          this.step('uninstall:journaled', cpu);
        }
        try {
          if (pending) {
            this.syncPersistFile(name, null);
            this.step('uninstall:unpersisted', cpu);
          }
          if (readEntry(binfmt, name)) control(binfmt, name, '-1');
          this.step('uninstall:removed', cpu);
        } catch (err) {
          throw pending ? this.failAndSettle(err, pending) : err;
        }
        const warnings: string[] = [];
        if (restore && !readEntry(binfmt, name)) {
          try {
            register(binfmt, restore.register);
          } catch (err) {
            warnings.push(`could not restore the previous ${name} (${(err as Error).message}); its rule was: ${restore.register}`);
          }
        }
        const r = { ...base, ...(warnings.length ? { warnings } : {}) };
        this.audit(r, before.register, this.currentRegister(name).register);
        if (pending) {
          delete this.record.handlers[name];
          this.clearPending(name);
          this.step('uninstall:recorded', cpu);
        }
        return r;
      },
    };
  }

  private planToggle(op: Extract<HelperOp, { op: 'enable' | 'disable' }>): Planned {
    const cpu = cpuOf(op.arch);
    const name = catalogEntry(cpu)!.handlerName;
    const e = this.requireEntry(name);
    if (!e) throw new ArchwayError('not-found', `${name} is not registered`, `Install it first: archway install ${cpu}`);
    if (isNeverTouch(name)) throw new ArchwayError('never-touch', `${name} belongs to WSL and is never changed`);
    if (!this.record.handlers[name] && !op.force) {
      throw new ArchwayError('not-owned', `${name} was registered by ${this.ownerWords(name)}, not Archway; left alone`, `To ${op.op} it anyway: archway ${op.op} ${cpu} --force`);
    }
    const want = op.op === 'enable';
    const base: OpResult = {
      op: op.op,
      arch: cpu,
      name,
      ok: true,
      changed: e.enabled !== want,
      message: e.enabled === want ? `${name} is already ${want ? 'enabled' : 'disabled'}` : `${op.op} ${name}`,
    };
    if (!base.changed) return { result: base };
    return {
      result: base,
      apply: async () => {
        control(this.ctx.paths.binfmt, name, want ? '1' : '0');
        this.audit(base, `${name} ${want ? 'disabled' : 'enabled'}`, `${name} ${want ? 'enabled' : 'disabled'}`);
        return base;
      },
    };
  }

  private planPersist(op: Extract<HelperOp, { op: 'persist' }>): Planned {
    const cpu = cpuOf(op.arch);
    const name = catalogEntry(cpu)!.handlerName;
    const owned = this.record.handlers[name];
    if (!owned) {
      throw new ArchwayError(
        'not-owned',
        `${name} is not installed by Archway, so Archway does not write its boot-time file`,
        `Install it with Archway first: archway install ${cpu} --persist`,
      );
    }
    const path = persistFile(this.ctx.paths, name);
    this.checkPersistFileIsOurs(path);
    const base: OpResult = {
      op: 'persist',
      arch: cpu,
      name,
      ok: true,
      changed: owned.persist !== op.on || existsSync(path) !== op.on,
      message: op.on ? `keep ${name} after reboot: write ${path}` : `stop keeping ${name} after reboot: remove ${path}`,
      files: [path],
      register: owned.register,
    };
    if (!base.changed) return { result: { ...base, message: `${name} is already ${op.on ? '' : 'not '}kept after reboot` } };
    return {
      result: base,
      // Commit point: the record. The file is written (or removed) first; a crash before the record
      // is saved leaves a file the next run makes follow the record again (undo), and a full or
      // read-only /etc fails here with the old file and the record as they were.
      apply: async () => {
        const before = existsSync(path) ? 'persist file present' : 'no persist file';
        const next: HandlerRecord = { ...owned, persist: op.on };
        this.syncPersistFile(name, next);
        this.step('persist:written', cpu);
        this.audit(base, before, op.on ? 'persist file present' : 'no persist file');
        this.record.handlers[name] = next;
        try {
          this.saveRecord();
        } catch (err) {
          this.record.handlers[name] = owned;
          try {
            this.syncPersistFile(name);
          } catch {
            /* the next run of the helper makes the file follow the record */
          }
          throw err;
        }
        this.step('persist:recorded', cpu);
        return base;
      },
    };
  }

  private planMount(): Planned {
    const mounted = isMounted(this.ctx.paths.binfmt);
    const base: OpResult = {
      op: 'mount',
      ok: true,
      changed: !mounted,
      message: mounted ? `binfmt_misc is already mounted at ${this.ctx.paths.binfmt}` : `mount binfmt_misc at ${this.ctx.paths.binfmt}`,
    };
    if (mounted) return { result: base };
    return {
      result: base,
      apply: async () => {
        await mountBinfmt(this.ctx.paths.binfmt);
        this.audit(base, 'not mounted', 'mounted');
        return base;
      },
    };
  }

  private plan(op: HelperOp): Planned {
    switch (op.op) {
      case 'mount':
        return this.planMount();
      case 'install':
        return this.planInstall(op);
      case 'uninstall':
        return this.planUninstall(op);
      case 'enable':
      case 'disable':
        return this.planToggle(op);
      case 'persist':
        return this.planPersist(op);
      case 'drop-c':
        return this.planDropC(op);
      case 'store-add':
        return planStoreAdd(op, this.ctx, (r, before, after) => this.audit(r, before, after));
    }
  }

  /**
   * Finish or undo what a crashed run left in the journal, and make persist files match the record.
   * Returns what it did, in words.
   */
  reconcile(): string[] {
    const done: string[] = [];
    // 1. Temp files of atomic writes a crash interrupted (the helper holds the state lock: no
    //    other helper is writing). The files they were replacing are intact.
    for (const dir of [this.ctx.paths.stateDir, this.ctx.paths.persistDir, this.ctx.paths.storeDir]) {
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names) {
        if (!ATOMIC_TEMP.test(n)) continue;
        try {
          removeFile(join(dir, n));
          done.push(`removed ${join(dir, n)}, left by an interrupted write`);
        } catch (err) {
          done.push(`could not remove ${join(dir, n)}: ${(err as Error).message}`);
        }
      }
    }
    // 2. The journal: finish or undo what a crashed run left, from what the kernel shows.
    for (const p of [...(this.record.pending ?? [])]) {
      try {
        done.push(...this.settle(p));
      } catch (err) {
        done.push(`could not settle the interrupted ${p.op} of ${p.name}: ${(err as Error).message}`);
      }
    }
    // 3. Persist files follow the record.
    for (const name of Object.keys(this.record.handlers)) {
      try {
        const files = this.syncPersistFile(name);
        if (files.length) {
          const w = `made ${files.join(', ')} follow Archway's record of ${name}`;
          done.push(w);
          this.auditRepair(name, w, null, null);
        }
      } catch (err) {
        done.push(`could not repair the persist file of ${name}: ${(err as Error).message}`);
      }
    }
    for (const r of readBinfmtd([this.ctx.paths.persistDir]).rules) {
      if (r.archway && !this.record.handlers[r.rule.name]) {
        try {
          removeFile(r.file);
          const w = `removed ${r.file}: Archway no longer manages ${r.rule.name}`;
          done.push(w);
          this.auditRepair(r.rule.name, w, null, null);
        } catch (err) {
          done.push(`could not remove ${r.file}: ${(err as Error).message}`);
        }
      }
    }
    // 4. Drift that is not Archway's to repair (someone else changed the kernel): report it.
    for (const d of this.drift()) done.push(`drift: ${d.message} (${d.fix})`);
    return done;
  }

  /**
   * Where Archway's record, its persist files and the kernel disagree, read-only. The helper's
   * start-up repair fixes the journal and the persist files and reports the rest; status (the
   * Engine) can show this list as it is.
   */
  drift(): Drift[] {
    const binfmt = this.ctx.paths.binfmt;
    const mounted = isMounted(binfmt);
    const kernel = new Map<string, Rule>();
    if (mounted) {
      for (const name of Object.keys(this.record.handlers)) {
        const e = readEntry(binfmt, name);
        if (e) kernel.set(name, e.rule);
      }
    }
    return recordDrift({ record: this.record, binfmtd: readBinfmtd(this.ctx.paths.binfmtdDirs).rules, kernel: mounted ? kernel : null, binfmtPath: binfmt });
  }

  async run(request: HelperRequestInput, opts: { dryRun?: boolean } = {}): Promise<HelperResponse> {
    const req = parseRequest(request);
    const dryRun = opts.dryRun === true || req.dryRun === true;
    // Every operation is planned against the state before the request, so two operations on one
    // architecture (install + uninstall, install + disable…) would be planned blind to each other
    // and report results the kernel does not show. One operation per architecture per request.
    const seen = new Map<string, string>();
    for (const op of req.ops) {
      const key = 'arch' in op ? `arch:${op.arch}` : `op:${op.op}`;
      const first = seen.get(key);
      if (first !== undefined) {
        throw new ArchwayError(
          'bad-request',
          'arch' in op
            ? `${op.arch} appears twice in one request (${first}, then ${op.op}); nothing was changed`
            : `operation ${op.op} appears twice in one request; nothing was changed`,
          'Send one operation per architecture; run the next change after this one.',
        );
      }
      seen.set(key, op.op);
    }
    // Mount first when asked, so later operations see the mounted instance.
    const ops = [...req.ops].sort((a, b) => (a.op === 'mount' ? -1 : 0) - (b.op === 'mount' ? -1 : 0));
    const planned: (Planned | OpResult)[] = ops.map((op) => {
      try {
        return this.plan(op);
      } catch (err) {
        return fail(op, err);
      }
    });
    for (const p of planned) if ('result' in p) p.result.digest = planDigest(p.result, p.binds);
    const refused = planned.filter((p): p is OpResult => !('result' in p));
    if (req.expect && refused.length === 0) {
      const now = planned.map((p) => (p as Planned).result);
      const differs = now.length !== req.expect.length ? now : now.filter((r, i) => r.digest !== req.expect![i]);
      if (differs.length) {
        throw new ArchwayError(
          'plan-changed',
          `what the plan showed changed before it was applied (${differs.map((r) => r.name ?? r.arch ?? r.op).join(', ')}: an interpreter file, a register string or a file list differs); nothing was changed`,
          'Plan again, check what it shows now, and apply that.',
        );
      }
    }
    if (refused.length > 0) {
      const results = planned.map((p) =>
        'result' in p ? { ...p.result, ok: false, changed: false, message: `not run: ${refused.length} other operation(s) in this request were refused (${p.result.message})` } : p,
      );
      return { version: PROTOCOL_VERSION, ok: false, dryRun, results };
    }
    if (dryRun) return { version: PROTOCOL_VERSION, ok: true, dryRun, results: planned.map((p) => (p as Planned).result) };
    const results: OpResult[] = [];
    const journal = (planned as Planned[]).filter((p) => p.apply && p.pending).map((p) => p.pending!);
    if (journal.length > 1) {
      // One journal write for the whole batch, before the first kernel write.
      const names = new Set(journal.map((j) => j.name));
      const before = this.record.pending;
      this.record.pending = [...(before ?? []).filter((x) => !names.has(x.name)), ...journal];
      try {
        this.saveRecord();
        this.batch = { journaled: names, audit: [], dirty: false };
      } catch {
        // Cannot write the journal (full or read-only disk): go one operation at a time, so each
        // one fails on its own journal write with its own clear error, and nothing changes.
        if (before) this.record.pending = before;
        else delete this.record.pending;
      }
    }
    try {
      for (const p of planned as Planned[]) {
        if (!p.apply) {
          results.push(p.result);
          continue;
        }
        try {
          results.push(await p.apply());
        } catch (err) {
          const r = fail({ op: p.result.op, ...(p.result.arch ? { arch: p.result.arch } : {}) }, err);
          results.push({ ...r, ...(p.result.name ? { name: p.result.name } : {}) });
          this.audit(r, null, null);
        }
        // An operation that failed before its own settle left its batched journal entry: settle it now.
        const left = p.pending && this.batch ? (this.record.pending ?? []).find((x) => x.name === p.pending!.name) : undefined;
        if (left) {
          try {
            this.settle(left);
          } catch {
            /* the next run's start-up repair settles it */
          }
        }
      }
    } finally {
      const batch = this.batch;
      this.batch = undefined;
      if (batch?.dirty) this.saveRecord();
      if (batch?.audit.length) {
        try {
          appendAuditLines(this.ctx.paths.auditLog, batch.audit);
        } catch {
          // The changes themselves succeeded; an unwritable log must not turn them into failures.
        }
      }
    }
    return { version: PROTOCOL_VERSION, ok: results.every((r) => r.ok), dryRun, results };
  }
}

export type HelperRequestInput = string | unknown;

/** Bytes or an object → a valid request, or an ArchwayError('bad-request') that says what is wrong. */
export function parseRequest(input: HelperRequestInput) {
  let value: unknown = input;
  if (typeof input === 'string') {
    if (Buffer.byteLength(input) > MAX_REQUEST_BYTES) {
      throw new ArchwayError('bad-request', `request is larger than ${MAX_REQUEST_BYTES} bytes`);
    }
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new ArchwayError('bad-request', `request is not JSON: ${(err as Error).message}`);
    }
  }
  const parsed = HelperRequestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'request';
    throw new ArchwayError('bad-request', `${where}: ${issue.message}`);
  }
  return parsed.data;
}
