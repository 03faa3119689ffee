/**
 * The privileged helper's request handling, thin: validate the whole request → take a snapshot of
 * the binfmt_misc instance → plan every operation (shared/plan/plan.ts; store-add in store-add.ts)
 * → refuse everything if any operation is refused or the digests the caller was shown differ →
 * execute (electron/core/executor.ts). The same code runs unprivileged with dryRun to show a plan.
 */
import { ArchwayError, HelperRequestSchema, MAX_REQUEST_BYTES, PROTOCOL_VERSION, type HelperOp, type HelperResponse, type OpResult } from '../../shared/helper-protocol';
import { planDigest as digestOf } from '../../shared/plan/common';
import { checkExpected, plan } from '../../shared/plan/plan';
import type { Drift } from '../../shared/plan/drift';
import { Executor, fail, type HelperContext, type Planned } from '../core/executor';
import { readSnapshot } from '../core/snapshot';
import { sha256Hex } from '../engine/sha256';
import { planStoreAdd } from './store-add';

export { cpuOf } from '../../shared/plan/common';
export { fileIdentity } from '../core/snapshot';
export type { Drift, HelperContext, Planned };

/** SHA-256 hex of a text (JavaScript, electron/engine/sha256.ts: node:crypto is not loaded for a change). */
export const sha256 = (text: string): string => sha256Hex(text);

/** The digest of a planned operation: what it writes and every file identity it relies on. */
export function planDigest(r: OpResult, binds: Record<string, string> = {}): string {
  return digestOf(r, binds, sha256);
}

export class Helper extends Executor {
  /** Plan every operation on one snapshot; a refusal becomes that operation's failed result. */
  private planAll(ops: readonly HelperOp[]): (Planned | OpResult)[] {
    const snapshot = readSnapshot(this.ctx.paths, this.ctx.host, ops, { record: this.record, ...(this.recordProblem ? { problem: this.recordProblem } : {}) });
    const pctx = { callerUid: this.ctx.callerUid, now: new Date().toISOString(), hash: sha256 };
    return ops.map((op) => {
      try {
        if (op.op === 'store-add') return planStoreAdd(op, this.ctx, (r, before, after) => this.audit(r, before, after));
        return this.toPlanned(plan(snapshot, op, pctx));
      } catch (err) {
        return fail(op, err);
      }
    });
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
    const planned = this.planAll(ops);
    // store-add's digest (the planner sets its own operations').
    for (const p of planned) if ('result' in p && !p.result.digest) p.result.digest = planDigest(p.result, p.binds);
    const refused = planned.filter((p): p is OpResult => !('result' in p));
    if (refused.length === 0) checkExpected(planned.map((p) => (p as Planned).result), req.expect);
    if (refused.length > 0) {
      const results = planned.map((p) =>
        'result' in p ? { ...p.result, ok: false, changed: false, message: `not run: ${refused.length} other operation(s) in this request were refused (${p.result.message})` } : p,
      );
      return { version: PROTOCOL_VERSION, ok: false, dryRun, results };
    }
    if (dryRun) return { version: PROTOCOL_VERSION, ok: true, dryRun, results: planned.map((p) => (p as Planned).result) };
    const results = await this.execute(planned as Planned[]);
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

