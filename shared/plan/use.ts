/**
 * Use: switch one of Archway's handlers — the kernel entry and its boot-time file, in one apply — to
 * another emulator (the distribution's, or a store entry named by its sha256). Same magic and mask,
 * same flags (P follows the emulator: only Debian's *-binfmt-P wrapper takes it; C stays only where it
 * was already chosen). The new emulator passes the same checks as any install; the plan is bound to its
 * file identity. Another tool's handler is refused with how to take it over first. Pure.
 */
import { catalogEntry, type Cpu } from '../arch/catalog';
import { SETUID_RISK_MARKER } from '../binfmt/flags';
import { buildRegister, parseRegister, sameRule, type Rule } from '../binfmt/register';
import { ArchwayError } from '../errors';
import type { HelperOp, OpResult } from '../helper-protocol';
import { checkPersistFileIsOurs, checkTrusted, cpuOf, handlerName, identityOf, ownerWords, persistPathOf, registerPlan, requireEntry, type OpPlan, type PlanContext } from './common';
import { decideFlags } from './install';
import { catalogRule, hasSetuidRisk, hijacksHost, isNeverTouch } from './rules';
import type { HostSnapshot, SnapshotCandidate } from './snapshot';

type UseOp = Extract<HelperOp, { op: 'use' }>;

/** The candidates a `use` may pick, in order (distro: the P wrapper first, as install does). */
function useCandidates(s: Pick<HostSnapshot, 'candidates'>, cpu: Cpu, op: UseOp): readonly SnapshotCandidate[] {
  const all = s.candidates[cpu] ?? [];
  return op.emulator.source === 'distro' ? all.filter((c) => c.source === 'distro') : all.filter((c) => c.source === 'store' && c.sha256 === (op.emulator as { sha256: string }).sha256);
}

/** The interpreter checks a `use` consults (the snapshot reader runs exactly these). */
export function useQueries(s: Pick<HostSnapshot, 'candidates'>, op: UseOp): { path: string; allowSymlink: boolean; allowDynamic: boolean }[] {
  const cpu = catalogEntry(op.arch)?.cpu;
  if (!cpu) return [];
  return useCandidates(s, cpu, op)
    .filter((c) => c.exists)
    .map((c) => ({ path: c.path, allowSymlink: c.preserveArgv0, allowDynamic: false }));
}

function pick(s: HostSnapshot, cpu: Cpu, op: UseOp): SnapshotCandidate {
  const candidates = useCandidates(s, cpu, op);
  let lastError: unknown;
  for (const c of candidates) {
    if (!c.exists) continue;
    try {
      // A static ELF program for this host, root-owned, not writable by others: the install checks.
      checkTrusted(s, c.path, { allowSymlink: c.preserveArgv0, allowDynamic: false });
      return c;
    } catch (err) {
      lastError = err;
    }
  }
  if (lastError) throw lastError;
  const emu = catalogEntry(cpu)!.emulator;
  if (op.emulator.source === 'store') {
    throw new ArchwayError(
      'no-emulator',
      `Archway's emulator store has no ${emu} with sha256 ${op.emulator.sha256}`,
      `See what is stored: archway emulators list. Add one: archway emulators fetch ${cpu}, or archway emulators import FILE`,
    );
  }
  throw new ArchwayError('no-emulator', `no ${emu} from the distribution found (looked in ${candidates.map((c) => c.path).join(', ')})`, 'Install static emulators: apt-get install qemu-user-static (Debian/Ubuntu) or dnf install qemu-user-static (Fedora).');
}

export function planUse(s: HostSnapshot, op: UseOp, ctx: PlanContext): OpPlan {
  const cpu = cpuOf(op.arch);
  const name = handlerName(cpu);
  if (isNeverTouch(name)) throw new ArchwayError('never-touch', `${name} belongs to WSL and is never changed`);
  const existing = requireEntry(s, name);
  const owned = s.record.handlers[name];
  if (!owned) {
    if (!existing) throw new ArchwayError('not-found', `${name} is not installed, so there is no handler to switch`, `Install it with that emulator: archway install ${cpu} --source ${op.emulator.source === 'distro' ? 'distro' : 'store'}`);
    throw new ArchwayError(
      'not-owned',
      `${name} was registered by ${ownerWords(s, name)}, not Archway; Archway switches only its own handlers`,
      `Take it over first (theirs is restored on uninstall): archway install ${cpu} --take-over, then run this again`,
    );
  }
  if (!existing) {
    throw new ArchwayError('not-found', `${name} was installed by Archway but is gone from the kernel`, `Put it back first: archway install ${cpu}, then run this again`);
  }
  let current: Rule;
  try {
    current = parseRegister(owned.register);
  } catch {
    throw new ArchwayError('invalid-rule', `Archway's record of ${name} cannot be read`, `Reinstall it: archway install ${cpu} --take-over`);
  }
  const chosen = pick(s, cpu, op);
  // Keep what was chosen before (F, C only where it was already there); P follows the new emulator.
  const kept = current.flags.replace(/P/g, '') + (chosen.preserveArgv0 ? 'P' : '');
  const flags = decideFlags({ cpu, recorded: kept, allowSetuid: false, preserveArgv0: chosen.preserveArgv0, interpreter: chosen.path });
  const rule = catalogRule(cpu, chosen.path, flags);
  if (hijacksHost(rule, s.host)) throw new ArchwayError('native-arch', `the ${cpu} rule would match this host's own programs`, 'Nothing to switch.');
  const reg = buildRegister(rule);
  const persistPath = persistPathOf(s, name);
  if (owned.persist) checkPersistFileIsOurs(s, name);
  const same = sameRule(existing.rule, rule) && existing.enabled && owned.register === reg;
  const result: OpResult = {
    op: 'use',
    arch: cpu,
    name,
    ok: true,
    changed: !same,
    message: same
      ? `${name} already uses ${chosen.path} (${rule.flags})`
      : `switch ${name} from ${existing.rule.interpreter} to ${chosen.path} (flags ${rule.flags})${owned.persist ? `, and its boot-time file ${persistPath}` : ''}`,
    register: reg,
    files: owned.persist ? [persistPath] : [],
    ...(hasSetuidRisk(rule) ? { risks: [SETUID_RISK_MARKER] } : {}),
  };
  if (same) return { result, binds: { [chosen.path]: identityOf(s, chosen.path) }, steps: [] };
  return registerPlan(s, ctx, result, { cpu, rule, source: chosen.source, persist: owned.persist, previous: owned.previous, replace: true, owned: true, takeOver: false, usedBefore: existing.rule.interpreter });
}
