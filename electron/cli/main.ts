/**
 * `archway` — the command-line face of the engine. No logic of its own: parse argv (as spec.ts
 * describes it), call the engine, print. Exit codes come from exit-codes.ts only.
 */
import type { Intent } from '../../shared/actions';
import { UnknownArchError } from '../../shared/arch/resolve';
import { ArchwayError } from '../../shared/errors';
import type { ArchStatus, HandlerStatus, Status } from '../../shared/status';
import { jsonForTerminal } from '../../shared/sanitize';
import { Engine } from '../engine';
import { rootlessMayShow } from '../rootless/present';
import { checkPlatforms } from './check';
import { EXIT, exitForErrorCode } from './exit-codes';
import { printStatus } from './format';
import { commandHelp, topHelp, usageError } from './help';
import { optionValue, parseLine, UsageError, type ParsedLine } from './parse';
import { commandSpec } from './spec';
import { asciify, detectTerm, paint, symbols, terminalSafe, type ColorChoice, type StreamFacts, type Term } from './term';
import { applyPreviewed, type Out } from './respond';
import { wrap } from './text';
import { archwayVersion } from './version';

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** The environment that decides colour, symbols and width (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Whether each stream is a terminal and how wide (default: not a terminal). */
  stdoutTTY?: StreamFacts;
  stderrTTY?: StreamFacts;
  /** Aborted when stdout is closed (EPIPE: the reader went away); long-running commands stop then. */
  stdoutClosed?: AbortSignal;
}

function intentFrom(p: ParsedLine, IntentSchema: typeof import('../../shared/actions').IntentSchema): Intent {
  const cmd = p.command!;
  const archsFrom = (list: string[]) => {
    const names = list.flatMap((a) => a.split(','));
    if (list.length > 0 && names.some((a) => a.trim() === '')) throw new UsageError(`${cmd.name}: an empty architecture name; name architectures like arm64 or s390x (or all)`, cmd);
    return names;
  };
  let intent: Intent;
  if (cmd.name === 'persist') {
    const [mode, ...archs] = p.positional;
    intent = { action: mode === 'on' ? 'persist-on' : 'persist-off', archs: archsFrom(archs) };
  } else if (cmd.name === 'mount') {
    intent = { action: 'mount', archs: [] };
  } else {
    intent = { action: cmd.name as Intent['action'], archs: archsFrom(p.positional) };
  }
  if (intent.action !== 'mount' && intent.archs.length === 0) throw new UsageError(`${cmd.name}: name at least one architecture (or all)`, cmd);
  const flags = optionValue(p, '--flags');
  if (flags !== undefined) intent.flags = flags.toUpperCase();
  if (p.options.has('--persist')) intent.persist = true;
  const source = optionValue(p, '--source');
  if (source !== undefined) intent.source = source === 'distro' || source === 'store' ? source : { path: source };
  if (p.options.has('--allow-dynamic')) intent.allowDynamic = true;
  if (p.options.has('--take-over')) intent.takeOver = true;
  // C is chosen explicitly either way: --allow-setuid, or flags that name it.
  if (p.options.has('--allow-setuid') || intent.flags?.includes('C')) intent.allowSetuid = true;
  if (p.options.has('--force')) intent.force = true;
  const checked = IntentSchema.safeParse(intent);
  if (!checked.success) {
    const i = checked.error.issues[0]!;
    throw new UsageError(`${i.path.join('.') || 'arguments'}: ${i.message}`, cmd);
  }
  return checked.data;
}

async function change(engine: Engine, p: ParsedLine, o: Out): Promise<number> {
  const cmd = p.command!;
  // The intent's schema (zod) is loaded by the commands that change something, never by `status`.
  const { IntentSchema } = await import('../../shared/actions');
  const intent = intentFrom(p, IntentSchema);
  const json = p.options.has('--json');
  const dryRun = p.options.has('--dry-run');
  const backend = optionValue(p, '--backend') ?? 'helper';
  if (p.options.has('--registrar') && backend !== 'engine') throw new UsageError('--registrar goes with --backend engine', cmd);
  if (backend === 'engine' && intent.allowSetuid && !intent.flags?.includes('C')) {
    throw new UsageError('--backend engine registers the flags you name: opt in to C there with --flags FC (or PFC with a *-binfmt-P wrapper)', cmd);
  }
  if (backend === 'engine' && !dryRun) {
    const { applyThroughContainerEngine } = await import('./docker-commands');
    const registrar = optionValue(p, '--registrar');
    return applyThroughContainerEngine(intent, { json, ...(registrar !== undefined ? { registrar } : {}) }, o, engine);
  }
  const plan = await engine.plan(intent);
  for (const s of plan.skipped) if (!json) o.stdout(`${symbols(o.term).none} skip ${s.arch}: ${s.why}\n`);
  if (!plan.request || !plan.preview) {
    if (json) o.stdout(`${JSON.stringify({ ok: true, dryRun, results: [], skipped: plan.skipped })}\n`);
    else o.stdout('Nothing to do.\n');
    return EXIT.ok;
  }
  // A dry run that says no is a refusal: nothing was changed (usage, as a refused request).
  return applyPreviewed(engine, plan.request, plan.preview, { json, dryRun, elevation: plan.elevation, skipped: plan.skipped, refusedExit: () => EXIT.usage }, o);
}

function status(engine: Engine, p: ParsedLine, o: Out): number {
  const cmd = p.command!;
  const json = p.options.has('--json');
  const st = engine.status();
  if (!p.options.has('--check')) {
    if (p.positional.length) throw new UsageError('status takes platforms only with --check, e.g. archway status --check linux/arm64', cmd);
    printStatus(o.stdout, st, { json, all: p.options.has('--all'), term: o.term });
    return EXIT.ok;
  }
  if (p.options.has('--all')) throw new UsageError('status --check does not take --all', cmd);
  const inputs = p.positional.flatMap((x) => x.split(',')).filter(Boolean);
  if (inputs.length === 0) throw new UsageError('status --check: name at least one platform, e.g. archway status --check linux/arm64', cmd);
  const checks = checkPlatforms(st, inputs);
  const ok = checks.every((c) => c.runs);
  if (json) {
    o.stdout(`${JSON.stringify({ ok, platforms: checks }, null, 2)}\n`);
  } else {
    const sym = symbols(o.term);
    for (const c of checks) {
      const name = c.platform && c.input.includes('/') ? c.platform : c.input;
      const head = c.runs ? `${paint(o.term, 'green', sym.ok)} ${name}: runs here (${c.state}): ${c.why}` : `${paint(o.term, 'red', sym.fail)} ${name}: does not run here (${c.state}): ${c.why}`;
      const line = `${head}${c.fix ? ` ${sym.dash} fix: ${c.fix}` : ''}`;
      // One line per platform for logs and grep; wrapped only for a person at a terminal.
      o.stdout(`${o.term.tty ? wrap(line, o.term.columns, '', '    ').join('\n') : line}\n`);
    }
  }
  return ok ? EXIT.ok : EXIT.failed;
}

function printLog(engine: Engine, p: ParsedLine, o: Out): number {
  const entries = engine.audit();
  const sym = symbols(o.term);
  if (p.options.has('--json')) o.stdout(`${JSON.stringify(entries)}\n`);
  else if (entries.length === 0) o.stdout('No privileged changes recorded yet.\n');
  else {
    for (const e of entries) {
      const line = `${e.time}  uid ${e.uid}  ${e.ok ? sym.ok : sym.fail} ${e.op}${e.arch ? ` ${e.arch}` : ''}: ${e.message}`;
      o.stdout(`${wrap(line, o.term.columns, '', '    ').join('\n')}\n`);
    }
  }
  return EXIT.ok;
}

export async function main(argv: string[], io: Io, engine = new Engine()): Promise<number> {
  const env = io.env ?? process.env;
  let p: ParsedLine;
  try {
    p = parseLine(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const t = detectTerm(env, io.stderrTTY ?? {});
    io.stderr((t.unicode ? (s: string) => s : asciify)(usageError(err.message, err.command)));
    return EXIT.usage;
  }
  const choice: ColorChoice = p.options.has('--no-color') ? 'never' : p.options.has('--color') ? 'always' : 'auto';
  const term = detectTerm(env, io.stdoutTTY ?? {}, choice);
  const errTerm = detectTerm(env, io.stderrTTY ?? {}, choice);
  // Everything printed is made safe for a terminal and, without a UTF-8 locale, spelled in ASCII —
  // except JSON, which is data (UTF-8 by definition): there what JSON.stringify leaves raw but a
  // terminal obeys (DEL, C1 such as U+009B, bidi controls) is written as \u escapes, the same data.
  const raw = p.options.has('--json') || p.command?.name === 'watch';
  const forTerm = (t: Term) => (s: string) => (t.unicode ? terminalSafe(s, t.color) : asciify(terminalSafe(s, t.color)));
  const toOut = forTerm(term);
  const toErr = forTerm(errTerm);
  const o: Out = {
    stdout: raw ? (s) => io.stdout(jsonForTerminal(s)) : (s) => io.stdout(toOut(s)),
    stderr: (s) => io.stderr(toErr(s)),
    term,
    errTerm,
  };
  const cmd = p.command;
  if (p.help) {
    o.stdout(cmd ? commandHelp(cmd, term) : topHelp(term));
    return EXIT.ok;
  }
  if (!cmd) {
    if (p.options.has('--version')) {
      o.stdout(`archway ${archwayVersion()}\n`);
      return EXIT.ok;
    }
    o.stderr(topHelp(errTerm));
    return EXIT.usage;
  }
  try {
    // `--context NAME` (and DOCKER_CONTEXT): every engine call of this process goes to that context;
    // on an ssh:// or tcp:// host, status and changes are read and made through its engine.
    // (help, version and completion never look at it; fleet names its contexts itself.)
    let remote = false;
    if (optionValue(p, '--context') !== undefined && optionValue(p, '--scope') !== undefined) {
      throw new UsageError('--context and --scope do not go together: --scope names a rootless engine of this user on this machine', cmd);
    }
    const contextName = optionValue(p, '--context');
    const kernelCommand = ['status', 'install', 'uninstall', 'enable', 'disable', 'persist', 'mount', 'drop-c'].includes(cmd.name);
    if (contextName !== undefined && ['help', 'version', 'completion', 'fleet', 'log', 'watch'].includes(cmd.name)) {
      throw new UsageError(`${cmd.name} does not take --context${cmd.name === 'fleet' ? ' (name the contexts: archway fleet status CONTEXT…)' : ''}`, cmd);
    }
    if (contextName !== undefined || (env.DOCKER_CONTEXT && kernelCommand)) {
      const { useContext, resolveEndpoint } = await import('../container/endpoint');
      useContext(contextName, env);
      if (kernelCommand) {
        const ep = resolveEndpoint(env).endpoint;
        remote = ep.source === 'context' && ep.kind !== 'unix';
      }
    }
    if (remote && kernelCommand) {
      const { remoteStatusCommand, remoteChange } = await import('./fleet');
      return cmd.name === 'status' ? await remoteStatusCommand(p, o) : await remoteChange(intentFrom(p, (await import('../../shared/actions')).IntentSchema), p, o);
    }
    // Rootless engines (issue 10): --scope podman|docker swaps the engine for the engine's own instance.
    const scope = optionValue(p, '--scope');
    if (scope === 'podman' || scope === 'docker') {
      const rootless = await import('./rootless');
      if (cmd.name === 'status') return rootless.statusScoped(scope, p, { ...o, env });
      engine = cmd.name === 'log' ? rootless.activityEngine(scope, env) : await rootless.scopedEngine(scope, p, { ...o, env }, env);
    } else if (cmd.name === 'status' && scope === undefined && !p.options.has('--check')) {
      // No rootless engine's pid file or record: nothing rootless to show, so the host's table
      // alone (the same output) without loading the rootless code (perf, issue 9).
      if (rootlessMayShow(env)) return (await import('./rootless')).statusAllScopes(engine, p, { ...o, env });
    }
    switch (cmd.name) {
      case 'help': {
        const name = p.positional[0];
        if (name === undefined) o.stdout(topHelp(term));
        else {
          const about = commandSpec(name);
          if (!about) throw new UsageError(`help: unknown command "${name}"`, cmd);
          o.stdout(commandHelp(about, term));
        }
        return EXIT.ok;
      }
      case 'version':
        o.stdout(`archway ${archwayVersion()}\n`);
        return EXIT.ok;
      case 'completion': {
        const { completionScript } = await import('./completion');
        o.stdout(completionScript(p.positional[0] as 'bash' | 'zsh' | 'fish'));
        return EXIT.ok;
      }
      case 'status':
        return status(engine, p, o);
      case 'install':
      case 'uninstall':
      case 'enable':
      case 'disable':
      case 'persist':
      case 'mount':
      case 'drop-c':
        return await change(engine, p, o);
      case 'log':
        return printLog(engine, p, o);
      case 'emulators': {
        // list / use / import: electron/cli/emulators.ts; fetch needs the engine (docker-commands.ts).
        const sub = p.positional[0];
        const args = p.positional.slice(1);
        const flags = { json: p.options.has('--json'), dryRun: p.options.has('--dry-run') };
        const em = await import('./emulators');
        if (sub === 'list') return em.emulatorsList(engine, { all: p.options.has('--all'), json: flags.json }, o);
        if (sub === 'use') return await em.emulatorsUse(engine, args, flags, o);
        if (sub === 'import') return await em.emulatorsImport(engine, args, flags, o);
        if (!args.length) throw new UsageError('emulators fetch: name at least one architecture (or all), e.g. archway emulators fetch arm64', cmd);
        const { fetchEmulators } = await import('./docker-commands');
        const image = optionValue(p, '--image');
        return await fetchEmulators(args, { ...flags, ...(image !== undefined ? { image } : {}) }, o, engine);
      }
      case 'probe': {
        // `probe` parses its own options (spec.ts documents them; a unit spec keeps the two in step).
        const { runProbeCommand } = await import('./probe');
        return await runProbeCommand(p.rest, { stdout: o.stdout, stderr: o.stderr });
      }
      case 'shell': {
        // `shell` parses its own options (spec.ts documents them); its exit status is the shell's own.
        const { runShellCommand } = await import('./shell');
        return await runShellCommand(p.rest, { stderr: o.stderr, env, status: () => engine.status() });
      }
      case 'watch': {
        const { parseInterval, untilSignalled, watch } = await import('./watch');
        const intervalMs = parseInterval(optionValue(p, '--interval'));
        if (intervalMs === undefined) throw new UsageError('watch: --interval takes seconds from 0.2 to 3600, e.g. --interval 5', cmd);
        if (p.positional.length) throw new UsageError('watch takes no arguments', cmd);
        const stop = new AbortController();
        const signal = io.stdoutClosed ? AbortSignal.any([stop.signal, io.stdoutClosed]) : stop.signal;
        const started = (s: Status) =>
          o.stderr(`archway watch: watching ${s.handlers.length} handler${s.handlers.length === 1 ? '' : 's'} every ${intervalMs / 1000} s; one JSON line per change on stdout (Ctrl-C to stop)\n`);
        return await untilSignalled(stop, () =>
          watch({
            readStatus: () => engine.status(),
            write: o.stdout,
            warn: (m) => o.stderr(`${m}\n`),
            intervalMs,
            failOnVanish: p.options.has('--fail-on-vanish'),
            signal,
            started,
          }),
        );
      }
      case 'fleet': {
        const { runFleetCommand } = await import('./fleet');
        return await runFleetCommand(p, o);
      }
      case 'rootless':
        return await (await import('./rootless')).runRootlessCommand(p, { ...o, env });
      case 'engines': {
        const { runEnginesCommand } = await import('./engines');
        return await runEnginesCommand([...p.positional, ...(p.options.has('--json') ? ['--json'] : [])], o);
      }
      case 'export':
        return await (await import('./kube')).runExport(p, o);
      case 'kube':
        return await (await import('./kube')).runKube(p, o);
      default:
        throw new UsageError(`unknown command "${cmd.name}"`);
    }
  } catch (err) {
    const arrow = symbols(errTerm).arrow;
    if (err instanceof UsageError) {
      o.stderr(usageError(err.message, err.command ?? cmd));
      return EXIT.usage;
    }
    const changing = ['install', 'uninstall', 'enable', 'disable', 'persist', 'mount', 'drop-c', 'emulators'].includes(cmd.name);
    if (err instanceof UnknownArchError) {
      o.stderr(`archway: ${err.message}\n${changing ? 'Nothing was changed.\n' : ''}`);
      return EXIT.usage;
    }
    if (err instanceof ArchwayError || (err instanceof Error && (err.name === 'ContainerEngineError' || err.name === 'KubeError'))) {
      const e = err as Error & { code?: string; hint?: string };
      const code = exitForErrorCode(e.code);
      const unchanged = changing && err instanceof ArchwayError && code !== EXIT.failed;
      o.stderr(`archway: ${e.message}${e.hint ? `\n  ${arrow} ${e.hint}` : ''}\n${unchanged ? 'Nothing was changed.\n' : ''}`);
      return code;
    }
    o.stderr(`archway: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.failed;
  }
}

export type { ArchStatus, HandlerStatus, Status };
