/**
 * Drop C: the same emulator, magic and mask, without C, whoever registered the handler. Another
 * tool's handler is taken over (its rule recorded and restored on uninstall). Pure.
 */
import { F_REQUIRED, lacksF, withoutC } from '../binfmt/flags';
import { buildRegister, type Rule } from '../binfmt/register';
import { ArchwayError } from '../errors';
import type { HelperOp, OpResult } from '../helper-protocol';
import type { HandlerRecord } from '../record';
import { checkPersistFileIsOurs, checkTrusted, cpuOf, handlerName, isWrapper, ownerWords, persistPathOf, registerPlan, requireEntry, sourceOf, type OpPlan, type PlanContext } from './common';
import { hasSetuidRisk, hijacksHost, isNeverTouch } from './rules';
import type { HostSnapshot } from './snapshot';

type DropCOp = Extract<HelperOp, { op: 'drop-c' }>;

/** The interpreter check drop-c consults (the registered emulator, as F will open it). */
export function dropCQueries(s: Pick<HostSnapshot, 'entries' | 'mounted' | 'candidates'>, op: DropCOp): { path: string; allowSymlink: boolean; allowDynamic: boolean }[] {
  let cpu;
  try {
    cpu = cpuOf(op.arch);
  } catch {
    return [];
  }
  const e = s.mounted ? s.entries.get(handlerName(cpu)) : undefined;
  return e ? [{ path: e.rule.interpreter, allowSymlink: isWrapper(s as HostSnapshot, cpu, e.rule.interpreter), allowDynamic: false }] : [];
}

export function planDropC(s: HostSnapshot, op: DropCOp, ctx: PlanContext): OpPlan {
  const cpu = cpuOf(op.arch);
  const name = handlerName(cpu);
  const e = requireEntry(s, name);
  if (!e) throw new ArchwayError('not-found', `${name} is not registered`, `Nothing to drop; install it without C: archway install ${cpu}`);
  if (isNeverTouch(name)) throw new ArchwayError('never-touch', `${name} belongs to WSL and is never changed`);
  const owned = s.record.handlers[name];
  const base0 = { op: 'drop-c', arch: cpu, name, ok: true } as const;
  if (!hasSetuidRisk(e.rule)) return { result: { ...base0, changed: false, message: `${name} has no C flag (flags ${e.rule.flags || 'none'})` }, binds: {}, steps: [] };
  const flags = withoutC(e.rule.flags);
  if (lacksF(flags)) {
    throw new ArchwayError('bad-flags', `${name} has no F flag, so dropping C alone would leave it unsafe: ${F_REQUIRED}`, `Reinstall it with Archway's defaults: archway install ${cpu} --take-over`);
  }
  // F opens the emulator as root at registration: it must pass the same checks as any other.
  checkTrusted(s, e.rule.interpreter, { allowSymlink: isWrapper(s, cpu, e.rule.interpreter), allowDynamic: false });
  const rule: Rule = { ...e.rule, flags };
  if (hijacksHost(rule, s.host)) throw new ArchwayError('native-arch', `${name} would match this host's own programs`, `Remove it: archway uninstall ${cpu} --force`);
  const reg = buildRegister(rule);
  // A foreign owner's handler: dropping C is a take-over, theirs restored on uninstall.
  const previous: HandlerRecord['previous'] = owned ? owned.previous : { register: buildRegister(e.rule), owner: ownerWords(s, name) };
  const warnings = owned ? [] : [`takes over ${name} from ${previous!.owner}; uninstalling it later restores theirs (with C)`];
  const wantPersist = owned?.persist ?? false;
  if (wantPersist) checkPersistFileIsOurs(s, name);
  const result: OpResult = {
    ...base0,
    changed: true,
    message: `re-register ${name} → ${rule.interpreter} with flags ${flags} (C dropped: setuid programs keep the caller's credentials)`,
    register: reg,
    files: wantPersist ? [persistPathOf(s, name)] : [],
    ...(warnings.length ? { warnings } : {}),
  };
  return registerPlan(s, ctx, result, { cpu, rule, source: owned?.source ?? sourceOf(s, cpu, rule.interpreter), persist: wantPersist, previous, replace: true, owned: !!owned, takeOver: !owned });
}
