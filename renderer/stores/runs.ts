/**
 * Test runs: the current run (probe events folded by lib/run.ts) and its terminal transcript, kept
 * here so output keeps arriving while another view is shown.
 */
import type { ArchwayApi } from '../../shared/ipc/api';
import { toIpcError } from '../../shared/ipc/api';
import type { ProbeRequest } from '../../shared/ipc/contract';
import { applyDone, applyEvent, IDLE, newRun, terminalText, type RunState } from '../lib/run';
import { createStore, useStore } from './store';

/** Terminal transcript kept for the Test run view (bounded: the oldest chunks go first). */
export const MAX_TRANSCRIPT = 512 * 1024;

export interface Transcript {
  chunks: string[];
  size: number;
  /** A new run starts a new transcript (the terminal clears). */
  epoch: number;
}

export interface RunsState {
  run: RunState;
  /** Appended in place (each run starts a new one); `transcriptVersion` counts the appends (the terminal writes what is new). */
  transcript: Transcript;
  transcriptVersion: number;
}

export const runsStore = createStore<RunsState>({ run: IDLE, transcript: { chunks: [], size: 0, epoch: 0 }, transcriptVersion: 0 });

export const getTranscript = (): Transcript => runsStore.get().transcript;

function append(text: string): void {
  if (!text) return;
  const t = runsStore.get().transcript;
  t.chunks.push(text);
  t.size += text.length;
  while (t.size > MAX_TRANSCRIPT && t.chunks.length > 1) t.size -= t.chunks.shift()!.length;
  runsStore.set((s) => ({ ...s, transcriptVersion: s.transcriptVersion + 1 }));
}

const setRun = (f: (r: RunState) => RunState) => runsStore.set((s) => ({ ...s, run: f(s.run) }));

export async function startRun(api: ArchwayApi, req: ProbeRequest): Promise<void> {
  runsStore.set((s) => ({ ...s, transcript: { chunks: [], size: 0, epoch: s.transcript.epoch + 1 }, transcriptVersion: s.transcriptVersion + 1 }));
  append(`\x1b[2m$ docker run --platform ${req.platforms.join(',')} ${req.image} ${(req.command?.length ? req.command : ['uname', '-m']).join(' ')}\x1b[0m\r\n`);
  try {
    const { runId } = await api.startProbe(req);
    setRun(() => newRun(runId, req.platforms, Date.now()));
  } catch (e) {
    const err = toIpcError(e);
    setRun(() => ({ ...IDLE, error: err }));
    append(`\x1b[31m${err.message}\x1b[0m\r\n`);
  }
}

export async function cancelRun(api: ArchwayApi): Promise<void> {
  const id = runsStore.get().run.runId;
  if (!id) return;
  setRun((r) => ({ ...r, cancelling: true }));
  await api.cancelProbe({ runId: id }).catch(() => undefined);
}

/** Probe events and the end of a run, for the current run only. */
export function connectRuns(api: ArchwayApi): () => void {
  const offs = [
    api.onProbeEvent((m) => {
      const r = runsStore.get().run;
      if (m.runId !== r.runId) return;
      setRun((x) => applyEvent(x, m));
      append(terminalText(m.event, r.platforms.length > 1));
    }),
    api.onProbeDone((m) => {
      if (m.runId !== runsStore.get().run.runId) return;
      setRun((x) => applyDone(x, m));
      if (m.error) append(`\x1b[31m${m.error.message}${m.error.hint ? `\r\n${m.error.hint}` : ''}\x1b[0m\r\n`);
    }),
  ];
  return () => offs.forEach((off) => off());
}

export const useRun = () => useStore(runsStore, (s) => s.run);
export const useRunning = () => useStore(runsStore, (s) => s.run.running);
export const useTranscriptVersion = () => useStore(runsStore, (s) => s.transcriptVersion);
