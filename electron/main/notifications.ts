/**
 * Notifications from main: every event main sends passes through here; what shared/notifications.ts
 * decides is worth one (a handler Archway installed vanished, a handler turned broken, a test run
 * that finished while the window was in the background) goes to the window as the contract's
 * `notification` event — the same path as every other event, shown there as a toast with its
 * action — and to the desktop (Electron `Notification`) where it is supported. No Electron import
 * here but types: the glue (desktopNotifier) is handed Electron's class by index.ts.
 */
import type { Notification as ElectronNotification, NotificationConstructorOptions } from 'electron';
import type { EventName, EventPayload } from '../../shared/ipc/contract';
import { handlerNotifications, runNotification, type ArchwayNotification } from '../../shared/notifications';
import type { Emit } from './router';

export interface NotifierDeps {
  /** To the window (ipc.ts's eventEmitter, or the test harness's). */
  emit: Emit;
  /** To the desktop, where there is one (desktopNotifier). */
  show?: (n: ArchwayNotification) => void;
  /** Whether the person is looking at the window now (a finished run is news only when not). */
  windowFocused?: () => boolean;
  now?: () => string;
}

/** An Emit that sends every event on, then the notifications it calls for. */
export function withNotifications(deps: NotifierDeps): Emit {
  const now = deps.now ?? (() => new Date().toISOString());
  const notify = (n: ArchwayNotification) => {
    deps.emit('notification', n);
    deps.show?.(n);
  };
  return <K extends EventName>(name: K, payload: EventPayload<K>) => {
    deps.emit(name, payload);
    if (name === 'handlerEvents') {
      for (const n of handlerNotifications(payload as EventPayload<'handlerEvents'>)) notify(n);
    } else if (name === 'probeDone') {
      const n = runNotification(payload as EventPayload<'probeDone'>, { windowFocused: deps.windowFocused?.() ?? false, time: now() });
      if (n) notify(n);
    }
  };
}

// ------------------------------------------------------------------------------------------
// Electron glue (runs only in the app; there is no Electron binary in CI here).

type NotificationClass = {
  new (options: NotificationConstructorOptions): ElectronNotification;
  isSupported(): boolean;
};

/** Show notifications on the desktop; undefined where the desktop has no notification service. Clicking one calls `onClick` (open the window). */
export function desktopNotifier(Notification: NotificationClass, onClick: (n: ArchwayNotification) => void): ((n: ArchwayNotification) => void) | undefined {
  if (!Notification.isSupported()) return undefined;
  // Held until closed: a notification that is garbage-collected loses its click handler.
  const shown = new Set<ElectronNotification>();
  return (n) => {
    const d = new Notification({ title: n.title, body: n.body, urgency: n.urgency === 'critical' ? 'critical' : 'normal' });
    shown.add(d);
    d.on('click', () => onClick(n));
    d.on('close', () => shown.delete(d));
    d.show();
  };
}
