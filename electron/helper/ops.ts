/**
 * The privileged helper's logic: validate a whole request first (nothing changes if any operation
 * is refused), then carry out each operation with a journal so a crash at any point leaves either
 * the old or the new state. The same code runs unprivileged with dryRun to show a plan.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { catalogEntry, nativeCpus, type Cpu } from '../../shared/arch/catalog';
import { normaliseFlags, FlagError } from '../../shared/binfmt/flags';
import { buildRegister, parseRegister, sameRule, RuleError } from '../../shared/binfmt/register';
import { catalogRule, ruleMatchesHeader } from '../../shared/status';
import { describeElf, parseElf } from '../../shared/elf';
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
import { distroCandidates, readStoreManifest, storeCandidate, type EmulatorCandidate } from '../engine/emulators';
import { atomicWrite, removeFile } from '../engine/fsutil';
import type { HostFacts } from '../engine/host';
import { PERSIST_HEADER, readBinfmtSupport, readBinfmtd, readRecord } from '../engine/owners';
import { persistFile, recordFile, type ArchwayPaths } from '../engine/paths';
import { trustInterpreter } from '../engine/trust';
import { appendAudit } from '../engine/audit';

export interface HelperContext {
  paths: ArchwayPaths;
  host: HostFacts;
  /** Who asked: PKEXEC_UID under pkexec, else the real uid. */
  callerUid: number;
  /** Test hook for crash-safety tests: die (SIGKILL) when this step is reached. Never set under pkexec. */
  killAt?: string;
}

const MAX_STORE_FILE = 128 * 1024 * 1024;

/** A validated operation, ready to run. */
interface Planned {
  result: OpResult;
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

function cpuOf(arch: string): Cpu {
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

function isNeverTouch(name: string): boolean {
  return name.startsWith('WSLInterop');
}

export class Helper {
  private record: ArchwayRecord;
  private recordProblem: string | undefined;

  constructor(private readonly ctx: HelperContext) {
    const { record, problem } = readRecord(ctx.paths);
    this.record = record;
    this.recordProblem = problem;
  }

  private step(name: string): void {
    if (this.ctx.killAt === name) process.kill(process.pid, 'SIGKILL');
  }

  private ownerWords(name: string): string {
    if (this.record.handlers[name]) return 'Archway';
    if (isNeverTouch(name)) return 'Windows Subsystem for Linux';
    const bs = readBinfmtSupport(this.ctx.paths.binfmtSupportDir).find((b) => b.name === name);
    if (bs) return `Debian binfmt-support${bs.package ? ` (package ${bs.package})` : ''}`;
    const file = readBinfmtd(this.ctx.paths.binfmtdDirs).rules.find((r) => r.rule.name === name);
    if (file) return `systemd-binfmt (${file.file})`;
    return 'another tool (not Archway)';
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
    try {
      appendAudit(this.ctx.paths.auditLog, {
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
      });
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
        ? 'Fetch one first (Archway desktop: Emulators, or `archway emulators fetch`).'
        : 'Install static emulators: apt-get install qemu-user-static (Debian/Ubuntu) or dnf install qemu-user-static (Fedora).',
    );
  }

  private planInstall(op: Extract<HelperOp, { op: 'install' }>): Planned {
    const cpu = cpuOf(op.arch);
    const entry = catalogEntry(cpu)!;
    const nat = nativeCpus(this.ctx.host.machine).find((n) => n.cpu === cpu);
    if (nat?.native === 'yes') {
      throw new ArchwayError('native-arch', `${cpu} runs natively on this ${this.ctx.host.machine} host (${nat.why}); a handler would send native programs through QEMU`, 'Nothing to install.');
    }
    const interp = this.pickInterpreter(op, cpu);
    let flags = op.flags === undefined ? (interp.preserveArgv0 ? 'PFC' : 'FC') : op.flags;
    flags = normaliseFlags(flags);
    if (flags.includes('P') && !interp.preserveArgv0) {
      throw new ArchwayError(
        'bad-flags',
        `flag P needs an emulator that expects argv[0] to be preserved; ${interp.path} does not`,
        'Drop P, or use Debian\'s /usr/libexec/qemu-binfmt/<cpu>-binfmt-P wrapper (source distro).',
      );
    }
    if (!flags.includes('P') && interp.preserveArgv0) {
      throw new ArchwayError('bad-flags', `${interp.path} expects flag P (it is a *-binfmt-P wrapper)`, 'Keep P in the flags, or pick /usr/bin/qemu-*-static.');
    }
    const rule = catalogRule(cpu, interp.path, flags);
    const reg = buildRegister(rule);
    const headers = [this.ctx.host.header];
    if (headers.some((h) => ruleMatchesHeader(rule, h))) {
      throw new ArchwayError('native-arch', `the ${cpu} rule would match this host's own programs`, 'Nothing to install.');
    }
    const name = entry.handlerName;
    const existing = isMounted(this.ctx.paths.binfmt) ? readEntry(this.ctx.paths.binfmt, name) : undefined;
    const owned = this.record.handlers[name];
    const warnings: string[] = [];
    let replace = false;
    let previous: HandlerRecord['previous'];
    if (existing) {
      if (isNeverTouch(name)) throw new ArchwayError('never-touch', `${name} belongs to WSL and is never changed`);
      if (owned) {
        replace = !sameRule(existing.rule, rule) || !existing.enabled;
        previous = owned.previous;
      } else if (op.takeOver) {
        replace = true;
        previous = { register: buildRegister(existing.rule), owner: this.ownerWords(name) };
        warnings.push(`takes over ${name} from ${previous.owner}; uninstalling it later restores theirs`);
      } else {
        throw new ArchwayError(
          'not-owned',
          `${name} is already registered by ${this.ownerWords(name)} (interpreter ${existing.rule.interpreter}, flags ${existing.rule.flags || 'none'}); Archway leaves it alone`,
          `To replace it with Archway's (and restore theirs on uninstall): archway install ${cpu} --take-over`,
        );
      }
    }
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
    };
    if (alreadyDone) return { result: base };
    const handler: HandlerRecord = {
      cpu,
      register: reg,
      source: interp.source,
      installedAt: new Date().toISOString(),
      installedBy: this.ctx.callerUid,
      persist: wantPersist,
      ...(previous ? { previous } : {}),
    };
    return {
      result: base,
      apply: async () => {
        if (!isMounted(this.ctx.paths.binfmt)) await mountBinfmt(this.ctx.paths.binfmt);
        const before = this.currentRegister(name);
        const stillThere = readEntry(this.ctx.paths.binfmt, name);
        this.setPending({ name, op: 'install', register: reg, startedAt: new Date().toISOString(), handler });
        this.step('install:journaled');
        if (stillThere && (replace || !sameRule(stillThere.rule, rule))) {
          if (!owned && !op.takeOver) throw new ArchwayError('not-owned', `${name} appeared while Archway was working; left alone`);
          control(this.ctx.paths.binfmt, name, '-1');
          this.step('install:removed-old');
        }
        if (!readEntry(this.ctx.paths.binfmt, name)) register(this.ctx.paths.binfmt, reg);
        this.step('install:registered');
        const now = readEntry(this.ctx.paths.binfmt, name);
        if (!now || !sameRule(now.rule, rule)) throw new ArchwayError('kernel-refused', `the kernel does not show ${name} as written`);
        if (!now.enabled) control(this.ctx.paths.binfmt, name, '1');
        this.record.handlers[name] = handler;
        this.clearPending(name);
        this.step('install:recorded');
        this.syncPersistFile(name);
        this.step('install:persisted');
        this.audit(base, before.register, reg);
        return base;
      },
    };
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

  /** Make the persist file match the record: present with our rule when persist is on, absent when off. */
  private syncPersistFile(name: string): string[] {
    const path = persistFile(this.ctx.paths, name);
    const h = this.record.handlers[name];
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

  private setPending(p: PendingStep): void {
    this.record.pending = [...(this.record.pending ?? []).filter((x) => x.name !== p.name), p];
    this.saveRecord();
  }

  private clearPending(name: string): void {
    const rest = (this.record.pending ?? []).filter((x) => x.name !== name);
    if (rest.length) this.record.pending = rest;
    else delete this.record.pending;
    this.saveRecord();
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
    return {
      result: base,
      apply: async () => {
        const before = this.currentRegister(name);
        if (owned) this.setPending({ name, op: 'uninstall', register: restore?.register ?? '', startedAt: new Date().toISOString(), handler: owned });
        this.step('uninstall:journaled');
        if (readEntry(this.ctx.paths.binfmt, name)) control(this.ctx.paths.binfmt, name, '-1');
        this.step('uninstall:removed');
        const warnings: string[] = [];
        if (restore) {
          try {
            register(this.ctx.paths.binfmt, restore.register);
          } catch (err) {
            warnings.push(`could not restore the previous ${name} (${(err as Error).message}); its rule was: ${restore.register}`);
          }
        }
        if (owned) {
          delete this.record.handlers[name];
          this.clearPending(name);
          this.step('uninstall:recorded');
          this.syncPersistFile(name);
        }
        const r = { ...base, ...(warnings.length ? { warnings } : {}) };
        this.audit(r, before.register, this.currentRegister(name).register);
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
      apply: async () => {
        const before = existsSync(path) ? 'persist file present' : 'no persist file';
        this.record.handlers[name] = { ...owned, persist: op.on };
        this.saveRecord();
        this.step('persist:recorded');
        this.syncPersistFile(name);
        this.audit(base, before, op.on ? 'persist file present' : 'no persist file');
        return base;
      },
    };
  }

  private planStoreAdd(op: Extract<HelperOp, { op: 'store-add' }>): Planned {
    const cpu = cpuOf(op.arch);
    const emu = catalogEntry(cpu)!.emulator;
    let fd: number;
    try {
      fd = openSync(op.file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      throw new ArchwayError('not-found', `cannot open ${op.file}: ${(err as Error).message}`);
    }
    let content: Buffer;
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new ArchwayError('unsafe-interpreter', `${op.file} is not a regular file`);
      if (st.size > MAX_STORE_FILE) throw new ArchwayError('unsafe-interpreter', `${op.file} is larger than ${MAX_STORE_FILE} bytes`);
      content = Buffer.alloc(st.size);
      let off = 0;
      while (off < st.size) {
        const n = readSync(fd, content, off, st.size - off, off);
        if (n === 0) break;
        off += n;
      }
      content = content.subarray(0, off);
    } finally {
      closeSync(fd);
    }
    const elf = parseElf(content);
    const hostElf = this.ctx.host.elf;
    if (!elf) throw new ArchwayError('unsafe-interpreter', `${op.file} is not an ELF program`);
    if (elf.machine !== hostElf.machine || elf.class !== hostElf.class) {
      throw new ArchwayError('unsafe-interpreter', `${op.file} is ${describeElf(elf)}, not a program for this host`);
    }
    if (elf.dynamic) throw new ArchwayError('dynamic-interpreter', `${op.file} is dynamically linked; the store keeps only static emulators`);
    const target = join(this.ctx.paths.storeDir, emu);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const base: OpResult = {
      op: 'store-add',
      arch: cpu,
      ok: true,
      changed: true,
      message: `store ${emu} (${content.length} bytes, sha256 ${sha256.slice(0, 12)}…) from ${op.provenance.image}${op.provenance.qemuVersion ? `, QEMU ${op.provenance.qemuVersion}` : ''}`,
      files: [target],
    };
    return {
      result: base,
      apply: async () => {
        mkdirSync(this.ctx.paths.storeDir, { recursive: true, mode: 0o755 });
        atomicWrite(target, content, 0o755);
        const manifest = readStoreManifest(this.ctx.paths);
        manifest[emu] = { file: emu, ...op.provenance, sha256, addedAt: new Date().toISOString() };
        atomicWrite(join(this.ctx.paths.storeDir, 'manifest.json'), `${JSON.stringify({ emulators: manifest }, null, 2)}\n`);
        this.audit(base, null, `${emu} sha256:${sha256}`);
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
      case 'store-add':
        return this.planStoreAdd(op);
    }
  }

  /**
   * Finish or undo what a crashed run left in the journal, and make persist files match the record.
   * Returns what it did, in words.
   */
  reconcile(): string[] {
    const done: string[] = [];
    const binfmt = this.ctx.paths.binfmt;
    const mounted = isMounted(binfmt);
    for (const p of this.record.pending ?? []) {
      const now = mounted ? readEntry(binfmt, p.name) : undefined;
      if (p.op === 'install' && p.handler) {
        let wanted;
        try {
          wanted = parseRegister(p.register);
        } catch {
          wanted = undefined;
        }
        if (now && wanted && sameRule(now.rule, wanted)) {
          this.record.handlers[p.name] = p.handler;
          done.push(`adopted ${p.name}: it was registered just before an interruption`);
        } else if (!now && p.handler.previous && mounted) {
          try {
            register(binfmt, p.handler.previous.register);
            done.push(`restored the previous ${p.name} of ${p.handler.previous.owner} after an interrupted take-over`);
          } catch (err) {
            done.push(`could not restore the previous ${p.name}: ${(err as Error).message}`);
          }
        } else {
          done.push(`dropped an interrupted install of ${p.name}`);
        }
      } else if (p.op === 'uninstall') {
        if (now && p.handler && sameRule(now.rule, parseRegister(p.handler.register))) control(binfmt, p.name, '-1');
        if (p.register && mounted && !readEntry(binfmt, p.name)) {
          try {
            register(binfmt, p.register);
          } catch {
            /* reported below */
          }
        }
        delete this.record.handlers[p.name];
        done.push(`finished an interrupted uninstall of ${p.name}`);
      }
    }
    if (this.record.pending) {
      delete this.record.pending;
      this.saveRecord();
    }
    // Persist files follow the record.
    for (const name of Object.keys(this.record.handlers)) {
      try {
        const files = this.syncPersistFile(name);
        if (files.length) done.push(`repaired ${files.join(', ')}`);
      } catch (err) {
        done.push(`could not repair the persist file of ${name}: ${(err as Error).message}`);
      }
    }
    for (const r of readBinfmtd([this.ctx.paths.persistDir]).rules) {
      if (r.archway && !this.record.handlers[r.rule.name]) {
        removeFile(r.file);
        done.push(`removed ${r.file}: Archway no longer manages ${r.rule.name}`);
      }
    }
    return done;
  }

  async run(request: HelperRequestInput, opts: { dryRun?: boolean } = {}): Promise<HelperResponse> {
    const req = parseRequest(request);
    const dryRun = opts.dryRun === true || req.dryRun === true;
    const seen = new Set<string>();
    for (const op of req.ops) {
      const key = `${op.op}:${'arch' in op ? op.arch : ''}`;
      if (seen.has(key)) throw new ArchwayError('bad-request', `operation ${op.op} ${'arch' in op ? op.arch : ''} appears twice in one request`);
      seen.add(key);
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
    const refused = planned.filter((p): p is OpResult => !('result' in p));
    if (refused.length > 0) {
      const results = planned.map((p) =>
        'result' in p ? { ...p.result, ok: false, changed: false, message: `not run: ${refused.length} other operation(s) in this request were refused (${p.result.message})` } : p,
      );
      return { version: PROTOCOL_VERSION, ok: false, dryRun, results };
    }
    if (dryRun) return { version: PROTOCOL_VERSION, ok: true, dryRun, results: planned.map((p) => (p as Planned).result) };
    const results: OpResult[] = [];
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
