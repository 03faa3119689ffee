/**
 * The install decisions, pure: which flags (F required, C only by opt-in, P exactly with a
 * *-binfmt-P wrapper, a recorded handler keeps what was recorded), and what happens to an entry
 * already in the kernel (Archway's: replace when it differs; another tool's: refuse, or take over
 * and remember it; WSL's: never), and planInstall: one install planned on a snapshot.
 */
import { CATALOG, catalogEntry, nativeCpus, type Cpu } from '../arch/catalog';
import { defaultFlags, F_REQUIRED, lacksF, normaliseFlags, SETUID_RISK, SETUID_RISK_MARKER } from '../binfmt/flags';
import { buildRegister, parseRegister, sameRule, type Rule } from '../binfmt/register';
import { ArchwayError } from '../errors';
import type { ErrorCode, HelperOp, OpResult } from '../helper-protocol';
import type { HandlerRecord } from '../record';
import {
  checkPersistFileIsOurs,
  checkTrusted,
  cpuOf,
  entryOf,
  handlerName,
  identityOf,
  isWrapper,
  ownerWords,
  persistPathOf,
  registerPlan,
  sourceOf,
  type OpPlan,
  type PlanContext,
} from './common';
import { catalogRule, hasSetuidRisk, hijacksHost, isNeverTouch } from './rules';
import type { HostSnapshot } from './snapshot';

export interface FlagRequest {
  cpu: string;
  /** Flags the caller named, if any. */
  requested?: string;
  allowSetuid: boolean;
  /** Flags of the handler Archway recorded, when it is re-installed as it was. */
  recorded?: string;
  /** The chosen emulator is a Debian *-binfmt-P wrapper. */
  preserveArgv0: boolean;
  interpreter: string;
  /** The command a refusal's hint names (default `archway install <cpu>`). */
  command?: string;
}

/** The flags to register, or a bad-flags refusal that says what to do. */
export function decideFlags(r: FlagRequest): string {
  const command = r.command ?? `archway install ${r.cpu}`;
  if (r.requested !== undefined && r.requested.includes('C') && !r.allowSetuid) {
    throw new ArchwayError('bad-flags', `flag C needs the explicit setuid opt-in: ${SETUID_RISK}`, `If you accept that: ${command} --allow-setuid`);
  }
  let flags = r.recorded !== undefined ? r.recorded : r.requested === undefined ? defaultFlags(r.preserveArgv0, r.allowSetuid) : r.requested;
  if (r.recorded !== undefined && r.allowSetuid) flags = `${flags}C`;
  flags = normaliseFlags(flags);
  if (lacksF(flags)) {
    throw new ArchwayError('bad-flags', `flags "${flags || 'none'}" lack F: ${F_REQUIRED}`, `Add F: ${command} --flags ${normaliseFlags(`${flags}F`)}`);
  }
  if (flags.includes('P') && !r.preserveArgv0) {
    throw new ArchwayError(
      'bad-flags',
      `flag P needs an emulator that expects argv[0] to be preserved; ${r.interpreter} does not`,
      'Drop P, or use Debian\'s /usr/libexec/qemu-binfmt/<cpu>-binfmt-P wrapper (source distro).',
    );
  }
  if (!flags.includes('P') && r.preserveArgv0) {
    throw new ArchwayError('bad-flags', `${r.interpreter} expects flag P (it is a *-binfmt-P wrapper)`, 'Keep P in the flags, or pick /usr/bin/qemu-*-static.');
  }
  return flags;
}

export interface ExistingDecision {
  replace: boolean;
  previous?: HandlerRecord['previous'];
  warnings: string[];
}

/**
 * What to do with the entry of the same name already in the kernel (if any), before writing `rule`.
 * `ownerWords` names its owner (shared/plan/owner.ts) for the refusal and the take-over record.
 */
export function decideExisting(a: {
  cpu: string;
  rule: Rule;
  existing: { rule: Rule; enabled: boolean } | undefined;
  owned: HandlerRecord | undefined;
  takeOver: boolean;
  ownerWords: () => string;
}): ExistingDecision {
  const { existing, owned, rule } = a;
  if (!existing) return { replace: false, warnings: [] };
  if (isNeverTouch(rule.name)) throw new ArchwayError('never-touch', `${rule.name} belongs to WSL and is never changed`);
  if (owned) return { replace: !sameRule(existing.rule, rule) || !existing.enabled, ...(owned.previous ? { previous: owned.previous } : {}), warnings: [] };
  const owner = a.ownerWords();
  if (!a.takeOver) {
    throw new ArchwayError(
      'not-owned',
      `${rule.name} is already registered by ${owner} (interpreter ${existing.rule.interpreter}, flags ${existing.rule.flags || 'none'}); Archway leaves it alone`,
      `To replace it with Archway's (and restore theirs on uninstall): archway install ${a.cpu} --take-over`,
    );
  }
  return {
    replace: true,
    previous: { register: buildRegister(existing.rule), owner },
    warnings: [`takes over ${rule.name} from ${owner}; uninstalling it later restores theirs${hasSetuidRisk(existing.rule) && !hasSetuidRisk(rule) ? ' (with C)' : ''}`],
  };
}

type InstallOp = Extract<HelperOp, { op: 'install' }>;
interface Choice {
  path: string;
  source: HandlerRecord['source'];
  preserveArgv0: boolean;
}

/** The emulator and flags Archway recorded for one of its handlers, if that emulator still checks out. */
function recordedChoice(s: HostSnapshot, cpu: Cpu, allowDynamic: boolean): (Choice & { flags: string }) | undefined {
  const owned = s.record.handlers[handlerName(cpu)];
  if (!owned) return undefined;
  let rule: Rule;
  try {
    rule = parseRegister(owned.register);
  } catch {
    return undefined;
  }
  const wrapper = isWrapper(s, cpu, rule.interpreter);
  try {
    checkTrusted(s, rule.interpreter, { allowSymlink: wrapper, allowDynamic });
  } catch {
    return undefined; // gone or no longer safe: choose afresh
  }
  return { path: rule.interpreter, source: owned.source, preserveArgv0: wrapper, flags: rule.flags };
}

/** The candidates an install would try, in order (explicit flags choose between the P wrapper and the plain emulator). */
function candidatesFor(s: HostSnapshot, op: InstallOp, cpu: Cpu) {
  const src = op.interpreter ?? { source: 'distro' as const };
  const wantP = op.flags === undefined ? undefined : op.flags.includes('P');
  return (s.candidates[cpu] ?? []).filter((c) => c.source === (src.source === 'store' ? 'store' : 'distro') && (wantP === undefined || c.preserveArgv0 === wantP));
}

function pickInterpreter(s: HostSnapshot, op: InstallOp, cpu: Cpu): Choice {
  const allowDynamic = op.allowDynamic === true;
  const src = op.interpreter ?? { source: 'distro' as const };
  if (src.source === 'path') {
    checkTrusted(s, src.path, { allowSymlink: false, allowDynamic });
    return { path: src.path, source: 'path', preserveArgv0: false };
  }
  const candidates = candidatesFor(s, op, cpu);
  let lastError: unknown;
  for (const c of candidates) {
    if (!c.exists) continue;
    try {
      checkTrusted(s, c.path, { allowSymlink: c.preserveArgv0, allowDynamic });
      return { path: c.path, source: c.source, preserveArgv0: c.preserveArgv0 };
    } catch (err) {
      lastError = err;
    }
  }
  if (lastError) throw lastError;
  const emu = catalogEntry(cpu)!.emulator;
  throw new ArchwayError(
    'no-emulator',
    src.source === 'store' ? `Archway's emulator store has no ${emu}` : `no ${emu} emulator found (looked in ${candidates.map((c) => c.path).join(', ')})`,
    src.source === 'store'
      ? `Fetch one first: archway emulators fetch ${cpu}`
      : 'Install static emulators: apt-get install qemu-user-static (Debian/Ubuntu) or dnf install qemu-user-static (Fedora).',
  );
}

/** The interpreter checks an install may consult (the snapshot reader runs exactly these). */
export function installQueries(s: Pick<HostSnapshot, 'record' | 'candidates'>, op: InstallOp): { path: string; allowSymlink: boolean; allowDynamic: boolean }[] {
  const cpu = catalogEntry(op.arch)?.cpu;
  if (!cpu) return [];
  const allowDynamic = op.allowDynamic === true;
  const out: { path: string; allowSymlink: boolean; allowDynamic: boolean }[] = [];
  const owned = s.record.handlers[handlerName(cpu)];
  if (owned && op.interpreter === undefined && op.flags === undefined) {
    try {
      const p = parseRegister(owned.register).interpreter;
      out.push({ path: p, allowSymlink: isWrapper(s as HostSnapshot, cpu, p), allowDynamic });
    } catch {
      /* unreadable record: chosen afresh */
    }
  }
  if (op.interpreter?.source === 'path') out.push({ path: op.interpreter.path, allowSymlink: false, allowDynamic });
  else for (const c of candidatesFor(s as HostSnapshot, op, cpu)) if (c.exists) out.push({ path: c.path, allowSymlink: c.preserveArgv0, allowDynamic });
  return out;
}

/** Install one architecture's handler: emulator, flags, the existing entry, the boot-time file. */
export function planInstall(s: HostSnapshot, op: InstallOp, ctx: PlanContext): OpPlan {
  const cpu = cpuOf(op.arch);
  const nat = nativeCpus(s.host.machine).find((n) => n.cpu === cpu);
  if (nat?.native === 'yes') {
    throw new ArchwayError('native-arch', `${cpu} runs natively on this ${s.host.machine} host (${nat.why}); a handler would send native programs through QEMU`, 'Nothing to install.');
  }
  // Re-installing a handler Archway owns (e.g. one that vanished at reboot) without naming an
  // emulator or flags puts back exactly what Archway had registered, when that still checks out.
  const recorded = op.interpreter === undefined && op.flags === undefined ? recordedChoice(s, cpu, op.allowDynamic === true) : undefined;
  const interp = recorded ?? pickInterpreter(s, op, cpu);
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
  if (hijacksHost(rule, s.host)) throw new ArchwayError('native-arch', `the ${cpu} rule would match this host's own programs`, 'Nothing to install.');
  const name = rule.name;
  const existing = entryOf(s, name);
  const owned = s.record.handlers[name];
  const { replace, previous, warnings } = decideExisting({ cpu, rule, existing, owned, takeOver: op.takeOver === true, ownerWords: () => ownerWords(s, name) });
  const persistPath = persistPathOf(s, name);
  const wantPersist = op.persist ?? owned?.persist ?? false;
  if (wantPersist) checkPersistFileIsOurs(s, name);
  const alreadyDone = !!existing && !replace && wantPersist === (owned?.persist ?? false);
  const result: OpResult = {
    op: 'install',
    arch: cpu,
    name,
    ok: true,
    changed: !alreadyDone,
    message: alreadyDone
      ? `${name} is already installed by Archway with ${interp.path} (${rule.flags})`
      : `${replace ? 'replace' : 'register'} ${name} → ${interp.path} with flags ${rule.flags}${wantPersist ? `, kept after reboot in ${persistPath}` : ''}`,
    register: reg,
    files: wantPersist ? [persistPath] : [],
    ...(warnings.length ? { warnings } : {}),
    ...(hasSetuidRisk(rule) ? { risks: [SETUID_RISK_MARKER] } : {}),
  };
  if (alreadyDone) return { result, binds: { [interp.path]: identityOf(s, interp.path) }, steps: [] };
  return registerPlan(s, ctx, result, { cpu, rule, source: interp.source, persist: wantPersist, previous, replace, owned: !!owned, takeOver: op.takeOver === true });
}

/**
 * Can this architecture be installed here as things are, and with what: planInstall itself, with
 * the defaults `archway install <cpu>` uses (no flags, source or take-over named). Status shows
 * it ("can use …", or why not) and `install all` skips an architecture it refuses for reasons the
 * options named do not change; the dry run and the helper plan the same way.
 */
export type InstallReadiness =
  | { ok: true; interpreter: string; flags: string; source: HandlerRecord['source']; changed: boolean }
  | { ok: false; code: ErrorCode; message: string; hint?: string };

/** The planning context readiness needs: no record or journal is written, no digest taken. */
const READINESS_CTX: PlanContext = { callerUid: 0, now: '', hash: () => '' };

/** The install operations status asks readiness for: every catalog CPU this host does not run natively for sure. */
export function readinessOps(hostMachine: string): InstallOp[] {
  const native = new Set(nativeCpus(hostMachine).filter((n) => n.native === 'yes').map((n) => n.cpu));
  return CATALOG.filter((c) => !native.has(c.cpu)).map((c) => ({ op: 'install' as const, arch: c.cpu }));
}

export function installReadiness(s: HostSnapshot, cpu: Cpu): InstallReadiness {
  try {
    const p = planInstall(s, { op: 'install', arch: cpu }, READINESS_CTX);
    const step = p.steps[0];
    const rule = step?.kind === 'register' ? step.rule : parseRegister(p.result.register!);
    return { ok: true, interpreter: rule.interpreter, flags: rule.flags, source: sourceOf(s, cpu, rule.interpreter), changed: p.result.changed };
  } catch (err) {
    if (err instanceof ArchwayError) return { ok: false, code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
    return { ok: false, code: 'io-error', message: (err as Error).message ?? String(err) };
  }
}
