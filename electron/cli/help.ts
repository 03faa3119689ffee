/** `archway --help`, `archway help [command]` and `archway <command> --help`, rendered from spec.ts. */
import { EXIT } from './exit-codes';
import { ARCH_NOTE, COMMANDS, ENVIRONMENT, EXIT_MEANING, GLOBAL_OPTIONS, TOP_OPTIONS, usageLine, type CommandSpec, type OptionSpec } from './spec';
import { paint, PLAIN, type Term } from './term';
import { width, wrap } from './text';

export const TAGLINE = 'see and manage which foreign-architecture programs this Linux kernel can run';

/** `-h, --help` / `--flags LETTERS` as the left column shows it. */
export function optionLabel(o: OptionSpec): string {
  return `${o.short ? `${o.short}, ` : ''}${o.name}${o.arg ? ` ${o.arg}` : ''}`;
}

function twoColumns(t: Term, rows: [string, string][], cols: number): string[] {
  const left = Math.max(1, ...rows.map(([l]) => width(l)).filter((w) => w <= 26));
  const out: string[] = [];
  for (const [l, r] of rows) {
    const pad = 2 + left + 2;
    if (width(l) > left || cols - pad < 24) {
      out.push(`  ${paint(t, 'bold', l)}`);
      out.push(...wrap(r, cols, ' '.repeat(Math.min(pad, 8))));
    } else {
      const lines = wrap(r, cols - pad);
      out.push(`  ${paint(t, 'bold', l)}${' '.repeat(left - width(l) + 2)}${lines[0] ?? ''}`);
      for (const x of lines.slice(1)) out.push(' '.repeat(pad) + x);
    }
  }
  return out;
}

function exitRows(cmd?: CommandSpec): [string, string][] {
  return (Object.keys(EXIT) as (keyof typeof EXIT)[]).map((k) => [String(EXIT[k]), cmd?.exits?.[k] ?? EXIT_MEANING[k]]);
}

export function topHelp(t: Term = PLAIN): string {
  const cols = Math.min(t.columns, 100);
  const out: string[] = [...wrap(`archway ${t.unicode ? '—' : '-'} ${TAGLINE}`, cols), '', `${paint(t, 'bold', 'Usage:')} archway COMMAND [options]`, ''];
  out.push(paint(t, 'bold', 'Commands:'));
  out.push(...twoColumns(t, COMMANDS.map((c) => [c.name, c.summary]), cols));
  out.push('', paint(t, 'bold', 'Options:'));
  out.push(...twoColumns(t, [...TOP_OPTIONS, ...GLOBAL_OPTIONS].map((o) => [optionLabel(o), o.description]), cols));
  out.push('', paint(t, 'bold', 'Exit status:'));
  out.push(...twoColumns(t, exitRows(), cols));
  out.push('', ...wrap(ARCH_NOTE, cols));
  out.push(...wrap('Changes need root: Archway runs its helper directly as root, otherwise through pkexec (a password prompt).', cols));
  out.push('', ...wrap('Run `archway help COMMAND` or `archway COMMAND --help` for its options and examples.', cols));
  return `${out.join('\n')}\n`;
}

export function commandHelp(cmd: CommandSpec, t: Term = PLAIN): string {
  const cols = Math.min(t.columns, 100);
  const out: string[] = [];
  cmd.synopsis.forEach((syn, i) => {
    const lines = wrap(`archway ${syn}`, cols - 7, '', '    ');
    out.push(`${i === 0 ? paint(t, 'bold', 'Usage:') : '      '} ${lines[0]}`, ...lines.slice(1).map((l) => `       ${l}`));
  });
  out.push('');
  out.push(...wrap(`${cmd.summary[0]!.toUpperCase()}${cmd.summary.slice(1)}.`, cols));
  if (cmd.description) {
    for (const para of cmd.description.split('\n\n')) out.push('', ...wrap(para, cols));
  }
  if (cmd.positionals.some((p) => p.complete.kind === 'arch')) out.push('', ...wrap(ARCH_NOTE, cols));
  out.push('', paint(t, 'bold', 'Options:'));
  out.push(...twoColumns(t, [...cmd.options, ...GLOBAL_OPTIONS].map((o) => [optionLabel(o), o.description + (o.values && !o.values.every((v) => o.description.includes(v)) ? ` (${o.values.join(', ')})` : '')]), cols));
  if (cmd.examples.length) {
    out.push('', paint(t, 'bold', 'Examples:'));
    for (const e of cmd.examples) {
      out.push(...wrap(e.command, cols, '  ', '    '));
      out.push(...wrap(e.note, cols, '      '));
    }
  }
  out.push('', paint(t, 'bold', 'Exit status:'));
  out.push(...twoColumns(t, exitRows(cmd), cols));
  return `${out.join('\n')}\n`;
}

/** The usage error text: the message, the usage line of the command, and where to read more. */
export function usageError(message: string, cmd: CommandSpec | undefined): string {
  return `archway: ${message}\nUsage: ${usageLine(cmd)}\nRun \`archway ${cmd ? `${cmd.name} ` : ''}--help\` for more.\n`;
}
