/**
 * `archway emulators list | use | import` (fetch lives in docker-commands.ts: it needs the engine).
 * - list: electron/engine/emulator-list.ts listEmulators, as a table or JSON;
 * - use: resolveUseChoice → the planner's `use` operation through the same plan → apply path as
 *   install (engine.plan / engine.apply: one elevation, bound to what the plan showed);
 * - import: electron/container/fetch.ts prepareEmulatorImport → the same store-add request as fetch,
 *   applied through storeExtracted (shared with fetch). No container engine is contacted.
 */
import type { Intent } from '../../shared/actions';
import type { HelperRequest, HelperResponse } from '../../shared/helper-protocol';
import { describeReported } from '../../shared/provenance';
import type { ExtractedEmulator } from '../container/emulator-image';
import type { Engine } from '../engine';
import { listEmulators, resolveUseChoice, type ListedEmulator } from '../engine/emulator-list';
import { EXIT, exitForErrorCode } from './exit-codes';
import type { Io } from './main';
import { UsageError } from './parse';

const mib = (n: number | undefined) => (n === undefined ? '-' : `${(n / (1 << 20)).toFixed(1)} MiB`);

function formatList(rows: readonly ListedEmulator[]): string {
  if (!rows.length) return "No emulators stored, and no distribution emulator in use.\nAdd one: archway emulators fetch ARCH, or archway emulators import FILE\n";
  const out: string[] = [];
  for (const r of rows) {
    const used = [...r.handlers.map((h) => `handler ${h}`), ...r.persistFiles.map((f) => `boot file ${f}`)];
    out.push(`${r.cpu.padEnd(10)} ${r.source.padEnd(6)} QEMU ${r.version ?? '(unknown)'}  ${mib(r.size)}  sha256 ${r.sha256 ?? '-'}`);
    out.push(`           ${r.path}`);
    if (r.reported) out.push(`           ${r.reported}`);
    out.push(`           used by: ${used.length ? used.join(', ') : 'nothing'}`);
    for (const g of r.regressions) out.push(`           ! known regression: ${g.summary} (${g.url})`);
  }
  return `${out.join('\n')}\n`;
}

export function emulatorsList(engine: Engine, opts: { all: boolean; json: boolean }, io: Io): number {
  const rows = listEmulators(engine.paths, engine.status(), { all: opts.all });
  io.stdout(opts.json ? `${JSON.stringify({ emulators: rows }, null, 2)}\n` : formatList(rows));
  return EXIT.ok;
}

function printResults(io: Io, res: HelperResponse, dryRun: boolean): void {
  const out = res.ok ? io.stdout : io.stderr;
  if (!res.ok) out('Nothing was changed:\n');
  else if (dryRun) out('Dry run - nothing was changed. Archway would:\n');
  for (const r of res.results) {
    out(`${r.ok ? (r.changed ? '✓' : '·') : '✗'} ${r.error ? r.error.message : r.message}${r.error?.hint ? `\n  → ${r.error.hint}` : ''}\n`);
    if (dryRun && r.ok && r.register) out(`    register: ${r.register}\n`);
    if (dryRun && r.ok && r.files?.length) out(`    files: ${r.files.join(', ')}\n`);
  }
  if (res.error) io.stderr(`archway: ${res.error.message}${res.error.hint ? `\n  → ${res.error.hint}` : ''}\n`);
}

/** Preview a helper request, then (unless a dry run) apply exactly what the preview showed: one elevation. */
async function previewThenApply(engine: Engine, request: HelperRequest, preview: HelperResponse, opts: { json: boolean; dryRun: boolean }, io: Io): Promise<number> {
  if (!preview.ok || opts.dryRun || preview.results.every((r) => !r.changed)) {
    if (opts.json) io.stdout(`${JSON.stringify({ ...preview, dryRun: opts.dryRun || !preview.ok })}\n`);
    else printResults(io, preview, opts.dryRun);
    return preview.ok ? EXIT.ok : exitForErrorCode(preview.error?.code ?? preview.results.find((r) => r.error)?.error?.code, EXIT.usage);
  }
  if (engine.elevation() === 'pkexec' && !opts.json) io.stderr(`Asking for administrator rights (pkexec) to:\n${preview.results.filter((r) => r.changed).map((r) => `  - ${r.message}`).join('\n')}\n`);
  const run = await engine.apply(request);
  if (opts.json) io.stdout(`${JSON.stringify(run.response)}\n`);
  else printResults(io, run.response, false);
  if (run.response.ok) return EXIT.ok;
  return run.response.error ? exitForErrorCode(run.response.error.code, EXIT.usage) : EXIT.failed;
}

export async function emulatorsUse(engine: Engine, args: readonly string[], opts: { json: boolean; dryRun: boolean }, io: Io): Promise<number> {
  if (args.length !== 2) throw new UsageError('emulators use takes ARCH and VERSION|SHA256|distro, e.g. archway emulators use aarch64 7.2.22');
  const choice = resolveUseChoice(engine.paths, args[0]!, args[1]!);
  const intent: Intent = { action: 'use', archs: [choice.cpu], emulator: choice.emulator };
  const plan = await engine.plan(intent);
  if (!plan.request || !plan.preview) {
    io.stdout('Nothing to do.\n');
    return EXIT.ok;
  }
  return previewThenApply(engine, plan.request, plan.preview, opts, io);
}

/**
 * Store extracted emulators (fetch and import share this): the helper's dry run of the store-add
 * batch, then the apply bound to it. The caller disposes of the temporary copies.
 */
export async function storeExtracted(engine: Engine, request: HelperRequest, emulators: readonly ExtractedEmulator[], opts: { json: boolean; dryRun?: boolean }, io: Io): Promise<number> {
  const { bindToPlan } = await import('../../shared/helper-protocol');
  const preview = await engine.preview(request);
  if (!opts.json) for (const e of emulators) io.stderr(`${e.emulator}: ${e.size} bytes, sha256 ${e.sha256}; ${describeReported(e.provenance)} (not run)\n`);
  const code = await previewThenApply(engine, bindToPlan(request, preview), preview, { json: opts.json, dryRun: opts.dryRun === true }, io);
  if (code === EXIT.ok && !opts.dryRun && !opts.json) io.stdout(`Use them: archway install ${emulators.map((e) => e.cpu).join(' ')} --source store, or archway emulators use ARCH VERSION\n`);
  return code;
}

export async function emulatorsImport(engine: Engine, args: readonly string[], opts: { json: boolean; dryRun: boolean }, io: Io): Promise<number> {
  if (!args.length) throw new UsageError('emulators import takes a PATH: a `docker save` archive, an OCI layout, or a directory of qemu-* programs');
  const { prepareEmulatorImport } = await import('../container/fetch');
  const prepared = await prepareEmulatorImport(args[0]!, { archs: args.slice(1) });
  try {
    if (!opts.json) io.stderr(`read ${prepared.kind === 'directory' ? 'a directory of programs' : `a ${prepared.kind} image`}${prepared.image ? ` (${prepared.image}${prepared.digest ? `@${prepared.digest}` : ''})` : ''}; no container engine used\n`);
    return await storeExtracted(engine, prepared.request, prepared.emulators, opts, io);
  } finally {
    await prepared.dispose();
  }
}
