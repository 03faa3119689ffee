/**
 * The executor for this machine's (or a private instance's) binfmt_misc: it runs the typed steps
 * of a plan (shared/plan/plan.ts) with a journal, so a crash at any point leaves either the old or
 * the new state — journal, boot-time (persist) files, kernel writes, the audit log and Archway's
 * record. Batch durability: one journal write before the first kernel write, one record write after
 * the last, one audit append per request. Start-up repair (reconcile) settles what a crashed run left.
 * Every named step (`install:journaled`, …) is a kill point for the crash-safety tests.
 */
import { readFileSync, readdirSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Cpu } from '../../shared/arch/catalog';
import { buildRegister, parseRegister, sameRule, RuleError, type Rule } from '../../shared/binfmt/register';
import { FlagError } from '../../shared/binfmt/flags';
import { recordDrift, type Drift } from '../../shared/plan/drift';
import type { OpPlan, Step } from '../../shared/plan/plan';
import { ArchwayError } from '../../shared/errors';
import type { OpResult } from '../../shared/helper-protocol';
import type { ArchwayRecord, HandlerRecord, PendingStep } from '../../shared/record';
import { appendAudit, appendAuditLines, type AuditEntry } from '../engine/audit';
import { control, isMounted, mountBinfmt, readEntry, register } from '../engine/binfmtfs';
import { atomicWrite, removeFile } from '../engine/fsutil';
import type { HostFacts } from '../engine/host';
import { PERSIST_HEADER, readBinfmtd, readRecord } from '../engine/owners';
import { persistFile, recordFile, type ArchwayPaths } from '../engine/paths';

export interface HelperContext {
  paths: ArchwayPaths;
  host: HostFacts;
  /** Who asked: PKEXEC_UID under pkexec, else the real uid. */
  callerUid: number;
  /** Test hook for crash-safety tests: die (SIGKILL) when this step is reached. Never set under pkexec. */
  killAt?: string;
}

/** One operation ready to run: the planner's plan (or store-add's), and how to apply it. */
export interface Planned {
  result: OpResult;
  /** Identities of the files this plan relies on (path → fingerprint), bound into its digest. */
  binds?: Record<string, string>;
  /** The journal entry its apply writes before its first kernel write (batched per request). */
  pending?: PendingStep;
  apply?: () => Promise<OpResult>;
}

/** Temp files of fsutil's atomicWrite: `.<name>.<12 hex>.tmp`. */
const ATOMIC_TEMP = /^\..+\.[0-9a-f]{12}\.tmp$/;

export function fail(op: { op: string; arch?: string }, err: unknown): OpResult {
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

export class Executor {
  protected record: ArchwayRecord;
  protected recordProblem: string | undefined;
  /**
   * Batch durability (one request, several changes): the journal entries of every operation are
   * written together before the first kernel write, the record once after the last, and the audit
   * lines in one append — one fsync per file per request instead of five per operation. A crash in
   * between leaves every started operation in the journal, and start-up repair settles each from
   * what the kernel shows, exactly as for one operation.
   */
  protected batch: { journaled: Set<string>; audit: AuditEntry[]; dirty: boolean } | undefined;

  constructor(protected readonly ctx: HelperContext) {
    const { record, problem } = readRecord(ctx.paths);
    this.record = record;
    this.recordProblem = problem;
  }

  /** A named point of an operation; `killAt` may name it alone ('install:registered') or for one arch ('install:registered@s390x'). */
  protected step(name: string, cpu?: string): void {
    const k = this.ctx.killAt;
    if (k !== undefined && (k === name || (cpu !== undefined && k === `${name}@${cpu}`))) process.kill(process.pid, 'SIGKILL');
  }

  /** Who owns an entry, in words: the planner's one attribution (shared/plan/owner.ts). */


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

  audit(r: OpResult, before: string | null, after: string | null): void {
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

  /** Planned: the planner's steps for one operation, as an apply. */
  toPlanned(p: OpPlan): Planned {
    return { result: p.result, binds: p.binds, ...(p.pending ? { pending: p.pending } : {}), ...(p.steps.length ? { apply: () => this.runSteps(p) } : {}) };
  }

  private async runSteps(p: OpPlan): Promise<OpResult> {
    let r = p.result;
    for (const s of p.steps) r = await this.runStep(s, r, p.pending);
    return r;
  }

  private async runStep(s: Step, base: OpResult, pending: PendingStep | undefined): Promise<OpResult> {
    switch (s.kind) {
      case 'mount':
        await mountBinfmt(this.ctx.paths.binfmt);
        this.audit(base, 'not mounted', 'mounted');
        return base;
      case 'register':
        return this.applyRegister({ cpu: s.cpu, name: s.name, rule: s.rule, reg: s.register, handler: s.handler, pending: pending!, replace: s.replace, owned: s.owned, takeOver: s.takeOver, base });
      case 'unregister':
        return this.applyUnregister(s.cpu, s.name, s.restore, base, pending);
      case 'toggle': {
        const { name, enable } = s;
        control(this.ctx.paths.binfmt, name, enable ? '1' : '0');
        this.audit(base, `${name} ${enable ? 'disabled' : 'enabled'}`, `${name} ${enable ? 'enabled' : 'disabled'}`);
        return base;
      }
      case 'persist':
        return this.applyPersist(s.cpu, s.name, s.next, s.previous, base);
    }
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

  /**
   * Uninstall. Commit point: the kernel entry's removal. Before it, the journal and the persist
   * file's removal (so a full or read-only /etc stops the uninstall before anything changed); after
   * it, the taken-over handler's restoration, the audit line and the record.
   */
  private async applyUnregister(cpu: Cpu, name: string, restore: string | undefined, base: OpResult, pending: PendingStep | undefined): Promise<OpResult> {
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
        register(binfmt, restore);
      } catch (err) {
        warnings.push(`could not restore the previous ${name} (${(err as Error).message}); its rule was: ${restore}`);
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
  }

  /**
   * Persist on/off. Commit point: the record. The file is written (or removed) first; a crash before
   * the record is saved leaves a file the next run makes follow the record again (undo), and a full
   * or read-only /etc fails here with the old file and the record as they were.
   */
  private async applyPersist(cpu: Cpu, name: string, next: HandlerRecord, owned: HandlerRecord, base: OpResult): Promise<OpResult> {
    const path = persistFile(this.ctx.paths, name);
    const before = existsSync(path) ? 'persist file present' : 'no persist file';
    this.syncPersistFile(name, next);
    this.step('persist:written', cpu);
    this.audit(base, before, next.persist ? 'persist file present' : 'no persist file');
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

  /**
   * Apply planned operations in order, with batch durability: the journal entries of every
   * operation are written together before the first kernel write, the record once after the last,
   * and the audit lines in one append — one fsync per file per request. A crash in between leaves
   * every started operation in the journal, and start-up repair settles each from what the kernel
   * shows, exactly as for one operation.
   */
  async execute(planned: Planned[]): Promise<OpResult[]> {
    const results: OpResult[] = [];
    const journal = planned.filter((p) => p.apply && p.pending).map((p) => p.pending!);
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
      for (const p of planned) {
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
    return results;
  }
}
