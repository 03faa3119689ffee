/**
 * Notice when registered handlers vanish (a reboot, `systemd-binfmt` restarting and flushing every
 * entry, someone unmounting binfmt_misc) and offer putting them back as one action. The diff is
 * the one in shared/handler-events.ts (diffTables), on raw entries here (a table read through a
 * container engine has no status); the poller reads binfmt_misc (any user can) or whatever `read`
 * it is given.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { parseProcEntry } from '../../shared/binfmt/entry';
import { buildRegister } from '../../shared/binfmt/register';
import { diffTables, type EntryKey } from '../../shared/handler-events';
import { HOST_BINFMT } from './register';

/** An entry as read (`register`: the entry as a register string, what re-registering writes). */
export type HandlerSnapshot = EntryKey;

export interface BinfmtView {
  mounted: boolean;
  entries: { name: string; text: string }[];
}

/** Entries -> snapshots; entries that cannot be parsed or rebuilt are left out. */
export function snapshotEntries(entries: readonly { name: string; text: string }[]): HandlerSnapshot[] {
  const out: HandlerSnapshot[] = [];
  for (const e of entries) {
    try {
      const p = parseProcEntry(e.name, e.text);
      out.push({ name: e.name, enabled: p.enabled, register: buildRegister(p.rule) });
    } catch {
      // not ours to judge here; `archway status` reports unreadable entries
    }
  }
  return out;
}

export interface HandlerDiff {
  vanished: HandlerSnapshot[];
  appeared: HandlerSnapshot[];
  /** Same name, different rule. */
  changed: { before: HandlerSnapshot; after: HandlerSnapshot }[];
  /** Same rule, enabled flag flipped. */
  toggled: { name: string; enabled: boolean }[];
  /** Every entry that was there is gone: a flush (systemd-binfmt restart, `-1` to status) or an unmount. */
  flushed: boolean;
  unmounted: boolean;
}

/** The entry-level view of the one diff (shared/handler-events.ts `diffTables`): a rule change, or only the enabled state flipped. */
export function diffHandlers(before: readonly HandlerSnapshot[], after: readonly HandlerSnapshot[], afterMounted = true): HandlerDiff {
  const d = diffTables(before, after);
  const vanished = d.gone;
  return {
    vanished,
    appeared: d.added,
    changed: d.changed.filter((c) => c.rule).map(({ before: b, after: a }) => ({ before: b, after: a })),
    toggled: d.changed.filter((c) => !c.rule).map((c) => ({ name: c.after.name, enabled: c.after.enabled })),
    flushed: before.length > 0 && vanished.length === before.length,
    unmounted: !afterMounted,
  };
}

export function hasChanges(d: HandlerDiff): boolean {
  return d.vanished.length + d.appeared.length + d.changed.length + d.toggled.length > 0 || d.unmounted;
}

/** One sentence for people. */
export function describeDiff(d: HandlerDiff): string {
  if (d.vanished.length === 0) {
    if (d.changed.length > 0) return `${d.changed.map((c) => c.after.name).join(', ')} changed outside Archway`;
    return d.unmounted ? 'binfmt_misc was unmounted' : 'handlers changed';
  }
  const names = d.vanished.map((h) => h.name);
  const list = names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
  const why = d.unmounted
    ? 'binfmt_misc was unmounted (or the machine rebooted)'
    : d.flushed
      ? 'every entry was flushed — a reboot, or systemd-binfmt restarting (it removes all entries, then registers only its own files)'
      : 'they were removed';
  return `${list} vanished: ${why}. Re-register ${names.length > 1 ? 'them' : 'it'} in one step, and make ${names.length > 1 ? 'them' : 'it'} persistent (archway persist on) to survive this.`;
}

/** The register strings to put back, oldest first (the kernel matches the newest first). */
export function reRegisterPlan(vanished: readonly HandlerSnapshot[]): { name: string; register: string; enabled: boolean }[] {
  return vanished.map((h) => ({ name: h.name, register: h.register, enabled: h.enabled }));
}

/** Read binfmt_misc directly (entries are world-readable). */
export async function readHostBinfmt(dir: string = HOST_BINFMT): Promise<BinfmtView> {
  let names: string[];
  try {
    await fs.access(path.join(dir, 'status'));
    names = await fs.readdir(dir);
  } catch {
    return { mounted: false, entries: [] };
  }
  const entries: BinfmtView['entries'] = [];
  for (const name of names) {
    if (name === 'register' || name === 'status') continue;
    try {
      entries.push({ name, text: await fs.readFile(path.join(dir, name), 'utf8') });
    } catch {
      // removed between readdir and read
    }
  }
  return { mounted: true, entries };
}

export interface WatchOptions {
  /** Default: read the host's binfmt_misc. Pass readThroughContainerEngine for an engine backend. */
  read?: () => Promise<BinfmtView>;
  intervalMs?: number;
  signal: AbortSignal;
  /** Only these handlers matter (e.g. the ones Archway owns). Default: all. */
  only?: (name: string) => boolean;
  /** The state to compare against; default: the first reading. */
  baseline?: readonly HandlerSnapshot[];
  onChange: (diff: HandlerDiff, now: HandlerSnapshot[]) => void;
  onError?: (err: unknown) => void;
}

/**
 * Poll until `signal` aborts. After a change the new state becomes the baseline, except that
 * vanished entries stay in the baseline until they come back — so a flush is reported once and
 * re-registering is noticed.
 */
export async function watchHandlers(opts: WatchOptions): Promise<void> {
  const read = opts.read ?? (() => readHostBinfmt());
  const interval = opts.intervalMs ?? 2_000;
  const keep = (hs: HandlerSnapshot[]) => (opts.only ? hs.filter((h) => opts.only!(h.name)) : hs);
  let baseline: HandlerSnapshot[] | undefined = opts.baseline ? [...opts.baseline] : undefined;
  let reported = new Set<string>();
  while (!opts.signal.aborted) {
    try {
      const view = await read();
      const now = keep(snapshotEntries(view.entries));
      if (!baseline) baseline = now;
      else {
        const d = diffHandlers(baseline, now, view.mounted);
        const fresh = { ...d, vanished: d.vanished.filter((h) => !reported.has(h.name)) };
        if (fresh.vanished.length + d.appeared.length + d.changed.length + d.toggled.length > 0) {
          opts.onChange({ ...fresh, flushed: d.flushed }, now);
        }
        for (const h of d.vanished) reported.add(h.name);
        const back = new Set(now.map((h) => h.name));
        reported = new Set([...reported].filter((n) => !back.has(n)));
        const missing = baseline.filter((h) => reported.has(h.name));
        baseline = [...now, ...missing];
      }
    } catch (err) {
      opts.onError?.(err);
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, interval);
      opts.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  }
}
