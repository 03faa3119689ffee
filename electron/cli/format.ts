/** Human and JSON renderings of the status model for the terminal. */
import type { Status } from '../../shared/status';

const STATE_MARK: Record<string, string> = {
  native: '● native',
  ready: '✓ ready',
  disabled: '○ disabled',
  missing: '· missing',
  broken: '✗ broken',
  conflict: '! conflict',
};

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function formatStatus(s: Status, opts: { all?: boolean } = {}): string {
  const out: string[] = [];
  out.push(
    `binfmt_misc: ${s.mount.mounted ? `mounted at ${s.mount.path}` : `NOT mounted at ${s.mount.path}`}${s.globalEnabled === false ? ' (globally disabled)' : ''}`,
  );
  out.push(`host: ${s.hostMachine} (runs natively: ${s.native.map((n) => n.cpu + (n.native === 'maybe' ? '?' : '')).join(', ') || 'unknown'})`);
  out.push('');
  const archs = s.archs.filter((a) => opts.all || a.platforms.length > 0 || a.handlers.length > 0);
  const rows = [['ARCH', 'PLATFORM', 'STATE', 'HANDLER', 'FLAGS', 'OWNER', 'BOOT', 'EMULATOR', 'INTERPRETER']];
  for (const a of archs) {
    const h = s.handlers.find((x) => x.name === a.winner) ?? s.handlers.find((x) => a.handlers.includes(x.name));
    rows.push([
      a.cpu,
      a.platforms.join(',') || '-',
      STATE_MARK[a.state] ?? a.state,
      h?.name ?? '-',
      h ? h.rule.flags || '-' : '-',
      h ? h.owner.kind + (h.owner.guess ? '?' : '') : '-',
      h ? (h.persistent ? 'yes' : 'no') : '-',
      h ? `${h.emulator.source}${h.emulator.version ? ` ${h.emulator.version}` : ''}${h.emulator.reported ? ` (${h.emulator.reported})` : ''}` : '-',
      h ? h.rule.interpreter : a.native !== 'yes' && a.available[0] ? `(can use ${a.available[0].path})` : '',
    ]);
  }
  out.push(table(rows));
  const others = s.handlers.filter((h) => h.cpus.length === 0);
  if (others.length) {
    out.push('', 'Other handlers:');
    for (const h of others) out.push(`  ${h.enabled ? '✓' : '○'} ${h.name}: ${h.rule.interpreter} (${h.owner.detail})`);
  }
  const notes: string[] = [];
  for (const a of archs) if (a.state === 'conflict' || a.state === 'broken') notes.push(`${a.cpu}: ${a.summary}`);
  for (const h of s.handlers) {
    for (const c of h.checks) if (c.level === 'warning' || c.level === 'error') notes.push(`${h.name}: ${c.message}${c.fix ? `\n      → ${c.fix}` : ''}`);
  }
  if (notes.length || s.warnings.length) {
    out.push('', 'Attention:');
    for (const w of s.warnings) out.push(`  ! ${w}`);
    for (const n of notes) out.push(`  ! ${n}`);
  }
  if (!opts.all) out.push('', `${s.archs.length - archs.length} more architectures without a handler: archway status --all`);
  return `${out.join('\n')}\n`;
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
