/**
 * Archway's temporary containers (probes, emulator extraction, registration) carry labels saying
 * who made them and until when they can be in use. At start-up, leftovers from a crash (or from a
 * daemon that died under a probe) are removed — but never the live containers of another Archway
 * process running at the same time.
 */
import * as os from 'node:os';
import { call, type ContainerTarget } from './api';
import { ContainerEngineError } from './errors';

export const LABEL_PROBE = 'archway.probe';
export const LABEL_KIND = 'archway.kind';
export const LABEL_OWNER = 'archway.owner';
export const LABEL_DEADLINE = 'archway.deadline';

/** shell: an interactive shell (electron/container/shell.ts), removed when it ends or is closed. */
export type TempKind = 'probe' | 'extract' | 'register' | 'shell';

/** Containers this process created and has not removed yet: never reaped by this process. */
export const activeContainers = new Set<string>();

export interface Self {
  host: string;
  pid: number;
}

export function self(): Self {
  return { host: os.hostname(), pid: process.pid };
}

/** Labels for a temporary container that may live until `deadlineMs` (epoch ms). */
export function tempLabels(kind: TempKind, deadlineMs: number, me: Self = self()): Record<string, string> {
  return {
    [LABEL_PROBE]: '1',
    [LABEL_KIND]: kind,
    [LABEL_OWNER]: `${me.host}:${me.pid}`,
    [LABEL_DEADLINE]: String(Math.ceil(deadlineMs)),
  };
}

export interface ReapCandidate {
  id: string;
  labels: Record<string, string>;
}

export type ReapVerdict = { reap: true; why: string } | { reap: false; why: string };

/**
 * Pure: should this labelled container be removed now?
 * - ours and not in use -> yes; ours and in use -> no
 * - past its deadline -> yes (whoever made it)
 * - made on this host by a process that is gone -> yes
 * - otherwise (another live process, or another host before the deadline) -> no
 */
export function reapVerdict(c: ReapCandidate, now: number, me: Self, active: ReadonlySet<string>, isAlive: (pid: number) => boolean): ReapVerdict {
  const owner = c.labels[LABEL_OWNER] ?? '';
  const sep = owner.lastIndexOf(':');
  const host = sep > 0 ? owner.slice(0, sep) : '';
  const pid = sep > 0 ? Number(owner.slice(sep + 1)) : NaN;
  const deadline = Number(c.labels[LABEL_DEADLINE] ?? NaN);
  if (host === me.host && pid === me.pid) {
    return active.has(c.id) ? { reap: false, why: 'in use by this process' } : { reap: true, why: 'left over by this process' };
  }
  if (Number.isFinite(deadline) && now > deadline) return { reap: true, why: 'past its deadline' };
  if (!Number.isFinite(deadline) || !owner) return { reap: true, why: 'no owner or deadline labels' };
  if (host === me.host && Number.isInteger(pid) && pid > 0 && !isAlive(pid)) return { reap: true, why: `its process ${pid} is gone` };
  return { reap: false, why: host === me.host ? `in use by process ${pid}` : `made on ${host}; waiting for its deadline` };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface ReapReport {
  removed: string[];
  kept: { id: string; why: string }[];
  failed: { id: string; error: string }[];
}

/** Remove a container with its anonymous volumes; a container already gone counts as removed. */
export async function removeContainer(t: ContainerTarget, id: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
  try {
    await call(t, {
      method: 'DELETE',
      path: `/containers/${encodeURIComponent(id)}`,
      query: { force: true, v: true },
      doing: 'removing the container',
      timeoutMs: opts.timeoutMs ?? 15_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if (err instanceof ContainerEngineError && err.code === 'not-found') return;
    // "removal of container … is already in progress" (409): the engine is removing it anyway.
    if (err instanceof ContainerEngineError && err.code === 'conflict' && /already in progress/i.test(err.message)) return;
    throw err;
  }
}

/** Find Archway's labelled containers and remove the leftovers. Never throws for one failed removal. */
export async function reapLeftovers(t: ContainerTarget, opts: { signal?: AbortSignal; now?: number } = {}): Promise<ReapReport> {
  const list = await call<{ Id: string; Labels?: Record<string, string> | null }[]>(t, {
    method: 'GET',
    path: '/containers/json',
    query: { all: true, filters: { label: [`${LABEL_PROBE}=1`] } },
    doing: 'listing leftover probe containers',
    timeoutMs: 15_000,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const me = self();
  const now = opts.now ?? Date.now();
  const report: ReapReport = { removed: [], kept: [], failed: [] };
  await Promise.all(
    list.map(async (c) => {
      const v = reapVerdict({ id: c.Id, labels: c.Labels ?? {} }, now, me, activeContainers, pidAlive);
      if (!v.reap) {
        report.kept.push({ id: c.Id, why: v.why });
        return;
      }
      try {
        await removeContainer(t, c.Id, opts.signal ? { signal: opts.signal } : {});
        report.removed.push(c.Id);
      } catch (err) {
        report.failed.push({ id: c.Id, error: (err as Error).message });
      }
    }),
  );
  return report;
}
