/**
 * `archway` — the command-line face of the engine. No logic of its own: parse argv, call the
 * engine, print. Exit 0 on success, 1 when an operation failed, 2 on usage errors or refusals.
 */
import { IntentSchema, type Intent } from '../../shared/actions';
import { UnknownArchError } from '../../shared/arch/resolve';
import { ArchwayError, type HelperResponse, type OpResult } from '../../shared/helper-protocol';
import type { ArchStatus, HandlerStatus, Status } from '../../shared/status';
import { Engine } from '../engine';
import { formatStatus, statusJson } from './format';

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const VERSION = '0.1.0';

const USAGE = `archway — see and manage which foreign-architecture programs this Linux kernel can run

Usage:
  archway status [--all] [--json]             architectures, handlers, health, owners, conflicts
  archway install <arch…|all> [options]       register QEMU handlers (default flags F; PF with Debian's wrappers)
      --flags LETTERS      binfmt_misc flags from P, O, C, F; F is required (C counts as --allow-setuid)
      --persist            keep after reboot (/etc/binfmt.d/qemu-<cpu>.conf, read by systemd-binfmt)
      --source distro|store|/abs/path   where the emulator comes from (default: distro, /usr/bin/qemu-*-static)
      --allow-dynamic      accept a dynamically linked emulator (it fails inside foreign containers)
      --allow-setuid       add flag C: setuid programs (sudo) get their own credentials — RISK: any local
                           user who can run a foreign setuid-root program can then create root-owned files
      --take-over          replace a handler of the same name from another tool (restored on uninstall)
      --dry-run            print the exact register strings and files, change nothing
  archway uninstall <arch…|all> [--force] [--dry-run]   remove Archway's handlers (--force: others' too)
  archway enable|disable <arch…|all> [--force] [--dry-run]
  archway persist on|off <arch…|all> [--dry-run]
  archway drop-c <arch…|all> [--dry-run]      re-register handlers that have flag C without it (same emulator
                                              and magic; another tool's handler is taken over, restored on uninstall)
  archway mount                               mount binfmt_misc if it is not mounted
  archway emulators fetch <arch…|all> [--image REPO:TAG@sha256:…]
                                              copy static QEMU out of a pinned tonistiigi/binfmt image (through
                                              Docker) into Archway's store; then: install … --source store
  --backend engine [--registrar IMAGE]        install/uninstall/enable/disable through a privileged container
                                              (Docker socket, no sudo); no ownership record, no boot-time file
  archway log [--json]                        the audit log of privileged changes
  archway probe --platform P[,P…] --image IMAGE [--json] [--timeout S] [-- CMD…]
  archway --version | --help

Architectures: arm64, aarch64, linux/arm64, linux/arm/v7, riscv64, s390x, ppc64le, 386, mips64le, … or all.
Changes need root: Archway runs its helper directly as root, otherwise through pkexec (a password prompt).
`;

class UsageError extends Error {}

interface Parsed {
  command: string;
  positional: string[];
  flags: Map<string, string | true>;
  rest: string[];
}

const VALUE_FLAGS = new Set(['--flags', '--source', '--platform', '--image', '--timeout', '--limit', '--backend', '--registrar']);
const BOOL_FLAGS = new Set(['--json', '--all', '--persist', '--allow-dynamic', '--allow-setuid', '--take-over', '--force', '--dry-run', '--help', '-h', '--version']);

export function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  let rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (a.startsWith('-')) {
      const [k, v] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      if (VALUE_FLAGS.has(k)) {
        const val = v ?? argv[++i];
        if (val === undefined) throw new UsageError(`${k} needs a value`);
        flags.set(k, val);
      } else if (BOOL_FLAGS.has(k)) {
        if (v !== undefined) throw new UsageError(`${k} takes no value`);
        flags.set(k, true);
      } else {
        throw new UsageError(`unknown option ${k}`);
      }
    } else {
      positional.push(a);
    }
  }
  return { command: positional[0] ?? '', positional: positional.slice(1), flags, rest };
}

function intentFrom(p: Parsed): Intent {
  const archsFrom = (list: string[]) => {
    if (list.length === 0) throw new UsageError(`${p.command}: name at least one architecture (or all)`);
    const names = list.flatMap((a) => a.split(','));
    if (names.some((a) => a.trim() === '')) throw new UsageError(`${p.command}: an empty architecture name; name architectures like arm64 or s390x (or all)`);
    return names;
  };
  const allowed: Record<string, string[]> = {
    install: ['--flags', '--persist', '--source', '--allow-dynamic', '--allow-setuid', '--take-over', '--dry-run', '--json', '--backend', '--registrar'],
    'drop-c': ['--dry-run', '--json'],
    uninstall: ['--force', '--dry-run', '--json', '--backend', '--registrar'],
    enable: ['--force', '--dry-run', '--json', '--backend', '--registrar'],
    disable: ['--force', '--dry-run', '--json', '--backend', '--registrar'],
    persist: ['--dry-run', '--json'],
    mount: ['--dry-run', '--json'],
  };
  for (const k of p.flags.keys()) {
    if (!allowed[p.command]!.includes(k)) throw new UsageError(`${p.command} does not take ${k}`);
  }
  let intent: Intent;
  if (p.command === 'persist') {
    const [mode, ...archs] = p.positional;
    if (mode !== 'on' && mode !== 'off') throw new UsageError('persist: say on or off, e.g. archway persist on arm64');
    intent = { action: mode === 'on' ? 'persist-on' : 'persist-off', archs: archsFrom(archs) };
  } else if (p.command === 'mount') {
    intent = { action: 'mount', archs: [] };
  } else {
    intent = { action: p.command as Intent['action'], archs: archsFrom(p.positional) };
  }
  const flags = p.flags.get('--flags');
  if (typeof flags === 'string') intent.flags = flags.toUpperCase();
  if (p.flags.has('--persist')) intent.persist = true;
  const source = p.flags.get('--source');
  if (typeof source === 'string') intent.source = source === 'distro' || source === 'store' ? source : { path: source };
  if (p.flags.has('--allow-dynamic')) intent.allowDynamic = true;
  if (p.flags.has('--take-over')) intent.takeOver = true;
  // C is chosen explicitly either way: --allow-setuid, or flags that name it.
  if (p.flags.has('--allow-setuid') || intent.flags?.includes('C')) intent.allowSetuid = true;
  if (p.flags.has('--force')) intent.force = true;
  const checked = IntentSchema.safeParse(intent);
  if (!checked.success) {
    const i = checked.error.issues[0]!;
    throw new UsageError(`${i.path.join('.') || 'arguments'}: ${i.message}`);
  }
  return checked.data;
}

function describeResult(r: OpResult): string {
  const mark = !r.ok ? '✗' : r.changed ? '✓' : '·';
  const lines = [`${mark} ${r.message}`];
  if (r.error?.hint) lines.push(`  → ${r.error.hint}`);
  for (const w of r.warnings ?? []) lines.push(`  ! ${w}`);
  for (const k of r.risks ?? []) lines.push(`  ! risk: ${k.message}`);
  return lines.join('\n');
}

function printResponse(io: Io, res: HelperResponse, dryRun: boolean): void {
  // A refusal goes to stderr as a whole, so it reads in order.
  const out = res.ok ? io.stdout : io.stderr;
  if (!res.ok && dryRun) out('Nothing was changed:\n');
  else if (dryRun) out('Dry run — nothing was changed. Archway would:\n');
  for (const r of res.results) {
    out(`${describeResult(r)}\n`);
    if (dryRun && r.ok && r.register) out(`    register: ${r.register}\n`);
    if (dryRun && r.ok && r.files?.length) out(`    files: ${r.files.join(', ')}\n`);
  }
  for (const rep of res.repairs ?? []) out(`  (repair) ${rep}\n`);
  if (res.error) io.stderr(`archway: ${res.error.message}${res.error.hint ? `\n  → ${res.error.hint}` : ''}\n`);
}

async function change(engine: Engine, p: Parsed, io: Io): Promise<number> {
  const intent = intentFrom(p);
  const json = p.flags.has('--json');
  const dryRun = p.flags.has('--dry-run');
  const backend = p.flags.get('--backend') ?? 'helper';
  if (backend !== 'helper' && backend !== 'engine') throw new UsageError('--backend is helper (default) or engine');
  if (p.flags.has('--registrar') && backend !== 'engine') throw new UsageError('--registrar goes with --backend engine');
  if (backend === 'engine' && intent.allowSetuid && !intent.flags?.includes('C')) {
    throw new UsageError('--backend engine registers the flags you name: opt in to C there with --flags FC (or PFC with a *-binfmt-P wrapper)');
  }
  if (backend === 'engine' && !dryRun) {
    const { applyThroughEngine } = await import('./docker-commands');
    const registrar = p.flags.get('--registrar');
    return applyThroughEngine(intent, { json, ...(typeof registrar === 'string' ? { registrar } : {}) }, io, engine);
  }
  const plan = await engine.plan(intent);
  for (const s of plan.skipped) if (!json) io.stdout(`· skip ${s.arch}: ${s.why}\n`);
  if (!plan.request || !plan.preview) {
    if (json) io.stdout(`${JSON.stringify({ ok: true, dryRun, results: [], skipped: plan.skipped })}\n`);
    else io.stdout('Nothing to do.\n');
    return 0;
  }
  if (!plan.preview.ok || dryRun) {
    if (json) io.stdout(`${JSON.stringify({ ...plan.preview, dryRun: true, skipped: plan.skipped })}\n`);
    else printResponse(io, plan.preview, true);
    return plan.preview.ok ? 0 : 2;
  }
  const changes = plan.preview.results.filter((r) => r.changed);
  if (changes.length === 0) {
    if (json) io.stdout(`${JSON.stringify({ ...plan.preview, dryRun: false, skipped: plan.skipped })}\n`);
    else printResponse(io, plan.preview, false);
    return 0;
  }
  if (plan.elevation === 'pkexec' && !json) {
    io.stderr(`Asking for administrator rights (pkexec) to:\n${changes.map((r) => `  - ${r.message}`).join('\n')}\n`);
  }
  const run = await engine.apply(plan.request);
  if (json) io.stdout(`${JSON.stringify({ ...run.response, skipped: plan.skipped })}\n`);
  else printResponse(io, run.response, false);
  return run.response.ok ? 0 : run.response.error ? 2 : 1;
}

export async function main(argv: string[], io: Io, engine = new Engine()): Promise<number> {
  if (argv[0] === 'probe') {
    // `probe` has options of its own (--pull, --concurrency…): its parser takes the whole line.
    const { runProbeCommand } = await import('../engine/docker/cli-probe');
    return runProbeCommand(argv.slice(1), io);
  }
  let p: Parsed;
  try {
    p = parseArgs(argv);
  } catch (err) {
    io.stderr(`archway: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (p.flags.has('--version')) {
    io.stdout(`archway ${VERSION}\n`);
    return 0;
  }
  if (p.flags.has('--help') || p.flags.has('-h') || p.command === 'help' || p.command === '') {
    (p.command === '' && !p.flags.has('--help') ? io.stderr : io.stdout)(USAGE);
    return p.command === '' && !p.flags.has('--help') ? 2 : 0;
  }
  try {
    switch (p.command) {
      case 'status': {
        for (const k of p.flags.keys()) if (k !== '--json' && k !== '--all') throw new UsageError(`status does not take ${k}`);
        if (p.positional.length) throw new UsageError('status takes no architectures');
        const status = engine.status();
        io.stdout(p.flags.has('--json') ? `${JSON.stringify(statusJson(status), null, 2)}\n` : formatStatus(status, { all: p.flags.has('--all') }));
        return 0;
      }
      case 'install':
      case 'uninstall':
      case 'enable':
      case 'disable':
      case 'persist':
      case 'mount':
      case 'drop-c':
        return await change(engine, p, io);
      case 'log': {
        const entries = engine.audit();
        if (p.flags.has('--json')) io.stdout(`${JSON.stringify(entries)}\n`);
        else if (entries.length === 0) io.stdout('No privileged changes recorded yet.\n');
        else for (const e of entries) io.stdout(`${e.time}  uid ${e.uid}  ${e.ok ? '✓' : '✗'} ${e.op}${e.arch ? ` ${e.arch}` : ''}: ${e.message}\n`);
        return 0;
      }
      case 'emulators': {
        const [sub, ...archs] = p.positional;
        if (sub !== 'fetch') throw new UsageError('emulators: the subcommand is fetch, e.g. archway emulators fetch arm64 s390x');
        if (archs.length === 0) throw new UsageError('emulators fetch: name at least one architecture (or all)');
        for (const k of p.flags.keys()) if (k !== '--image' && k !== '--json') throw new UsageError(`emulators fetch does not take ${k}`);
        const { fetchEmulators } = await import('./docker-commands');
        const image = p.flags.get('--image');
        return await fetchEmulators(archs, { json: p.flags.has('--json'), ...(typeof image === 'string' ? { image } : {}) }, io, engine);
      }
      default:
        throw new UsageError(`unknown command "${p.command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`archway: ${err.message}\nRun \`archway --help\` for usage.\n`);
      return 2;
    }
    if (err instanceof Error && err.name === 'EngineError') {
      const e = err as Error & { hint?: string };
      io.stderr(`archway: ${e.message}${e.hint ? `\n  → ${e.hint}` : ''}\n`);
      return 2;
    }
    if (err instanceof UnknownArchError || err instanceof ArchwayError) {
      const hint = err instanceof ArchwayError ? err.hint : undefined;
      const unchanged = err instanceof UnknownArchError || ['not-authorized', 'helper-missing', 'bad-request'].includes(err.code);
      io.stderr(`archway: ${err.message}${hint ? `\n  → ${hint}` : ''}\n${unchanged ? 'Nothing was changed.\n' : ''}`);
      return 2;
    }
    io.stderr(`archway: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

export type { ArchStatus, HandlerStatus, Status };
