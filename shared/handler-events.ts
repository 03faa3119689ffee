/**
 * What happened to the handlers between two readings of the status: the one decision behind the
 * window's `handlerEvents` IPC event (electron/main/live.ts) and `archway watch` (electron/cli/watch.ts).
 * Pure: two statuses in, typed events out; the pollers are the edge.
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

/**
 * Events from `before` to `after`, in a fixed order: vanished, removed, appeared, changed, broken,
 * recovered (each by name). No `before` (the first reading): no events — the baseline.
 */
export function handlerEvents(before: Status | undefined, after: Status, time: string): HandlerEvent[] {
  if (!before) return [];
  const out: HandlerEvent[] = [];
  const byName = (hs: readonly HandlerStatus[]) => new Map(hs.map((h) => [h.name, h]));
  const was = byName(before.handlers);
  const now = byName(after.handlers);
  const wasVanished = new Set(before.vanished.map((v) => v.name));
  const nowVanished = new Map(after.vanished.map((v) => [v.name, v]));
  const sorted = <T extends { name: string }>(xs: Iterable<T>) => [...xs].sort((a, b) => a.name.localeCompare(b.name));

  for (const v of sorted(after.vanished)) {
    if (wasVanished.has(v.name)) continue;
    out.push({ time, event: 'vanished', name: v.name, arch: v.cpu, persist: v.persist, register: v.register });
  }
  for (const h of sorted(was.values())) {
    if (now.has(h.name) || nowVanished.has(h.name)) continue;
    out.push({ time, event: 'removed', name: h.name, arch: arch(h), owner: h.owner.kind });
  }
  for (const h of sorted(now.values())) {
    if (was.has(h.name)) continue;
    out.push({ time, event: 'appeared', name: h.name, arch: arch(h), owner: h.owner.kind, ...facts(h) });
  }
  for (const h of sorted(now.values())) {
    const b = was.get(h.name);
    if (!b) continue;
    const changes: ('enabled' | 'flags' | 'interpreter' | 'rule')[] = [];
    if (b.enabled !== h.enabled) changes.push('enabled');
    if (b.rule.flags !== h.rule.flags) changes.push('flags');
    if (b.rule.interpreter !== h.rule.interpreter) changes.push('interpreter');
    if (changes.length === 0 && b.register !== h.register) changes.push('rule');
    if (changes.length > 0) out.push({ time, event: 'changed', name: h.name, arch: arch(h), changes, before: facts(b), ...facts(h) });
  }
  for (const h of sorted(now.values())) {
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
