/**
 * A test run as the Test run view sees it: probe events folded into per-platform state (phase,
 * pull progress, result) and into terminal text. Pure.
 */
import type { FixIntent } from '../../shared/actions';
import type { ProbeDoneMessage, ProbeEventMessage } from '../../shared/ipc/contract';
import type { ProbeEvent, ProbePhase, ProbeResult, PullProgress } from '../../shared/probe';

export interface PlatformRun {
  platform: string;
  phase?: ProbePhase;
  pull?: PullProgress;
  result?: ProbeResult;
}

export interface RunState {
  runId: string | null;
  startedAt: number;
  running: boolean;
  cancelling: boolean;
  platforms: PlatformRun[];
  /** Platforms the image offers (from the registry or the local store), when known. */
  offered?: string[];
  error?: { code: string; message: string; hint?: string };
  durationMs?: number;
}

export function newRun(runId: string, platforms: string[], now: number): RunState {
  return { runId, startedAt: now, running: true, cancelling: false, platforms: platforms.map((platform) => ({ platform })) };
}

export const IDLE: RunState = { runId: null, startedAt: 0, running: false, cancelling: false, platforms: [] };

function update(state: RunState, platform: string, f: (p: PlatformRun) => PlatformRun): RunState {
  const has = state.platforms.some((p) => p.platform === platform);
  const platforms = has ? state.platforms.map((p) => (p.platform === platform ? f(p) : p)) : [...state.platforms, f({ platform })];
  return { ...state, platforms };
}

export function applyEvent(state: RunState, msg: ProbeEventMessage): RunState {
  if (msg.runId !== state.runId) return state;
  const e = msg.event;
  switch (e.type) {
    case 'phase':
      return update(state, e.platform, (p) => ({ ...p, phase: e.phase }));
    case 'pull':
      return update(state, e.platform, (p) => ({ ...p, pull: e.progress }));
    case 'result':
      return update(state, e.result.platform, (p) => ({ ...p, result: e.result }));
    case 'platforms':
      return { ...state, offered: e.platforms };
    default:
      return state;
  }
}

export function applyDone(state: RunState, msg: ProbeDoneMessage): RunState {
  if (msg.runId !== state.runId) return state;
  let next: RunState = { ...state, running: false, cancelling: false, durationMs: msg.durationMs, ...(msg.error ? { error: msg.error } : {}) };
  for (const r of msg.results) next = update(next, r.platform, (p) => ({ ...p, result: r }));
  return next;
}

/** ✓ ok; ✗ anything that failed; … still going. */
export function cellMark(p: PlatformRun): { mark: string; label: string; tone: 'ok' | 'bad' | 'warn' | 'idle' } {
  if (!p.result) return { mark: '…', label: p.phase ?? 'waiting', tone: 'idle' };
  if (p.result.status === 'ok') return { mark: '✓', label: 'ok', tone: 'ok' };
  if (p.result.status === 'cancelled') return { mark: '–', label: 'cancelled', tone: 'warn' };
  return { mark: '✗', label: p.result.status, tone: 'bad' };
}

/** Terminal lines: CRLF for xterm, stderr in red, Archway's own lines dimmed. */
const DIM = '\x1b[2m';
const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const YELLOW = '\x1b[33m';
const RESET = '\x1b[0m';

export function crlf(s: string): string {
  return s.replace(/\r?\n/g, '\r\n');
}

/** Keep container output from moving the cursor around or changing the terminal's modes. */
const ESC_SEQ = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;
const SGR = /^\x1b\[[0-9;]*m$/;

export function sanitiseOutput(s: string): string {
  // Keep colours (SGR); drop every other escape sequence, lone ESCs and control characters but \t \n \r.
  return s
    .replace(ESC_SEQ, (m) => (SGR.test(m) ? m : ''))
    .replace(/\x1b(?!\[[0-9;]*m)/g, '')
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]/g, '');
}

export function terminalText(e: ProbeEvent, multi: boolean): string {
  const tag = (platform: string) => (multi ? `${DIM}[${platform}]${RESET} ` : '');
  switch (e.type) {
    case 'phase':
      return e.phase === 'pulling' || e.phase === 'running' ? `${tag(e.platform)}${DIM}— ${e.phase}${RESET}\r\n` : '';
    case 'output': {
      const text = crlf(sanitiseOutput(e.text));
      return e.stream === 'stderr' ? `${tag(e.platform)}${RED}${text}${RESET}` : `${tag(e.platform)}${text}`;
    }
    case 'output-limited':
      return `${tag(e.platform)}${YELLOW}— more ${e.stream} not shown live (limit ${Math.round(e.limitBytes / 1024)} KiB); its tail is kept${RESET}\r\n`;
    case 'platforms':
      return `${DIM}${e.image} offers ${e.platforms.join(', ')} (${e.source})${RESET}\r\n`;
    case 'result': {
      const r = e.result;
      const colour = r.status === 'ok' ? GREEN : r.status === 'cancelled' ? YELLOW : RED;
      return `${tag(r.platform)}${colour}— ${r.status}: exit ${r.exitCode ?? '–'}, ${formatDuration(r.durationMs)}${RESET}\r\n`;
    }
    default:
      return '';
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** The label of a one-click fix, from its typed intent (never from the fix's words). */
export function fixLabel(intent: FixIntent): string {
  const archs = intent.archs.join(', ');
  if (intent.action === 'drop-c') return `Drop C from ${archs}`;
  if (intent.action === 'enable') return `Enable ${archs}`;
  return intent.allowSetuid ? `Install ${archs} with setuid (C)…` : `Install ${archs}`;
}

export function splitCommand(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return out;
}
