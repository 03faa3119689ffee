/**
 * The option parser, driven by spec.ts: a command accepts exactly the options its spec lists (plus
 * the global ones), enumerated values are checked here, and every mistake is a UsageError that
 * names the command so the caller can print that command's usage line.
 */
import { distance } from '../../shared/arch/resolve';
import { COMMANDS, commandSpec, GLOBAL_OPTIONS, optionsOf, type CommandSpec, type OptionSpec } from './spec';

export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose usage applies (undefined: the top level). */
    readonly command?: CommandSpec,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedLine {
  /** undefined: bare `archway` (maybe with --version or --help). */
  command: CommandSpec | undefined;
  positional: string[];
  /** Keyed by long name (`--flags`); switches map to true, value options to their values in order. */
  options: Map<string, true | string[]>;
  /** Words after `--` (commands that take a command line), or the raw words for commands with their own parser. */
  rest: string[];
  /** `--help`/`-h` was given (before any `--`). */
  help: boolean;
}

/** Closest command name within two edits, for "did you mean". */
export function suggestCommand(word: string): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of COMMANDS) {
    const dd = c.name.startsWith(word) && word.length >= 2 ? 0 : distance(word, c.name);
    if (dd < bestD) {
      bestD = dd;
      best = c.name;
    }
  }
  return best;
}

function findOption(opts: readonly OptionSpec[], name: string): OptionSpec | undefined {
  return opts.find((o) => o.name === name || o.short === name);
}

export function parseLine(argv: readonly string[]): ParsedLine {
  const out: ParsedLine = { command: undefined, positional: [], options: new Map(), rest: [], help: false };
  let i = 0;
  const take = (opts: readonly OptionSpec[], cmd: CommandSpec | undefined) => {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const o = findOption(opts, name);
    const where = cmd ? `${cmd.name} ` : '';
    if (!o) {
      const owners = COMMANDS.filter((c) => c.options.some((x) => x.name === name)).map((c) => c.name);
      if (owners.length === 0) throw new UsageError(`unknown option ${name}${cmd ? ` for ${cmd.name}` : ''}`, cmd);
      throw new UsageError(
        cmd ? `${cmd.name} does not take ${name} (${owners.join(', ')} ${owners.length > 1 ? 'do' : 'does'})` : `${name} belongs after a command, e.g. archway ${owners[0]} ${name}`,
        cmd,
      );
    }
    if (o.name === '--help') out.help = true;
    if (!o.arg) {
      if (inline !== undefined) throw new UsageError(`${where}${o.name} takes no value`, cmd);
      out.options.set(o.name, true);
      return;
    }
    let v = inline;
    if (v === undefined) {
      v = argv[i + 1];
      if (v === undefined || (v.startsWith('-') && v.length > 1)) throw new UsageError(`${where}${o.name} needs a value: ${o.name} ${o.arg}`, cmd);
      i++;
    }
    if (o.values && !o.values.includes(v)) throw new UsageError(`${where}${o.name} is one of ${o.values.join(', ')}, not "${v}"`, cmd);
    const prev = out.options.get(o.name);
    out.options.set(o.name, o.repeatable && Array.isArray(prev) ? [...prev, v] : [v]);
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!out.command) {
      if (a.startsWith('-') && a !== '-') {
        take(optionsOf(undefined), undefined);
        continue;
      }
      const cmd = commandSpec(a);
      if (!cmd) {
        const s = suggestCommand(a);
        throw new UsageError(`unknown command "${a}"${s ? ` — did you mean "${s}"?` : ''}`);
      }
      out.command = cmd;
      if (cmd.ownParser) {
        // The command parses its own options; the global ones (before any `--`) are taken here.
        const rest = argv.slice(i + 1);
        const dd = rest.indexOf('--') < 0 ? rest.length : rest.indexOf('--');
        const global = new Set(GLOBAL_OPTIONS.filter((o) => !o.arg).flatMap((o) => (o.short ? [o.name, o.short] : [o.name])));
        const own: string[] = [];
        for (let k = 0; k < dd; k++) {
          const w = rest[k]!;
          if (global.has(w)) out.options.set(findOption(GLOBAL_OPTIONS, w)!.name, true);
          else if (w === '--context' || w.startsWith('--context=')) {
            const v = w === '--context' ? rest[++k] : w.slice('--context='.length);
            if (!v || v.startsWith('-')) throw new UsageError('--context needs a value: --context NAME', cmd);
            out.options.set('--context', [v]);
          } else own.push(w);
        }
        out.help = out.options.has('--help');
        out.rest = [...own, ...rest.slice(dd)];
        return out;
      }
      continue;
    }
    if (a === '--') {
      if (!out.command.takesRest) throw new UsageError(`${out.command.name} takes no command after --`, out.command);
      out.rest = argv.slice(i + 1);
      break;
    }
    if (a.startsWith('-') && a !== '-') take(optionsOf(out.command), out.command);
    else out.positional.push(a);
  }
  if (out.command && !out.help) checkPositionals(out.command, out.positional);
  return out;
}

function checkPositionals(cmd: CommandSpec, words: string[]): void {
  const specs = cmd.positionals;
  if (specs.length === 0 && words.length > 0) throw new UsageError(`${cmd.name} takes no arguments (got "${words[0]}")`, cmd);
  specs.forEach((p, k) => {
    const w = words[k];
    if (w === undefined) {
      if (p.optional) return;
      if (p.complete.kind === 'arch') throw new UsageError(`${cmd.name}: name at least one architecture (or all), e.g. archway ${cmd.synopsis[0]!.split(' ARCH')[0]} arm64`, cmd);
      throw new UsageError(`${cmd.name}: missing ${p.name}`, cmd);
      return;
    }
    if (p.complete.kind === 'words' && !p.complete.words.includes(w)) {
      const ws = p.complete.words;
      const list = ws.length > 1 ? `${ws.slice(0, -1).join(', ')} or ${ws[ws.length - 1]}` : ws[0];
      throw new UsageError(`${cmd.name}: say ${list}, not "${w}"`, cmd);
    }
  });
  const last = specs[specs.length - 1];
  if (specs.length > 0 && !last?.variadic && words.length > specs.length) {
    throw new UsageError(`${cmd.name}: unexpected "${words[specs.length]}"`, cmd);
  }
}

/** A value option's last value. */
export function optionValue(p: ParsedLine, name: string): string | undefined {
  const v = p.options.get(name);
  return Array.isArray(v) ? v[v.length - 1] : undefined;
}
