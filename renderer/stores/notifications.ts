/**
 * Notifications main sent (shared/notifications.ts decides what is worth one): the latest few,
 * each also shown as a toast whose button does the notification's action (plan a fix, open a view).
 */
import type { ArchwayApi } from '../../shared/ipc/api';
import type { ArchwayNotification } from '../../shared/notifications';
import { go } from './nav';
import { startPlan } from './plans';
import { createStore, useStore } from './store';
import { toast } from './toasts';

/** Kept for the window (newest last). */
export const MAX_NOTIFICATIONS = 20;

export const notificationsStore = createStore<ArchwayNotification[]>([]);

export function receiveNotification(api: ArchwayApi, n: ArchwayNotification): void {
  if (notificationsStore.get().some((x) => x.id === n.id)) return;
  notificationsStore.set((ns) => [...ns, n].slice(-MAX_NOTIFICATIONS));
  const a = n.action;
  toast({
    tone: n.urgency === 'critical' ? 'bad' : 'info',
    title: n.title,
    body: n.body,
    ...(a ? { action: { label: a.label, onClick: () => ('intent' in a ? void startPlan(api, a.intent) : go(api, a.view)) } } : {}),
  });
}

export function connectNotifications(api: ArchwayApi): () => void {
  return api.onNotification((n) => receiveNotification(api, n));
}

export const useNotifications = () => useStore(notificationsStore);
