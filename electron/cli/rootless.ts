/**
 * `--scope podman|docker` on install/uninstall/enable/disable/status, the rootless part of
 * `archway status`, and `archway rootless [status|reapply|unit]`. Logic lives in electron/rootless/*
 * and shared/rootless.ts; this file picks the engine and prints.
 */
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { intentCommand } from '../../shared/intent-command';
import type { Cpu } from '../../shared/arch/catalog';
import { resolveArchs } from '../../shared/arch/resolve';
import { ArchwayError } from '../../shared/errors';
import { hiddenByInstance, scopedCommand, SCOPE_LABEL } from '../../shared/rootless';
import { Engine } from '../engine';
import { kernelSupport, ROOTLESS_SCOPES, SCOPE_NAMES, type RootlessScope } from '../rootless/detect';
import { reports, scopeReport, type ScopeReport } from '../rootless/report';
import { reapply, wanted, writeUnit } from '../rootless/keep';
import { engineFor, requireNamespace, rootlessPaths, type RootlessEngine } from '../rootless/target';
import { EXIT } from './exit-codes';
import { formatStatus, printStatus, statusJson } from './format';
import { optionValue, UsageError, type ParsedLine } from './parse';
import { symbols, type Term } from './term';
import { wrap } from './text';

interface Out {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  term: Term;
  errTerm: Term;
  env?: NodeJS.ProcessEnv;
}

/**
 * The engine a scoped change works on. Applying the first install makes the engine's own instance;
 * then the command says which host handlers the engine's containers stop seeing.
 */
export async function scopedEngine(scope: RootlessScope, p: ParsedLine, o: Out, env: NodeJS.ProcessEnv = process.env): Promise<RootlessEngine> {
  const cmd = p.command!;
  if (p.options.has('--backend') && optionValue(p, '--backend') !== 'helper') throw new UsageError("--scope podman|docker changes the engine's own instance as you: it takes no --backend", cmd);
  const install = cmd.name === 'install' && !p.options.has('--dry-run');
  const found = await requireNamespace(scope, { start: install, env });
  let asked: Cpu[] = [];
  try {
    asked = resolveArchs(p.positional.flatMap((x) => x.split(',')).filter(Boolean)).map((e) => e.cpu);
  } catch {
    /* the planner says what is wrong with the names */
  }
  const created = () => {
    const hidden = hiddenByInstance(new Engine().status(), asked);
    o.stderr(
      `Made ${SCOPE_NAMES[scope]}'s own binfmt_misc instance (namespace of pid ${found.ns.pid}). From now on its containers use only that instance` +
        (hidden.length ? `: the host's handlers for ${hidden.join(', ')} no longer apply to them (add them: ${scopedCommand(intentCommand({ action: 'install', archs: hidden }), scope)})` : '') +
        '.\n',
    );
  };
  return engineFor(found, env, created);
}

/** For `archway log --scope`: the user's activity in an engine's instance, running or not. */
export function activityEngine(scope: RootlessScope, env: NodeJS.ProcessEnv = process.env): Engine {
  return new Engine({ paths: rootlessPaths(scope, 0, false, env) });
}

function scopeText(r: ScopeReport, o: Out, opts: { table: boolean; all?: boolean }): string {
  const sym = symbols(o.term);
  const out: string[] = [];
  const para = (s: string, indent = '  ', hang = '    ') => out.push(...wrap(s, o.term.columns, indent, hang));
  const head = `${SCOPE_LABEL[r.scope][0]!.toUpperCase()}${SCOPE_LABEL[r.scope].slice(1)}`;
  if (!r.running) {
    out.push(`${head}: not running.`);
    if (r.missing.length) para(`${sym.warn} you asked for ${r.missing.join(', ')} here; Archway re-applies them when it starts again (archway rootless reapply --scope ${r.scope}, or the archway-rootless.service user unit)`);
    return `${out.join('\n')}\n`;
  }
  out.push(
    `${head} (namespace of pid ${r.pid}): ${
      r.instance === 'own'
        ? 'its own binfmt_misc instance; the host\'s handlers do not apply to its containers.'
        : 'no binfmt_misc instance of its own; its containers use the host\'s handlers.'
    }`,
  );
  if (r.status && r.instance === 'own' && opts.table) out.push(...formatStatus(r.status, { term: o.term, ...(opts.all ? { all: true } : {}) }).trimEnd().split('\n').map((l) => `  ${l}`));
  for (const u of r.uses) {
    const mark = u.uses === 'none' ? sym.fail : u.uses === 'native' ? sym.native : sym.ok;
    para(`${mark} ${u.cpu}: ${u.why}${u.fix ? ` ${sym.dash} fix (no password): ${intentCommand(u.fix)}` : ''}`);
  }
  if (r.missing.length) para(`${sym.warn} asked for but gone (the namespace was restarted): ${r.missing.join(', ')} ${sym.dash} fix: archway rootless reapply --scope ${r.scope}`);
  return `${out.join('\n')}\n`;
}

function reportJson(r: ScopeReport) {
  const { status, label: _label, ...rest } = r;
  return { ...rest, ...(status && r.instance === 'own' ? { status: statusJson(status) } : {}) };
}

/** `archway status` without --scope: the host's table (as before), then each rootless engine's. */
export function statusAllScopes(engine: Engine, p: ParsedLine, o: Out): number {
  if (p.positional.length) throw new UsageError('status takes platforms only with --check, e.g. archway status --check linux/arm64', p.command);
  const env = o.env ?? process.env;
  const host = engine.status();
  const rs = reports(host, env);
  const json = p.options.has('--json');
  printStatus(o.stdout, host, { json, all: p.options.has('--all'), term: o.term, ...(json && rs.length ? { jsonExtra: { rootless: rs.map(reportJson) } } : {}) });
  if (json) return EXIT.ok;
  for (const r of rs) o.stdout(`\n${scopeText(r, o, { table: true, ...(p.options.has('--all') ? { all: true } : {}) })}`);
  return EXIT.ok;
}

/** `archway status --scope podman|docker`. */
export function statusScoped(scope: RootlessScope, p: ParsedLine, o: Out): number {
  const cmd = p.command!;
  if (p.options.has('--check')) throw new UsageError('status --check works on the host; for a rootless engine: archway probe', cmd);
  const env = o.env ?? process.env;
  const r = scopeReport(scope, new Engine().status(), env);
  if (p.options.has('--json')) o.stdout(`${JSON.stringify(reportJson(r), null, 2)}\n`);
  else o.stdout(scopeText(r, o, { table: true, ...(p.options.has('--all') ? { all: true } : {}) }));
  return EXIT.ok;
}

/** `archway rootless [status]`, `archway rootless reapply [--scope S]`, `archway rootless unit`. */
export async function runRootlessCommand(p: ParsedLine, o: Out): Promise<number> {
  const cmd = p.command!;
  const env = o.env ?? process.env;
  const [sub = 'status', ...extra] = p.positional;
  if (extra.length) throw new UsageError(`rootless ${sub} takes no more words`, cmd);
  const json = p.options.has('--json');
  const scopeOpt = optionValue(p, '--scope');
  if (scopeOpt === 'host') throw new UsageError('rootless: --scope is podman or docker', cmd);
  const scopes = scopeOpt ? [scopeOpt as RootlessScope] : [...ROOTLESS_SCOPES];
  if (sub === 'status') {
    const kernel = await kernelSupport();
    const rs = scopes.map((s) => scopeReport(s, new Engine().status(), env));
    if (json) o.stdout(`${JSON.stringify({ kernel, engines: rs.map(reportJson) }, null, 2)}\n`);
    else {
      o.stdout(`Kernel ${kernel.release}: ${kernel.supported ? `binfmt_misc per user namespace works (${kernel.how === 'probe' ? 'probed' : 'by version'})` : kernel.why}\n`);
      for (const r of rs) o.stdout(scopeText(r, o, { table: false }));
    }
    return kernel.supported ? EXIT.ok : EXIT.unavailable;
  }
  if (sub === 'reapply') {
    const results = [];
    let ok = true;
    for (const s of scopes) {
      const w = wanted(s, env);
      if (w.handlers.length === 0) continue;
      try {
        const r = await reapply(s, env);
        ok &&= r.ok;
        results.push({ scope: s, reapplied: r.cpus, ok: r.ok, results: r.responses.flatMap((x) => x.results) });
        if (!json) {
          o.stdout(r.cpus.length ? `${symbols(o.term).ok} ${SCOPE_NAMES[s]}: registered ${r.cpus.join(', ')} again\n` : `${symbols(o.term).none} ${SCOPE_NAMES[s]}: ${w.handlers.map((h) => h.cpu).join(', ')} already there\n`);
          for (const x of r.responses) if (!x.ok) for (const res of x.results) if (!res.ok) o.stderr(`${symbols(o.errTerm).fail} ${res.message}\n`);
        }
      } catch (err) {
        if (!(err instanceof ArchwayError)) throw err;
        // An engine that is not running is not a failure (the unit runs again when rootless Docker
        // starts); anything else is.
        const skipped = err.code === 'not-found';
        ok &&= skipped;
        results.push({ scope: s, reapplied: [], ok: skipped, ...(skipped ? { skipped: err.message } : { error: err.toJSON() }) });
        if (!json) (skipped ? o.stdout : o.stderr)(`${skipped ? symbols(o.term).none : symbols(o.errTerm).fail} ${SCOPE_NAMES[s]}: ${err.message}${!skipped && err.hint ? ` (${err.hint})` : ''}\n`);
      }
    }
    if (json) o.stdout(`${JSON.stringify({ ok, scopes: results })}\n`);
    else if (results.length === 0) o.stdout('Nothing to re-apply: no handlers were asked for in a rootless engine.\n');
    return ok ? EXIT.ok : EXIT.failed;
  }
  if (sub === 'unit') {
    // Node and the script it runs (bin/archway.cjs, the packages' extensionless /usr/bin/archway,
    // dist/cli/archway.mjs); no script word when this process is no script's (a bundled binary).
    const script = process.argv[1];
    const argv = [process.execPath, ...(script && isAbsolute(script) && statSync(script, { throwIfNoEntry: false })?.isFile() ? [script] : [])];
    const path = writeUnit(argv, env);
    if (json) o.stdout(`${JSON.stringify({ unit: path })}\n`);
    else o.stdout(`Wrote ${path}.\nTurn it on (as you, no password): systemctl --user daemon-reload && systemctl --user enable --now archway-rootless.service\n`);
    return EXIT.ok;
  }
  throw new UsageError(`rootless: unknown word "${sub}" (status, reapply or unit)`, cmd);
}

