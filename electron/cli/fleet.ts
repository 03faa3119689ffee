/**
 * `archway fleet status|install` and the `--context` face of status and changes: the logic is in
 * electron/targets (fleet.ts, remote.ts); this file parses, prints and picks the exit code.
 */
import type { Intent } from '../../shared/actions';
import { catalogEntry } from '../../shared/arch/catalog';
import { resolveOne } from '../../shared/arch/resolve';
import { SETUID_RISK } from '../../shared/binfmt/flags';
import { answered, CELL_WORD, REACH_WORD, type FleetMatrix } from '../../shared/fleet';
import { cleanText } from '../../shared/sanitize';
import { connect, describeContainerEngine, type Connection } from '../container/endpoint';
import { ContainerEngineError, toContainerEngineError } from '../container/errors';
import { controlThroughContainerEngine, type SessionOptions } from '../container/register';
import { DEFAULT_REACH_MS, fleetInstall, fleetStatus, type HostInstallResult } from '../targets/fleet';
import { installRemote, readRemote, remoteStatus } from '../targets/remote';
import { EXIT, exitForErrorCode, type ExitCode } from './exit-codes';
import { printStatus } from './format';
import { optionValue, UsageError, type ParsedLine } from './parse';
import { paint, symbols, type Term } from './term';
import { fitTable, type Column } from './text';

interface Out {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  term: Term;
}

const clean = (s: string) => cleanText(s);

function boundOf(p: ParsedLine): number {
  const t = optionValue(p, '--timeout');
  if (t === undefined) return DEFAULT_REACH_MS;
  const n = Number(t);
  if (!Number.isFinite(n) || n < 0.1 || n > 600) throw new UsageError('fleet: --timeout takes seconds from 0.1 to 600, e.g. --timeout 5', p.command);
  return Math.round(n * 1000);
}

export function formatMatrix(m: FleetMatrix, t: Term): string {
  const sym = symbols(t);
  const cols: Column[] = [{ head: 'HOST' }, { head: 'ENDPOINT', drop: 3, shrink: 2, min: 10 }, { head: 'MACHINE', drop: 2 }, { head: 'QEMU', drop: 1, shrink: 1, min: 6 }, ...m.cpus.map((c) => ({ head: c.toUpperCase() }))];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const h of m.hosts) {
    const name = `${h.id === m.baseline ? '*' : ''}${clean(h.name)}`;
    const why = `${clean(h.name)}: ${REACH_WORD[h.reach]}${h.ms !== undefined ? ` after ${(h.ms / 1000).toFixed(1)} s` : ''} ${sym.dash} ${clean(h.error?.message ?? '')}${h.error?.hint ? `\n  ${sym.arrow} ${clean(h.error.hint)}` : ''}`;
    if (!answered(h.reach)) {
      rows.push([name, clean(h.endpoint) || '-', '-', '-', ...m.cpus.map(() => '?')]);
      notes.push(why);
      continue;
    }
    // A Kubernetes node without a result yet (pending, unscheduled): what is known, and why.
    if (h.reach !== 'ok') notes.push(why);
    // The host's own words where a cell is not what was asked (a node's conflict or failure).
    for (const c of h.cells) if (c.note && (c.state === 'conflict' || c.state === 'broken')) notes.push(`${clean(h.name)}: ${clean(c.handler ?? c.cpu)}: ${clean(c.note)}`);
    const byCpu = new Map(h.cells.map((c) => [c.cpu, c]));
    rows.push([
      name,
      clean(h.endpoint),
      clean(h.machine ?? '?'),
      clean(h.emulatorVersion?.split(' ')[0] ?? '-'),
      ...m.cpus.map((c) => {
        const cell = byCpu.get(c);
        if (!cell) return '?';
        const diff = m.differences.some((d) => d.host === h.id && d.cpu === c);
        return `${CELL_WORD[cell.state]}${cell.cRisk ? ' !C' : ''}${diff ? ' ≠' : ''}`;
      }),
    ]);
    if (h.mounted === false) notes.push(`${clean(h.name)}: binfmt_misc is not mounted on that host`);
  }
  // Fitted to a terminal; whole when read by a program (a pipe, a file).
  const table = fitTable(cols, rows, t.tty ? t.columns : 10_000, sym.ellipsis);
  const out = table.lines.map((l, i) => (i === 0 ? paint(t, 'bold', l) : l));
  if (m.baseline) {
    out.push('', m.differences.length ? `Differences from ${clean(m.baseline)} (≠):` : `No differences from ${clean(m.baseline)}.`);
    for (const d of m.differences) out.push(`  ${clean(d.host)} ${d.cpu}: ${d.here} (${clean(m.baseline)}: ${d.baseline})`);
  }
  if (m.hosts.some((h) => h.cells.some((c) => c.cRisk))) out.push('', `!C: the handler has flag C. ${SETUID_RISK}`);
  if (notes.length) out.push('', ...notes);
  if (m.hosts.some((h) => h.kind !== 'docker-context')) out.push('', `Kubernetes nodes are changed through the cluster: archway kube apply ARCH${sym.ellipsis} --image REF@sha256:${sym.ellipsis} (archway kube delete removes it).`);
  return `${out.join('\n')}\n`;
}

function installLines(r: HostInstallResult, t: Term): string[] {
  const sym = symbols(t);
  const head = `${r.ok ? paint(t, 'green', sym.ok) : paint(t, 'red', sym.fail)} ${clean(r.host)} (${clean(r.endpoint)})`;
  const lines = [head];
  if (r.error && r.planned.every((p) => p.ok)) lines.push(`    ${clean(r.error.message)}${r.error.hint ? `\n    ${sym.arrow} ${clean(r.error.hint)}` : ''}`);
  for (const p of r.planned) lines.push(`    ${p.ok ? (p.changed ? sym.ok : sym.none) : sym.fail} ${clean(p.message)}${p.error?.hint ? `\n      ${sym.arrow} ${clean(p.error.hint)}` : ''}`);
  for (const c of r.changed) lines.push(`    ${c.changed ? sym.ok : sym.none} ${clean(c.message)}`);
  return lines;
}

/** Exit code of a fleet install: 0 all ok; 3 when every failure is a host that could not be used; else 1. */
export function fleetInstallExit(results: readonly HostInstallResult[]): ExitCode {
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return EXIT.ok;
  return failed.every((r) => r.reach !== 'ok' || exitForErrorCode(r.error?.code) === EXIT.unavailable) ? EXIT.unavailable : EXIT.failed;
}

export async function runFleetCommand(p: ParsedLine, o: Out): Promise<number> {
  const cmd = p.command!;
  const [sub, ...words] = p.positional;
  const json = p.options.has('--json');
  const boundMs = boundOf(p);
  const registrar = optionValue(p, '--registrar');
  const common = { boundMs, ...(registrar ? { registrar } : {}) };
  if (sub === 'status') {
    for (const opt of ['--contexts', '--flags', '--allow-setuid', '--dry-run']) if (p.options.has(opt)) throw new UsageError(`fleet status does not take ${opt}`, cmd);
    const kube = p.options.has('--kube');
    const baseline = optionValue(p, '--baseline');
    const contexts = words.flatMap((w) => w.split(',')).filter(Boolean);
    if (baseline && contexts.length && !contexts.includes(baseline)) contexts.push(baseline);
    const m = await fleetStatus({ ...common, ...(contexts.length ? { contexts } : {}), ...(baseline ? { baseline } : {}), ...(kube ? { kube } : {}) });
    if (baseline && !m.hosts.some((h) => h.id === baseline)) throw new UsageError(`fleet status: --baseline ${baseline} is not one of the hosts`, cmd);
    o.stdout(json ? `${JSON.stringify(m, null, 2)}\n` : formatMatrix(m, o.term));
    return m.hosts.every((h) => answered(h.reach)) ? EXIT.ok : EXIT.unavailable;
  }
  // install
  if (p.options.has('--baseline')) throw new UsageError('fleet install does not take --baseline', cmd);
  if (p.options.has('--kube')) throw new UsageError('fleet install does not take --kube: a cluster changes through `archway kube apply ARCH… --image REF@sha256:…`', cmd);
  const archs = words.flatMap((w) => w.split(',')).filter(Boolean);
  if (archs.length === 0) throw new UsageError('fleet install: name at least one architecture, e.g. archway fleet install arm64', cmd);
  const cpus = [...new Set(archs.map((a) => resolveOne(a).cpu))];
  const flags = optionValue(p, '--flags')?.toUpperCase();
  const allowSetuid = p.options.has('--allow-setuid') || !!flags?.includes('C');
  const contexts = (optionValue(p, '--contexts') ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  const results = await fleetInstall(cpus, { ...common, ...(contexts.length ? { contexts } : {}), ...(flags ? { flags } : {}), ...(allowSetuid ? { allowSetuid } : {}), ...(p.options.has('--dry-run') ? { dryRun: true } : {}) });
  if (json) o.stdout(`${JSON.stringify({ ok: results.every((r) => r.ok), dryRun: p.options.has('--dry-run'), hosts: results }, null, 2)}\n`);
  else for (const r of results) o.stdout(`${installLines(r, o.term).join('\n')}\n`);
  return fleetInstallExit(results);
}

/** `archway --context NAME status` for an ssh:// or tcp:// host: its table through its engine. */
export async function remoteStatusCommand(p: ParsedLine, o: Out): Promise<number> {
  const json = p.options.has('--json');
  if (p.options.has('--check')) throw new UsageError('status --check reads this machine; for another host use `archway --context NAME probe`', p.command);
  const registrar = optionValue(p, '--registrar');
  const conn = await connect();
  try {
    if (!json) o.stderr(`engine: ${describeContainerEngine(conn.info)}\n`);
    const session = registrar ? { registrar: { image: { ref: registrar, platform: `linux/${conn.info.arch}` } } } : {};
    const st = remoteStatus(await readRemote(conn, session).catch((err: unknown) => Promise.reject(toContainerEngineError(err, { endpoint: conn.info.endpoint, kind: conn.endpoint.kind, doing: 'reading binfmt_misc through the engine' }))));
    printStatus(o.stdout, st, { json, all: p.options.has('--all'), term: o.term });
    return EXIT.ok;
  } finally {
    conn.close();
  }
}

/** install/uninstall/enable/disable on an ssh:// or tcp:// context: through that host's engine. */
export async function remoteChange(intent: Intent, p: ParsedLine, o: Out): Promise<number> {
  if (intent.persist || intent.action === 'persist-on' || intent.action === 'persist-off' || intent.action === 'mount' || intent.action === 'drop-c') {
    throw new ContainerEngineError('invalid-request', `${intent.action} on another host is not done through its engine: it writes files on that host as root`, 'Run archway on that host, or use `archway --context NAME install` without --persist.');
  }
  const json = p.options.has('--json');
  const registrar = optionValue(p, '--registrar');
  const conn = await connect();
  try {
    o.stderr(`engine: ${describeContainerEngine(conn.info)}\n`);
    const session = registrar ? { registrar: { image: { ref: registrar, platform: `linux/${conn.info.arch}` } } } : {};
    const cpus = [...new Set(intent.archs.map((a) => resolveOne(a).cpu))];
    return await remoteChangeWith(conn, intent, cpus, session, p, o, json).catch((err: unknown) => {
      throw err instanceof ContainerEngineError || (err as Error)?.name === 'ArchwayError' ? err : toContainerEngineError(err, { endpoint: conn.info.endpoint, kind: conn.endpoint.kind, doing: 'changing binfmt_misc through the engine' });
    });
  } finally {
    conn.close();
  }
}

async function remoteChangeWith(conn: Connection, intent: Intent, cpus: string[], session: SessionOptions, p: ParsedLine, o: Out, json: boolean): Promise<number> {
  {
    if ((intent.action === 'uninstall' || intent.action === 'disable') && !intent.force) {
      // No record is kept on a remote host: its handlers cannot be told apart from another tool's.
      throw new ContainerEngineError(
        'invalid-request',
        `Archway keeps no record on ${conn.info.endpoint}, so it cannot tell its own handlers there from another tool's: ${intent.action} would change whichever ${cpus.join(', ')} handler is registered`,
        `If that is what you want: archway --context NAME ${intent.action} ${cpus.join(' ')} --force`,
      );
    }
    if (intent.action === 'install') {
      const r = await installRemote(conn, cpus, { ...session, ...(intent.flags ? { flags: intent.flags } : {}), ...(intent.allowSetuid ? { allowSetuid: true } : {}), ...(p.options.has('--dry-run') ? { dryRun: true } : {}) });
      const ok = r.planned.every((x) => x.ok);
      if (json) o.stdout(`${JSON.stringify({ ok, engine: conn.info.endpoint, planned: r.planned, results: r.outcomes })}\n`);
      else {
        for (const x of r.planned) o.stdout(`${x.ok ? symbols(o.term).ok : symbols(o.term).fail} ${clean(x.message)}${p.options.has('--dry-run') && x.register ? `\n    register: ${x.register}` : ''}\n`);
        for (const x of r.outcomes) o.stdout(`${symbols(o.term).ok} ${clean(x.message)} (through ${conn.info.name})\n`);
      }
      return ok ? EXIT.ok : exitForErrorCode(r.planned.find((x) => !x.ok)?.error?.code, EXIT.failed);
    }
    const names = cpus.map((c) => catalogEntry(c)!.handlerName);
    if (p.options.has('--dry-run')) {
      o.stdout(`Dry run ${symbols(o.term).dash} nothing was changed. Archway would ${intent.action} ${names.join(', ')} on ${conn.info.endpoint}.\n`);
      return EXIT.ok;
    }
    const value = intent.action === 'uninstall' ? '-1' : intent.action === 'enable' ? '1' : '0';
    const out = await controlThroughContainerEngine(conn, names, value, session);
    if (json) o.stdout(`${JSON.stringify({ ok: true, engine: conn.info.endpoint, results: out })}\n`);
    else for (const x of out) o.stdout(`${x.changed ? symbols(o.term).ok : symbols(o.term).none} ${clean(x.message)}\n`);
    return EXIT.ok;
  }
}
