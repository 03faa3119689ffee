/**
 * Test run: run a command (default `uname -m`) in an image on one or many platforms, watch the
 * output live, see a ✓/✗ grid fill as platforms finish, and fix what failed in one click.
 */
import { cleanLines } from '../../shared/sanitize';
import { lazy, Suspense, useEffect, useState, type FormEvent } from 'react';
import { DOCKER_PLATFORMS } from '../../shared/arch/catalog';
import { useApi } from '../api';
import { cellMark, fixLabel, formatDuration, splitCommand, type PlatformRun } from '../lib/run';
import { useEngine } from '../stores/engine';
import { usePlanFlow } from '../stores/plans';
import { cancelRun, getTranscript, startRun, useRun, useTranscriptVersion } from '../stores/runs';
import { useStatus } from '../stores/status';
import { OpenShellButton, Shells } from '../components/Shells';

const Terminal = lazy(() => import('../components/Terminal'));

export interface TestRunProps {
  /** Kept mounted while hidden, so a run goes on and its output is there when you come back. */
  visible: boolean;
}

function useDark(): boolean {
  const q = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  const [dark, setDark] = useState(q?.matches ?? false);
  useEffect(() => {
    if (!q) return;
    const on = (e: MediaQueryListEvent) => setDark(e.matches);
    q.addEventListener('change', on);
    return () => q.removeEventListener('change', on);
  }, [q]);
  return dark;
}

/** Reads the runs, status and engine stores; a fix goes through the one plan flow. */
export function TestRun({ visible }: TestRunProps) {
  const api = useApi();
  const status = useStatus();
  const engine = useEngine();
  const run = useRun();
  const transcriptVersion = useTranscriptVersion();
  const transcript = getTranscript();
  const { plan: onFix } = usePlanFlow();
  const onStart = (req: Parameters<typeof startRun>[1]) => void startRun(api, req);
  const onCancel = () => void cancelRun(api);
  const [image, setImage] = useState('busybox:latest');
  const [platforms, setPlatforms] = useState<string[]>(['linux/arm64']);
  const [command, setCommand] = useState('uname -m');
  const dark = useDark();
  const noEngine = engine?.state === 'absent';

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (run.running || platforms.length === 0 || !image.trim()) return;
    const argv = splitCommand(command);
    onStart({ image: image.trim(), platforms, ...(argv.length ? { command: argv } : {}) });
  };
  const toggle = (p: string) => setPlatforms((ps) => (ps.includes(p) ? ps.filter((x) => x !== p) : [...ps, p]));
  const ready = (p: string) => {
    if (!status) return undefined;
    const cpu = DOCKER_PLATFORMS.find((d) => d.platform === p)?.cpu;
    return status.archs.find((a) => a.cpu === cpu)?.state;
  };

  return (
    <section className="view" aria-labelledby="run-title" hidden={!visible}>
      <header className="view-head">
        <h1 id="run-title">Test run</h1>
      </header>
      {noEngine ? (
        <div className="callout warn" role="status">
          No container engine: {engine.error.message} Test runs need Docker or Podman; the Architectures view works without one.
        </div>
      ) : null}
      <form className="run-form" onSubmit={submit} aria-label="Test run">
        <label>
          Image
          <input type="text" value={image} onChange={(e) => setImage(e.target.value)} spellCheck={false} autoComplete="off" />
        </label>
        <label>
          Command
          <input type="text" value={command} onChange={(e) => setCommand(e.target.value)} spellCheck={false} autoComplete="off" placeholder="uname -m" />
        </label>
        <fieldset className="platforms">
          <legend>Platforms</legend>
          {DOCKER_PLATFORMS.map((p) => {
            const st = ready(p.platform);
            return (
              <label key={p.platform} className={`platform-pick${platforms.includes(p.platform) ? ' on' : ''}`}>
                <input type="checkbox" checked={platforms.includes(p.platform)} onChange={() => toggle(p.platform)} />
                {p.platform}
                {st ? <span className={`pip state-${st}`} title={st} aria-label={st} /> : null}
              </label>
            );
          })}
        </fieldset>
        <div className="run-actions">
          {/* Not disabled without an engine: the last check may be stale, and a run says exactly what is wrong. */}
          <button type="submit" className="primary" disabled={run.running || platforms.length === 0}>
            Run
          </button>
          <button type="button" onClick={onCancel} disabled={!run.running || run.cancelling}>
            {run.cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
          <span className="muted small run-state" aria-live="polite">
            {run.running ? 'Running…' : run.durationMs !== undefined ? `Finished in ${formatDuration(run.durationMs)}` : ''}
          </span>
        </div>
      </form>

      <div className="grid" role="list" aria-label="Results by platform">
        {(run.platforms.length ? run.platforms : platforms.map((p) => ({ platform: p }) as PlatformRun)).map((p) => (
          <Cell key={p.platform} p={p} />
        ))}
      </div>

      {run.error ? (
        <div className="callout bad" role="alert">
          {run.error.message}
          {run.error.hint ? <div className="muted">{run.error.hint}</div> : null}
        </div>
      ) : null}
      <div className="results">
        {run.platforms
          .filter((p) => p.result)
          .map((p) => {
            const r = p.result!;
            const fix = r.intent;
            return (
              <div key={p.platform} className={`result ${r.status === 'ok' ? 'ok' : r.status === 'cancelled' ? 'warn' : 'bad'}`} data-platform={p.platform} data-status={r.status}>
                <div className="result-head">
                  <strong>{p.platform}</strong> <span className={`badge ${r.status === 'ok' ? 'state-ready' : r.status === 'cancelled' ? 'state-disabled' : 'state-broken'}`}>{r.status}</span>
                  <span className="muted small">
                    exit {r.exitCode ?? '–'} · {formatDuration(r.durationMs)}
                    {r.pulled ? ' · pulled' : ''}
                  </span>
                  {r.status !== 'pull-failed' && r.status !== 'engine-error' ? <OpenShellButton image={r.image} platform={p.platform} /> : null}
                </div>
                <div>{cleanLines(r.message)}</div>
                {r.note ? <div className="muted small">{cleanLines(r.note)}</div> : null}
                {r.fix ? (
                  <div className="fix">
                    {fix ? (
                      <>
                        <button type="button" className="primary small-btn" onClick={() => onFix(fix)}>
                          {fixLabel(fix)}
                        </button>
                        {r.risk ? <div className="small warn-text">Risk: {r.risk.message}</div> : null}
                      </>
                    ) : (
                      <>
                        Fix: <span className="mono">{r.fix}</span>
                      </>
                    )}
                  </div>
                ) : null}
              </div>
            );
          })}
      </div>
      <Suspense fallback={<div className="term-box" aria-busy="true" />}>
        <Terminal transcript={transcript} version={transcriptVersion} dark={dark} visible={visible} />
      </Suspense>
      <Shells visible={visible} dark={dark} onFix={onFix} />

    </section>
  );
}

function Cell({ p }: { p: PlatformRun }) {
  const m = cellMark(p);
  const pct = p.pull && !p.result ? Math.round(p.pull.percent) : null;
  return (
    <div className={`cell ${m.tone}`} role="listitem" aria-label={`${p.platform}: ${m.label}`} data-platform={p.platform}>
      <span className="cell-mark" aria-hidden="true">
        {m.mark}
      </span>
      <span className="cell-name">{p.platform}</span>
      <span className="cell-label muted small">{m.label}</span>
      <span className="bar" aria-hidden={pct === null}>
        {pct !== null ? <span className="bar-fill" style={{ width: `${pct}%` }} /> : null}
      </span>
      {pct !== null ? <span className="sr-only">pulling {pct}%</span> : null}
    </div>
  );
}
