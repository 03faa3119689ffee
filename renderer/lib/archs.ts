/**
 * What the Architectures view shows, decided from the status model. Pure: the components only
 * render these rows and call back with an Intent.
 */
import type { Intent } from '../../shared/actions';
import { catalogEntry, DOCKER_PLATFORMS } from '../../shared/arch/catalog';
import type { FlagInfo } from '../../shared/binfmt/flags';
import type { ArchState, ArchStatus, HandlerStatus, Owner, Status } from '../../shared/status';

export type Scope = 'docker' | 'all';

export interface ArchRow {
  cpu: string;
  /** Docker platforms served by this CPU (empty for CPUs Docker does not name). */
  platforms: string[];
  /** QEMU's name for the emulator, e.g. qemu-aarch64. */
  qemu: string;
  state: ArchState;
  summary: string;
  /** The handler that decides (winner, else the first registered). */
  handler?: HandlerStatus;
  emulator?: { source: string; version?: string; reported?: string; path: string };
  flags: FlagInfo[];
  persistent: boolean;
  owner?: Owner;
  ownedByArchway: boolean;
  arch: ArchStatus;
}

export function rowFor(arch: ArchStatus, status: Status): ArchRow {
  const name = arch.winner ?? arch.handlers[0];
  const handler = name ? status.handlers.find((h) => h.name === name) : undefined;
  const interp = handler?.rule.interpreter;
  const known = interp ? arch.available.find((a) => a.path === interp) : undefined;
  // What install would use is the planner's answer (status readiness), not the first file found.
  const ready = arch.install?.ok ? arch.install : undefined;
  const first = ready ? arch.available.find((a) => a.path === ready.interpreter) : undefined;
  const emulator = handler
    ? {
        source: known ? (known.source === 'store' ? 'Archway store' : 'distro') : 'other file',
        ...(known?.version ? { version: known.version } : {}),
        ...(known?.reported ? { reported: known.reported } : {}),
        path: interp!,
      }
    : first && arch.state !== 'native'
      ? { source: first.source === 'store' ? 'can use: store' : 'can use: distro', ...(first.version ? { version: first.version } : {}), ...(first.reported ? { reported: first.reported } : {}), path: first.path }
      : undefined;
  return {
    cpu: arch.cpu,
    platforms: arch.platforms,
    qemu: catalogEntry(arch.cpu)?.emulator ?? `qemu-${arch.cpu}`,
    state: arch.state,
    summary: arch.summary,
    ...(handler ? { handler, owner: handler.owner } : {}),
    ...(emulator ? { emulator } : {}),
    flags: handler?.flags ?? [],
    persistent: handler?.persistent ?? false,
    ownedByArchway: handler?.owner.kind === 'archway',
    arch,
  };
}

export function matchesQuery(row: ArchRow, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  const entry = catalogEntry(row.cpu);
  const hay = [row.cpu, row.qemu, row.state, ...row.platforms, ...(entry?.aliases ?? []), row.owner?.detail ?? ''].join(' ').toLowerCase();
  return q.split(/\s+/).every((w) => hay.includes(w));
}

const STATE_ORDER: Record<ArchState, number> = { conflict: 0, broken: 1, disabled: 2, ready: 3, missing: 4, native: 5 };

/** Rows for the view: Docker platforms (in Docker's order) or every CPU, filtered by the search. */
export function visibleRows(status: Status, scope: Scope, query: string): ArchRow[] {
  const rows = status.archs.filter((a) => scope === 'all' || a.platforms.length > 0).map((a) => rowFor(a, status));
  const filtered = rows.filter((r) => matchesQuery(r, query));
  if (scope === 'all') filtered.sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || a.cpu.localeCompare(b.cpu));
  else filtered.sort((a, b) => dockerOrder(a) - dockerOrder(b));
  return filtered;
}

/** Docker's own order (amd64, arm64, arm/v7, …), as in `docker buildx ls`. */
function dockerOrder(r: ArchRow): number {
  const i = DOCKER_PLATFORMS.findIndex((p) => r.platforms.includes(p.platform));
  return i < 0 ? DOCKER_PLATFORMS.length : i;
}

export interface RowAction {
  id: 'install' | 'uninstall' | 'enable' | 'disable' | 'persist-on' | 'persist-off' | 'drop-c';
  label: string;
  /** Changes or removes a handler Archway does not own: ask first (force / take over). */
  foreign: boolean;
  intent: Intent;
}

/** The one-click actions that make sense for a row. */
export function actionsFor(row: ArchRow): RowAction[] {
  const archs = [row.cpu];
  const foreign = !!row.handler && !row.ownedByArchway;
  const a = (id: RowAction['id'], label: string, isForeign = foreign): RowAction => ({ id, label, foreign: isForeign, intent: { action: id, archs } });
  switch (row.state) {
    case 'native':
      return [];
    case 'missing':
      return [a('install', 'Install', false)];
    case 'ready':
      return [
        // An enabled handler with C, whoever installed it: its status check carries Drop C as a typed intent.
        ...(row.handler?.checks.some((c) => c.intent?.action === 'drop-c') ? [a('drop-c', 'Drop C')] : []),
        a('disable', 'Disable'), row.persistent ? a('persist-off', 'Forget at reboot') : a('persist-on', 'Keep after reboot'), a('uninstall', 'Uninstall')].filter(
        (x) => !(x.foreign && (x.id === 'persist-on' || x.id === 'persist-off')),
      );
    case 'disabled':
      return [a('enable', 'Enable'), a('uninstall', 'Uninstall')];
    case 'broken':
      return [row.ownedByArchway ? a('install', 'Repair') : a('install', 'Replace', true), a('uninstall', 'Uninstall')];
    case 'conflict':
      return [a('uninstall', 'Uninstall')];
  }
}

/** Every Docker platform CPU that is missing and the planner would install (status readiness): what "Install all missing" installs. */
export function missingInstallable(status: Status): string[] {
  return status.archs.filter((a) => a.platforms.length > 0 && a.state === 'missing' && a.install?.ok === true).map((a) => a.cpu);
}

export const STATE_LABEL: Record<ArchState, string> = {
  native: 'native',
  ready: 'ready',
  disabled: 'disabled',
  missing: 'missing',
  broken: 'broken',
  conflict: 'conflict',
};

/** Magic and mask side by side, one byte a cell: which bytes the kernel compares. */
export function decodeMagic(h: HandlerStatus): { offset: number; bytes: { magic: string; mask: string; compared: boolean }[] } | undefined {
  if (h.rule.type !== 'M') return undefined;
  const pairs = (hex: string) => hex.match(/../g) ?? [];
  const magic = pairs(h.rule.magic);
  const mask = pairs(h.rule.mask);
  return {
    offset: h.rule.offset,
    bytes: magic.map((m, i) => ({ magic: m, mask: mask[i] ?? 'ff', compared: (mask[i] ?? 'ff') !== '00' })),
  };
}
