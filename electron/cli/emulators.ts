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
import { applyPreviewed, type Out } from './respond';
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

/** A refused emulator request exits by its error's code (e.g. 3 when not authorized), else as a usage error. */
const refusedByCode = (res: HelperResponse) => exitForErrorCode(res.error?.code ?? res.results.find((r) => r.error)?.error?.code, EXIT.usage);

export async function emulatorsUse(engine: Engine, args: readonly string[], opts: { json: boolean; dryRun: boolean }, io: Out): Promise<number> {
  if (args.length !== 2) throw new UsageError('emulators use takes ARCH and VERSION|SHA256|distro, e.g. archway emulators use aarch64 7.2.22');
  const choice = resolveUseChoice(engine.paths, args[0]!, args[1]!);
  const intent: Intent = { action: 'use', archs: [choice.cpu], emulator: choice.emulator };
  const plan = await engine.plan(intent);
  if (!plan.request || !plan.preview) {
    io.stdout('Nothing to do.\n');
    return EXIT.ok;
  }
  return applyPreviewed(engine, plan.request, plan.preview, { ...opts, elevation: engine.elevation(), refusedExit: refusedByCode }, io);
}

/**
 * Store extracted emulators (fetch and import share this): the helper's dry run of the store-add
 * batch, then the apply bound to it. The caller disposes of the temporary copies.
 */
export async function storeExtracted(engine: Engine, request: HelperRequest, emulators: readonly ExtractedEmulator[], opts: { json: boolean; dryRun?: boolean }, io: Out): Promise<number> {
  const { bindToPlan } = await import('../../shared/helper-protocol');
  const preview = await engine.preview(request);
  if (!opts.json) for (const e of emulators) io.stderr(`${e.emulator}: ${e.size} bytes, sha256 ${e.sha256}; ${describeReported(e.provenance)} (not run)\n`);
  const code = await applyPreviewed(engine, bindToPlan(request, preview), preview, { json: opts.json, dryRun: opts.dryRun === true, elevation: engine.elevation(), refusedExit: refusedByCode }, io);
  if (code === EXIT.ok && !opts.dryRun && !opts.json) io.stdout(`Use them: archway install ${emulators.map((e) => e.cpu).join(' ')} --source store, or archway emulators use ARCH VERSION\n`);
  return code;
}

export async function emulatorsImport(engine: Engine, args: readonly string[], opts: { json: boolean; dryRun: boolean }, io: Out): Promise<number> {
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
