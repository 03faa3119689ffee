/**
 * Start-up and live updates for every store: each domain loads what it shows and subscribes to
 * main's events for it. One line per domain (a new store adds its own `connect…` here).
 */
import type { ArchwayApi } from '../../shared/ipc/api';
import { connectEngine } from './engine';
import { loadNav } from './nav';
import { connectNotifications } from './notifications';
import { connectRuns } from './runs';
import { connectStatus } from './status';

export function connectStores(api: ArchwayApi): () => void {
  const offs = [loadNav(api), connectStatus(api), connectEngine(api), connectRuns(api), connectNotifications(api)];
  return () => offs.forEach((off) => off());
}
