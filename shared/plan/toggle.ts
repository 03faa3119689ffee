/** Enable / disable one handler: Archway's, or another's with force; never WSL's. Pure. */
import { ArchwayError } from '../errors';
import type { HelperOp, OpResult } from '../helper-protocol';
import { cpuOf, handlerName, ownerWords, requireEntry, type OpPlan } from './common';
import { isNeverTouch } from './rules';
import type { HostSnapshot } from './snapshot';

export function planToggle(s: HostSnapshot, op: Extract<HelperOp, { op: 'enable' | 'disable' }>): OpPlan {
  const cpu = cpuOf(op.arch);
  const name = handlerName(cpu);
  const e = requireEntry(s, name);
  if (!e) throw new ArchwayError('not-found', `${name} is not registered`, `Install it first: archway install ${cpu}`);
  if (isNeverTouch(name)) throw new ArchwayError('never-touch', `${name} belongs to WSL and is never changed`);
  if (!s.record.handlers[name] && !op.force) {
    throw new ArchwayError('not-owned', `${name} was registered by ${ownerWords(s, name)}, not Archway; left alone`, `To ${op.op} it anyway: archway ${op.op} ${cpu} --force`);
  }
  const want = op.op === 'enable';
  const result: OpResult = {
    op: op.op,
    arch: cpu,
    name,
    ok: true,
    changed: e.enabled !== want,
    message: e.enabled === want ? `${name} is already ${want ? 'enabled' : 'disabled'}` : `${op.op} ${name}`,
  };
  return { result, binds: {}, steps: result.changed ? [{ kind: 'toggle', name, enable: want }] : [] };
}
