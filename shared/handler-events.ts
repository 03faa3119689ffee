/**
 * What happened to the handlers between two readings: the one diff behind the window's
 * `handlerEvents` IPC event (electron/main/live.ts), `archway watch` (electron/cli/watch.ts) and the
 * raw-entry watcher of a binfmt_misc table read through a container engine
 * (electron/container/watch.ts). `diffTables` compares two tables of entries by name;
 * `handlerEvents` turns two statuses into typed events with it. Pure; the pollers are the edge.
 */
import type { HandlerStatus, Status } from './status';

export const HANDLER_EVENT_KINDS = ['vanished', 'removed', 'appeared', 'changed', 'broken', 'recovered'] as const;
export type HandlerEventKind = (typeof HANDLER_EVENT_KINDS)[number];

interface EventBase {
  /** ISO 8601, when the change was noticed (the reading that showed it). */
  time: string;
  event: HandlerEventKind;
  /** The binfmt_misc entry name (qemu-aarch64). */
  name: string;
  /** The CPU it emulates (aarch64), or null when its rule matches none Archway knows. */
  arch: string | null;
}

/** What a handler is, as the events report it. */
export interface HandlerFacts {
  enabled: boolean;
  flags: string;
  interpreter: string;
}

export type HandlerEvent =
  /** A handler Archway installed is gone from the kernel (reboot, flush, someone removed it): `archway install <arch>` puts it back. */
  | (EventBase & { event: 'vanished'; persist: boolean; register: string })
  /** A handler Archway does not own (any more) left the kernel — an uninstall, another tool. */
  | (EventBase & { event: 'removed'; owner: string })
  | (EventBase & { event: 'appeared'; owner: string } & HandlerFacts)
  /** Same name, something a person would see differs: enabled, flags, the emulator, the rule. */
  | (EventBase & { event: 'changed'; changes: ('enabled' | 'flags' | 'interpreter' | 'rule')[]; before: HandlerFacts } & HandlerFacts)
  /** Its health turned to error (the emulator was deleted, it matches native programs…); `reason` is the check's sentence. */
  | (EventBase & { event: 'broken'; reason: string })
  | (EventBase & { event: 'recovered' });

function facts(h: HandlerStatus): HandlerFacts {
  return { enabled: h.enabled, flags: h.rule.flags, interpreter: h.rule.interpreter };
}

function arch(h: HandlerStatus): string | null {
  return h.cpus[0] ?? null;
}

/** What the diff needs of an entry: its name, whether it is enabled, and its rule as a register string. */
export interface EntryKey {
  name: string;
  enabled: boolean;
  register: string;
}

export interface TableDiff<T extends EntryKey> {
  /** In `before`, not in `after` (in `before`'s order). */
  gone: T[];
  /** In `after`, not in `before` (in `after`'s order). */
  added: T[];
  /** Same name, different rule or enabled state (in `before`'s order). */
  changed: { before: T; after: T; rule: boolean; enabled: boolean }[];
}

/** Two tables of binfmt_misc entries compared by name. */
export function diffTables<T extends EntryKey>(before: readonly T[], after: readonly T[]): TableDiff<T> {
  const a = new Map(after.map((h) => [h.name, h]));
  const b = new Map(before.map((h) => [h.name, h]));
  const changed: TableDiff<T>['changed'] = [];
  for (const h of before) {
    const now = a.get(h.name);
    if (!now) continue;
    const rule = now.register !== h.register;
    const enabled = now.enabled !== h.enabled;
    if (rule || enabled) changed.push({ before: h, after: now, rule, enabled });
  }
  return { gone: before.filter((h) => !a.has(h.name)), added: after.filter((h) => !b.has(h.name)), changed };
}

/**
 * Events from `before` to `after`, in a fixed order: vanished, removed, appeared, changed, broken,
 * recovered (each by name). No `before` (the first reading): no events — the baseline.
 */
export function handlerEvents(before: Status | undefined, after: Status, time: string): HandlerEvent[] {
  if (!before) return [];
  const out: HandlerEvent[] = [];
  const sorted = <T extends { name: string }>(xs: Iterable<T>) => [...xs].sort((a, b) => a.name.localeCompare(b.name));
  const d = diffTables(sorted(before.handlers), sorted(after.handlers));
  const was = new Map(before.handlers.map((h) => [h.name, h]));
  const wasVanished = new Set(before.vanished.map((v) => v.name));
  const nowVanished = new Set(after.vanished.map((v) => v.name));

  for (const v of sorted(after.vanished)) {
    if (wasVanished.has(v.name)) continue;
    out.push({ time, event: 'vanished', name: v.name, arch: v.cpu, persist: v.persist, register: v.register });
  }
  for (const h of d.gone) {
    if (nowVanished.has(h.name)) continue;
    out.push({ time, event: 'removed', name: h.name, arch: arch(h), owner: h.owner.kind });
  }
  for (const h of d.added) out.push({ time, event: 'appeared', name: h.name, arch: arch(h), owner: h.owner.kind, ...facts(h) });
  for (const { before: b, after: h, enabled } of d.changed) {
    const changes: ('enabled' | 'flags' | 'interpreter' | 'rule')[] = [];
    if (enabled) changes.push('enabled');
    if (b.rule.flags !== h.rule.flags) changes.push('flags');
    if (b.rule.interpreter !== h.rule.interpreter) changes.push('interpreter');
    if (changes.length === 0) changes.push('rule');
    out.push({ time, event: 'changed', name: h.name, arch: arch(h), changes, before: facts(b), ...facts(h) });
  }
  for (const h of sorted(after.handlers)) {
    const wasBroken = was.get(h.name)?.health === 'error';
    const isBroken = h.health === 'error';
    if (isBroken && !wasBroken) {
      out.push({ time, event: 'broken', name: h.name, arch: arch(h), reason: h.checks.find((c) => c.level === 'error')?.message ?? '' });
    } else if (!isBroken && wasBroken) {
      out.push({ time, event: 'recovered', name: h.name, arch: arch(h) });
    }
  }
  return out;
}
