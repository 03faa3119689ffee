/** Uninstall: Archway's handler (or another's, with force), restoring a taken-over one. Pure. */
import { ArchwayError } from '../errors';
import type { HelperOp, OpResult } from '../helper-protocol';
import type { PendingStep } from '../record';
import { cpuOf, entryOf, handlerName, ownerWords, type OpPlan, type PlanContext } from './common';
import { isNeverTouch } from './rules';
import type { HostSnapshot } from './snapshot';

export function planUninstall(s: HostSnapshot, op: Extract<HelperOp, { op: 'uninstall' }>, ctx: PlanContext): OpPlan {
  const cpu = cpuOf(op.arch);
  const name = handlerName(cpu);
  const owned = s.record.handlers[name];
  const existing = entryOf(s, name);
  if (!existing && !owned) return { result: { op: 'uninstall', arch: cpu, name, ok: true, changed: false, message: `${name} is not installed` }, binds: {}, steps: [] };
  if (isNeverTouch(name)) throw new ArchwayError('never-touch', `${name} belongs to WSL and is never changed`);
  if (existing && !owned && !op.force) {
    throw new ArchwayError('not-owned', `${name} was registered by ${ownerWords(s, name)}, not Archway; left alone`, `To remove it anyway: archway uninstall ${cpu} --force`);
  }
  const pf = s.persistFiles[name];
  const files = pf && owned && (owned.persist || pf.exists) ? [pf.path] : [];
  const restore = owned?.previous;
  const result: OpResult = {
    op: 'uninstall',
    arch: cpu,
    name,
    ok: true,
    changed: true,
    message: existing
      ? `remove ${name}${restore ? ` and restore the handler of ${restore.owner}` : ''}${files.length ? `, delete ${files[0]}` : ''}`
      : `${name} had already vanished from the kernel; forget it${files.length ? ` and delete ${files[0]}` : ''}`,
    files,
    ...(restore ? { register: restore.register } : {}),
  };
  const pending: PendingStep | undefined = owned ? { name, op: 'uninstall', register: restore?.register ?? '', startedAt: ctx.now, handler: owned } : undefined;
  return { result, binds: {}, ...(pending ? { pending } : {}), steps: [{ kind: 'unregister', cpu, name, ...(restore ? { restore: restore.register } : {}) }] };
}
