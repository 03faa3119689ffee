/**
 * The window's shells (issue 12): one tab per shell opened from a test run. The tabs live in a
 * store; each shell's output goes straight to its terminal through a small bounded buffer (so a
 * tab mounted after its first bytes still shows them) and never through React state.
 */
import type { ArchwayApi } from '../../shared/ipc/api';
import { toIpcError } from '../../shared/ipc/api';
import type { IpcErrorShape, ShellOpenRequest } from '../../shared/ipc/contract';
import type { ShellDiagnosis } from '../../shared/shell';
import { createStore } from './store';

export interface ShellTab {
  shellId: string;
  platform: string;
  image: string;
  state: 'opening' | 'open' | 'exited' | 'failed';
  /** What runs and why (from main once the container runs). */
  command?: string[];
  why?: string;
  exitCode?: number | null;
  diagnosis?: ShellDiagnosis;
  error?: IpcErrorShape;
}

export interface ShellsState {
  tabs: ShellTab[];
  active: string | null;
}

export const shellsStore = createStore<ShellsState>({ tabs: [], active: null });

/** Output kept per shell for a terminal that attaches late (the terminal has its own scrollback). */
const MAX_BUFFER = 256 * 1024;
interface Output {
  chunks: string[];
  size: number;
  listener: ((data: string) => void) | null;
}
const outputs = new Map<string, Output>();

function outputOf(shellId: string): Output {
  let o = outputs.get(shellId);
  if (!o) {
    o = { chunks: [], size: 0, listener: null };
    outputs.set(shellId, o);
  }
  return o;
}

/** Output to the terminal of `shellId`: what arrived so far, then each chunk as it comes. One listener per shell. */
export function attachOutput(shellId: string, listener: (data: string) => void): () => void {
  const o = outputOf(shellId);
  const backlog = o.chunks.join('');
  o.chunks = [];
  o.size = 0;
  o.listener = listener;
  if (backlog) listener(backlog);
  return () => {
    if (o.listener === listener) o.listener = null;
  };
}

/** Events that arrived before `openShell` answered (kept until its tab exists). */
const early = new Map<string, Partial<ShellTab>>();

function patch(shellId: string, p: Partial<ShellTab>): void {
  if (!shellsStore.get().tabs.some((t) => t.shellId === shellId)) {
    early.set(shellId, { ...early.get(shellId), ...p });
    return;
  }
  shellsStore.set((s) => ({ ...s, tabs: s.tabs.map((t) => (t.shellId === shellId ? { ...t, ...p } : t)) }));
}

let connected: { api: ArchwayApi; off: () => void } | null = null;

/** Follow main's shell events (once per API). */
export function connectShells(api: ArchwayApi): void {
  if (connected?.api === api) return;
  connected?.off();
  const offs = [
    api.onShellOpened((m) => patch(m.shellId, { state: 'open', command: m.command, why: m.why })),
    api.onShellOutput((m) => {
      const o = outputOf(m.shellId);
      if (o.listener) return o.listener(m.data);
      o.chunks.push(m.data);
      o.size += m.data.length;
      while (o.size > MAX_BUFFER && o.chunks.length > 1) o.size -= o.chunks.shift()!.length;
    }),
    api.onShellExit((m) =>
      patch(m.shellId, {
        state: m.diagnosis && m.exitCode === null ? 'failed' : m.error && m.exitCode === null ? 'failed' : 'exited',
        exitCode: m.exitCode,
        ...(m.diagnosis ? { diagnosis: m.diagnosis } : {}),
        ...(m.error ? { error: m.error } : {}),
      }),
    ),
  ];
  connected = { api, off: () => offs.forEach((off) => off()) };
}

/** Open a shell in a new tab (made active). */
export async function openShellTab(api: ArchwayApi, req: ShellOpenRequest): Promise<void> {
  connectShells(api);
  try {
    const { shellId } = await api.openShell(req);
    const before = early.get(shellId);
    early.delete(shellId);
    shellsStore.set((s) => ({ tabs: [...s.tabs, { shellId, platform: req.platform, image: req.image, state: 'opening', ...before }], active: shellId }));
  } catch (e) {
    const shellId = `failed-${Date.now().toString(36)}`;
    shellsStore.set((s) => ({ tabs: [...s.tabs, { shellId, platform: req.platform, image: req.image, state: 'failed', error: toIpcError(e) }], active: shellId }));
  }
}

/** Close a tab: main stops the shell and removes its container. */
export async function closeShellTab(api: ArchwayApi, shellId: string): Promise<void> {
  const tab = shellsStore.get().tabs.find((t) => t.shellId === shellId);
  shellsStore.set((s) => {
    const i = s.tabs.findIndex((t) => t.shellId === shellId);
    const tabs = s.tabs.filter((t) => t.shellId !== shellId);
    const active = s.active === shellId ? (tabs[Math.max(0, i - 1)]?.shellId ?? null) : s.active;
    return { tabs, active };
  });
  outputs.delete(shellId);
  if (tab && (tab.state === 'opening' || tab.state === 'open')) await api.closeShell({ shellId }).catch(() => undefined);
}

export function activateShellTab(shellId: string): void {
  shellsStore.set((s) => ({ ...s, active: shellId }));
}
