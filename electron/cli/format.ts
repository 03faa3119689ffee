/** Human and JSON renderings of the status model for the terminal (fitted to its width, coloured only when allowed). */
import type { ArchState, Status } from '../../shared/status';
import { paint, PLAIN, symbols, type Style, type Term } from './term';
import { fitTable, wrap, type Column } from './text';

const STATE_STYLE: Record<ArchState, { mark: keyof ReturnType<typeof symbols>; style?: Style }> = {
  native: { mark: 'native', style: 'cyan' },
  ready: { mark: 'ok', style: 'green' },
  disabled: { mark: 'off', style: 'yellow' },
  missing: { mark: 'none', style: 'dim' },
  broken: { mark: 'fail', style: 'red' },
  conflict: { mark: 'warn', style: 'yellow' },
};

/** `✓ ready` (or `+ ready` without UTF-8). */
export function stateLabel(state: ArchState, t: Term): string {
  return `${symbols(t)[STATE_STYLE[state].mark]} ${state}`;
}

const STATUS_COLUMNS: Column[] = [
  { head: 'ARCH' },
  { head: 'PLATFORM', drop: 5, shrink: 2, min: 11 },
  { head: 'STATE' },
  { head: 'HANDLER', drop: 2, shrink: 2, min: 12 },
  { head: 'FLAGS', drop: 4 },
  { head: 'OWNER', drop: 3 },
  { head: 'BOOT', drop: 1 },
  { head: 'EMULATOR', drop: 0, shrink: 2, min: 8 },
  { head: 'INTERPRETER', drop: 6, shrink: 1, min: 20 },
];

export function formatStatus(s: Status, opts: { all?: boolean; term?: Term } = {}): string {
  const t = opts.term ?? PLAIN;
  const sym = symbols(t);
  const cols = t.columns;
  const out: string[] = [];
  const para = (text: string, indent = '', hang = '  ') => out.push(...wrap(text, cols, indent, hang));
  para(`binfmt_misc: ${s.mount.mounted ? `mounted at ${s.mount.path}` : `NOT mounted at ${s.mount.path}`}${s.globalEnabled === false ? ' (globally disabled)' : ''}`);
  para(`host: ${s.hostMachine} (runs natively: ${s.native.map((n) => n.cpu + (n.native === 'maybe' ? '?' : '')).join(', ') || 'unknown'})`);
  out.push('');
  const archs = s.archs.filter((a) => opts.all || a.platforms.length > 0 || a.handlers.length > 0);
  const rows: string[][] = [];
  for (const a of archs) {
    const h = s.handlers.find((x) => x.name === a.winner) ?? s.handlers.find((x) => a.handlers.includes(x.name));
    rows.push([
      a.cpu,
      a.platforms.join(',') || '-',
      stateLabel(a.state, t),
      h?.name ?? '-',
      h ? h.rule.flags || '-' : '-',
      h ? h.owner.kind + (h.owner.guess ? '?' : '') : '-',
      h ? (h.persistent ? 'yes' : 'no') : '-',
      h ? `${h.emulator.source}${h.emulator.qemuVersion ?? h.emulator.version ? ` QEMU ${h.emulator.qemuVersion ?? h.emulator.version}` : ''}${h.emulator.reported ? ` (${h.emulator.reported})` : ''}` : '-',
      h ? h.rule.interpreter : a.install?.ok ? `(can use ${a.install.interpreter})` : '',
    ]);
  }
  const table = fitTable(STATUS_COLUMNS, rows, cols, sym.ellipsis);
  table.lines.forEach((line, i) => {
    if (i === 0) return out.push(paint(t, 'bold', line));
    const a = archs[i - 1]!;
    const label = stateLabel(a.state, t);
    const style = STATE_STYLE[a.state].style;
    out.push(style && t.color ? line.replace(label, paint(t, style, label)) : line);
  });
  if (table.dropped.length) para(`(${table.dropped.join(', ')} hidden to fit ${cols} columns; archway status --json shows all)`);
  const others = s.handlers.filter((h) => h.cpus.length === 0);
  if (others.length) {
    out.push('', 'Other handlers:');
    for (const h of others) para(`${h.enabled ? sym.ok : sym.off} ${h.name}: ${h.rule.interpreter} (${h.owner.detail})`, '  ', '    ');
  }
  const notes: string[] = [];
  for (const a of archs) if (a.state === 'conflict' || a.state === 'broken') notes.push(`${a.cpu}: ${a.summary}`);
  for (const h of s.handlers) {
    for (const c of h.checks) if (c.level === 'warning' || c.level === 'error') notes.push(`${h.name}: ${c.message}${c.fix ? `\n${sym.arrow} ${c.fix}` : ''}`);
  }
  if (notes.length || s.warnings.length) {
    out.push('', paint(t, 'bold', 'Attention:'));
    for (const n of [...s.warnings, ...notes]) {
      const [first, ...more] = n.split('\n');
      para(`${sym.warn} ${first}`, '  ', '  ');
      for (const m of more) para(m, '      ', '  ');
    }
  }
  if (!opts.all) para(`${s.archs.length - archs.length} more architectures without a handler: archway status --all`);
  return `${out.join('\n')}\n`;
}

/**
 * What `status` prints (this machine's, or another host's through its engine): the table, or
 * statusJson pretty-printed. The document and its newline are written one after the other: a
 * ≈115 KB string joined to "\n" is copied whole on its way out (young garbage in every status).
 */
export function printStatus(write: (s: string) => void, s: Status, opts: { json: boolean; all: boolean; term: Term; jsonExtra?: object }): void {
  if (!opts.json) {
    write(formatStatus(s, { all: opts.all, term: opts.term }));
    return;
  }
  write(JSON.stringify(opts.jsonExtra ? { ...statusJson(s), ...opts.jsonExtra } : statusJson(s), null, 2));
  write('\n');
}

/** tonistiigi/binfmt's keys (`supported`, `emulators` — null when none, as it prints) plus Archway's detail. */
export function statusJson(s: Status) {
  return {
    supported: s.supported,
    emulators: s.emulators.length ? s.emulators : null,
    mount: s.mount,
    globalEnabled: s.globalEnabled,
    hostMachine: s.hostMachine,
    native: s.native,
    handlers: s.handlers.map(({ raw: _raw, ...h }) => h),
    archs: s.archs,
    vanished: s.vanished,
    drift: s.drift,
    warnings: s.warnings,
  };
}
