/**
 * What is worth interrupting a person for: the one decision behind the desktop app's
 * notifications (electron/main/notifications.ts: Electron `Notification` and the window's
 * `notification` IPC event) and the `notable` field of `archway watch`'s JSON lines. Pure: typed
 * events in, typed notifications out; the title and body are for people only, the kind, names and
 * action are what code reads.
 *
 * Worth it: a handler Archway installed vanished (a reboot, systemd-binfmt, someone removed it —
 * builds fail an hour later), a handler turned broken, and a test run that finished while the
 * window was in the background. Not worth it: handlers appearing, changing or recovering (status
 * shows them; the person or a tool they ran did it).
 */
import type { Intent } from './actions';
import type { HandlerEvent } from './handler-events';
import type { View } from './ipc/contract';
import type { ProbeResult } from './probe';
import { cleanText } from './sanitize';

export const NOTIFICATION_KINDS = ['handler-vanished', 'handler-broken', 'run-finished'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export type NotificationAction =
  /** Plan this (the window opens the usual plan dialog). */
  | { label: string; intent: Intent }
  /** Show this view. */
  | { label: string; view: View };

export interface ArchwayNotification {
  /** Stable for the same happening (kind, time, names): a window can drop a repeat. */
  id: string;
  kind: NotificationKind;
  /** ISO 8601: when it was noticed. */
  time: string;
  /** 'critical' for what breaks builds now (a vanished or broken handler). */
  urgency: 'normal' | 'critical';
  /** binfmt_misc entry names concerned (qemu-aarch64), or the run's platforms. */
  names: string[];
  title: string;
  body: string;
  action?: NotificationAction;
}

/** A handler event worth a notification on its own (what `archway watch` marks `notable`). */
export function isNotable(e: HandlerEvent): boolean {
  return e.event === 'vanished' || e.event === 'broken';
}

const list = (names: readonly string[]) => (names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', '));

/**
 * Handler events → notifications: all the handlers that vanished in one reading are one
 * notification (a flush removes them together) with "Put back" as its action; each handler that
 * turned broken is one, with the check's reason.
 */
export function handlerNotifications(events: readonly HandlerEvent[]): ArchwayNotification[] {
  const out: ArchwayNotification[] = [];
  const notable = events.filter(isNotable);
  const vanished = notable.filter((e): e is Extract<HandlerEvent, { event: 'vanished' }> => e.event === 'vanished');
  if (vanished.length > 0) {
    const names = vanished.map((e) => cleanText(e.name));
    const cpus = vanished.map((e) => e.arch).filter((a): a is string => a !== null);
    const many = names.length > 1;
    const time = vanished[0]!.time;
    out.push({
      id: `handler-vanished:${time}:${names.join(',')}`,
      kind: 'handler-vanished',
      time,
      urgency: 'critical',
      names,
      title: `${list(names)} ${many ? 'are' : 'is'} gone from the kernel`,
      body: `Archway installed ${many ? 'them' : 'it'}; a reboot, systemd-binfmt restarting or another tool removed ${many ? 'them' : 'it'}. Containers of ${many ? 'those architectures' : 'that architecture'} fail until ${many ? 'they are' : 'it is'} put back.`,
      ...(cpus.length ? { action: { label: 'Put back', intent: { action: 'install', archs: cpus } } } : {}),
    });
  }
  for (const e of notable) {
    if (e.event !== 'broken') continue;
    const name = cleanText(e.name);
    out.push({
      id: `handler-broken:${e.time}:${name}`,
      kind: 'handler-broken',
      time: e.time,
      urgency: 'critical',
      names: [name],
      title: `${name} is broken`,
      body: cleanText(e.reason) || 'Its checks failed: see the architecture\'s details.',
      action: { label: 'Show', view: 'architectures' },
    });
  }
  return out;
}

/** A test run as it ended (the `probeDone` event's facts). */
export interface RunFinished {
  runId: string;
  results: readonly Pick<ProbeResult, 'platform' | 'status'>[];
  error?: { message: string };
  durationMs: number;
}

/**
 * A finished test run is worth a notification only when the person was not looking (the
 * window was not focused): in front of them, the Test run view already shows it.
 */
export function runNotification(done: RunFinished, ctx: { windowFocused: boolean; time: string }): ArchwayNotification | null {
  if (ctx.windowFocused) return null;
  const platforms = done.results.map((r) => r.platform);
  const ok = done.results.filter((r) => r.status === 'ok').length;
  const cancelled = done.results.filter((r) => r.status === 'cancelled').length;
  const failed = done.results.length - ok - cancelled;
  const parts = [ok ? `${ok} ok` : '', failed ? `${failed} failed` : '', cancelled ? `${cancelled} cancelled` : ''].filter(Boolean);
  const title = done.error ? 'Test run failed' : `Test run finished: ${parts.join(', ') || 'no results'}`;
  const body = done.error
    ? cleanText(done.error.message)
    : done.results.map((r) => `${cleanText(r.platform)}: ${r.status}`).join(', ');
  return {
    id: `run-finished:${done.runId}`,
    kind: 'run-finished',
    time: ctx.time,
    urgency: 'normal',
    names: platforms.map(cleanText),
    title,
    body,
    action: { label: 'Show the run', view: 'test-run' },
  };
}
