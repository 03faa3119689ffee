/**
 * What a change's helper answer looks like on a terminal, and the one way a previewed request is
 * applied: print the dry run or the refusal, or ask for rights (pkexec) and apply exactly what was
 * shown, then print the outcome with its warnings and risks. `archway install …` and `emulators
 * use|import|fetch` all go through here.
 */
import type { HelperRequest, HelperResponse, OpResult } from '../../shared/helper-protocol';
import type { Engine } from '../engine';
import { EXIT, exitForErrorCode, type ExitCode } from './exit-codes';
import type { Io } from './main';
import { paint, symbols, type Term } from './term';

/** What commands print through: text already fitted to the terminal's abilities. */
export interface Out extends Io {
  term: Term;
  errTerm: Term;
}

export function describeResult(r: OpResult, t: Term): string {
  const sym = symbols(t);
  const mark = !r.ok ? paint(t, 'red', sym.fail) : r.changed ? paint(t, 'green', sym.ok) : sym.none;
  const lines = [`${mark} ${r.message}`];
  if (r.error?.hint) lines.push(`  ${sym.arrow} ${r.error.hint}`);
  for (const w of r.warnings ?? []) lines.push(`  ${sym.warn} ${w}`);
  for (const k of r.risks ?? []) lines.push(`  ${sym.warn} risk: ${k.message}`);
  return lines.join('\n');
}

export function printResponse(o: Out, res: HelperResponse, dryRun: boolean): void {
  // A refusal goes to stderr as a whole, so it reads in order.
  const [out, t] = res.ok ? [o.stdout, o.term] : [o.stderr, o.errTerm];
  if (!res.ok && dryRun) out('Nothing was changed:\n');
  else if (dryRun) out(`Dry run ${symbols(t).dash} nothing was changed. Archway would:\n`);
  for (const r of res.results) {
    out(`${describeResult(r, t)}\n`);
    if (dryRun && r.ok && r.register) out(`    register: ${r.register}\n`);
    if (dryRun && r.ok && r.files?.length) out(`    files: ${r.files.join(', ')}\n`);
  }
  for (const rep of res.repairs ?? []) out(`  (repair) ${rep}\n`);
  if (res.error) o.stderr(`archway: ${res.error.message}${res.error.hint ? `\n  ${symbols(o.errTerm).arrow} ${res.error.hint}` : ''}\n`);
}

/**
 * Apply a previewed request, unless the preview refused it, it is a dry run, or it changes nothing:
 * then the preview is printed and nothing runs. `refusedExit` is the caller's exit code for a refusal.
 */
export async function applyPreviewed(
  engine: Engine,
  request: HelperRequest,
  preview: HelperResponse,
  opts: { json: boolean; dryRun: boolean; elevation: string; skipped?: unknown[]; refusedExit: (res: HelperResponse) => ExitCode },
  o: Out,
): Promise<number> {
  const extra = opts.skipped ? { skipped: opts.skipped } : {};
  if (!preview.ok || opts.dryRun) {
    if (opts.json) o.stdout(`${JSON.stringify({ ...preview, dryRun: true, ...extra })}\n`);
    else printResponse(o, preview, true);
    return preview.ok ? EXIT.ok : opts.refusedExit(preview);
  }
  const changes = preview.results.filter((r) => r.changed);
  if (changes.length === 0) {
    if (opts.json) o.stdout(`${JSON.stringify({ ...preview, dryRun: false, ...extra })}\n`);
    else printResponse(o, preview, false);
    return EXIT.ok;
  }
  if (opts.elevation === 'pkexec' && !opts.json) {
    o.stderr(`Asking for administrator rights (pkexec) to:\n${changes.map((r) => `  - ${r.message}`).join('\n')}\n`);
  }
  const run = await engine.apply(request);
  if (opts.json) o.stdout(`${JSON.stringify({ ...run.response, ...extra })}\n`);
  else printResponse(o, run.response, false);
  if (run.response.ok) return EXIT.ok;
  // The whole request refused before anything ran (2, or 3 when e.g. not authorized); else an operation failed (1).
  return run.response.error ? exitForErrorCode(run.response.error.code, EXIT.usage) : EXIT.failed;
}
