/**
 * One helper request, start to finish: validate → lock → start-up repair → plan → execute → the
 * response and its exit code. The root entry (main.ts, under pkexec or sudo) and the CLI running
 * as root (in-process, no second Node) both call this, so they validate and lock the same way.
 */
import { join } from 'node:path';
import { ArchwayError, PROTOCOL_VERSION, type HelperResponse } from '../../shared/helper-protocol';
import { acquireLock } from '../engine/fsutil';
import { hostFacts } from '../engine/host';
import type { ArchwayPaths } from '../engine/paths';
import { Helper, parseRequest, type HelperRequestInput } from './ops';

export interface Served {
  response: HelperResponse;
  /** 0 all done, 1 some operation failed, 2 refused with nothing changed. */
  exitCode: 0 | 1 | 2;
}

export function refusal(err: unknown): Served {
  const e = err instanceof ArchwayError ? err : new ArchwayError('helper-failed', (err as Error)?.message ?? String(err));
  return { response: { version: PROTOCOL_VERSION, ok: false, dryRun: false, results: [], error: e.toJSON() }, exitCode: 2 };
}

export async function serveRequest(input: HelperRequestInput, ctx: { paths: ArchwayPaths; callerUid: number; killAt?: string }): Promise<Served> {
  let req;
  try {
    req = parseRequest(input);
  } catch (err) {
    return refusal(err);
  }
  let release: (() => void) | undefined;
  if (!req.dryRun) {
    // One helper at a time changes the record, the persist files and the kernel table: two runs at
    // once (two windows, a CLI in another terminal) would otherwise lose each other's record
    // updates. Taken before the record is read; a lock left by a killed helper is taken over.
    try {
      release = acquireLock(join(ctx.paths.stateDir, 'lock'));
    } catch (err) {
      return refusal(err);
    }
  }
  try {
    const helper = new Helper({ paths: ctx.paths, host: hostFacts(), callerUid: ctx.callerUid, ...(ctx.killAt ? { killAt: ctx.killAt } : {}) });
    let repairs: string[] = [];
    if (!req.dryRun) {
      try {
        repairs = helper.reconcile();
      } catch (err) {
        repairs = [`start-up repair failed: ${(err as Error).message}`];
      }
    }
    let res: HelperResponse;
    try {
      res = await helper.run(req);
    } catch (err) {
      return refusal(err);
    }
    if (repairs.length) res.repairs = repairs;
    const refused = !res.ok && res.results.every((r) => !r.changed) && res.results.some((r) => r.error);
    return { response: res, exitCode: res.ok ? 0 : refused && res.results.every((r) => !r.ok) ? 2 : 1 };
  } finally {
    release?.();
  }
}
