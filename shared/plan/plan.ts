/**
 * The planner: plan(snapshot, op, ctx) → what the dry run shows (register string, files, warnings,
 * risks, digest) and the typed steps an executor runs. Status, the dry run, the plan dialog and the
 * helper all go through it; the helper re-plans on a fresh snapshot and refuses an apply whose
 * digests differ from what was shown. One module per operation; store-add is planned by the helper
 * (electron/helper/store-add.ts), which reads the file it stores. Pure.
 */
import { ArchwayError } from '../errors';
import type { HelperOp, OpResult } from '../helper-protocol';
import { planDigest, type OpPlan, type PlanContext } from './common';
import { dropCQueries, planDropC } from './drop-c';
import { installQueries, planInstall } from './install';
import { planMount } from './mount';
import { planPersist } from './persist';
import type { HostSnapshot } from './snapshot';
import { planToggle } from './toggle';
import { planUninstall } from './uninstall';
import { planUse, useQueries } from './use';

export type { OpPlan, PlanContext, Step } from './common';
export type PlannedOp = Exclude<HelperOp, { op: 'store-add' }>;

/** One operation's plan on a snapshot, its digest set; throws an ArchwayError when it is refused. */
export function plan(s: HostSnapshot, op: PlannedOp, ctx: PlanContext): OpPlan {
  const p = planOne(s, op, ctx);
  p.result.digest = planDigest(p.result, p.binds, ctx.hash);
  return p;
}

function planOne(s: HostSnapshot, op: PlannedOp, ctx: PlanContext): OpPlan {
  switch (op.op) {
    case 'mount':
      return planMount(s);
    case 'install':
      return planInstall(s, op, ctx);
    case 'uninstall':
      return planUninstall(s, op, ctx);
    case 'enable':
    case 'disable':
      return planToggle(s, op);
    case 'persist':
      return planPersist(s, op);
    case 'drop-c':
      return planDropC(s, op, ctx);
    case 'use':
      return planUse(s, op, ctx);
  }
}

/** The interpreter checks a request's plans consult: what a snapshot reader must answer. */
export function interpreterQueries(s: Pick<HostSnapshot, 'record' | 'candidates' | 'entries' | 'mounted'>, ops: readonly HelperOp[]) {
  return ops.flatMap((op) => (op.op === 'install' ? installQueries(s, op) : op.op === 'drop-c' ? dropCQueries(s, op) : op.op === 'use' ? useQueries(s, op) : []));
}

/**
 * Plans bound to content: an apply carries the digests its plan showed; a fresh plan whose digests
 * differ (an interpreter file swapped, a register string or file list changed) refuses the whole
 * request with nothing changed.
 */
export function checkExpected(now: readonly OpResult[], expect: readonly string[] | undefined): void {
  if (!expect) return;
  const differs = now.length !== expect.length ? now : now.filter((r, i) => r.digest !== expect[i]);
  if (differs.length) {
    throw new ArchwayError(
      'plan-changed',
      `what the plan showed changed before it was applied (${differs.map((r) => r.name ?? r.arch ?? r.op).join(', ')}: an interpreter file, a register string or a file list differs); nothing was changed`,
      'Plan again, check what it shows now, and apply that.',
    );
  }
}
