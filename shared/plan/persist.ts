/** Persist on/off: Archway's boot-time file for one of its handlers. Pure. */
import { ArchwayError } from '../errors';
import type { HelperOp, OpResult } from '../helper-protocol';
import { checkPersistFileIsOurs, cpuOf, handlerName, persistPathOf, type OpPlan } from './common';
import type { HostSnapshot } from './snapshot';

export function planPersist(s: HostSnapshot, op: Extract<HelperOp, { op: 'persist' }>): OpPlan {
  const cpu = cpuOf(op.arch);
  const name = handlerName(cpu);
  const owned = s.record.handlers[name];
  if (!owned) {
    throw new ArchwayError('not-owned', `${name} is not installed by Archway, so Archway does not write its boot-time file`, `Install it with Archway first: archway install ${cpu} --persist`);
  }
  const path = persistPathOf(s, name);
  checkPersistFileIsOurs(s, name);
  const exists = s.persistFiles[name]!.exists;
  const result: OpResult = {
    op: 'persist',
    arch: cpu,
    name,
    ok: true,
    changed: owned.persist !== op.on || exists !== op.on,
    message: op.on ? `keep ${name} after reboot: write ${path}` : `stop keeping ${name} after reboot: remove ${path}`,
    files: [path],
    register: owned.register,
  };
  if (!result.changed) return { result: { ...result, message: `${name} is already ${op.on ? '' : 'not '}kept after reboot` }, binds: {}, steps: [] };
  return { result, binds: {}, steps: [{ kind: 'persist', cpu, name, next: { ...owned, persist: op.on }, previous: owned }] };
}
