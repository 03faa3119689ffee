/**
 * Before anything changes: exactly what the helper will do (its own dry run: register strings and
 * files), what it refuses and why, and how it will be authorised — then one Apply for the batch.
 */
import { useEffect, useRef } from 'react';
import type { PlanState } from '../stores/plans';
import { summarisePlan } from '../lib/plan';

export interface PlanDialogProps {
  state: PlanState;
  onCancel: () => void;
  onApply: () => void;
  onOverride: (kind: 'force' | 'takeOver') => void;
}

export function PlanDialog({ state, onCancel, onApply, onOverride }: PlanDialogProps) {
  const ref = useRef<HTMLDivElement>(null);
  const summary = state.plan ? summarisePlan(state.plan) : null;
  const busy = state.loading || state.applying;

  useEffect(() => {
    const prev = document.activeElement as HTMLElement | null;
    ref.current?.focus();
    return () => prev?.focus?.();
  }, []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !state.applying) onCancel();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onCancel, state.applying]);

  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="plan-title" tabIndex={-1} ref={ref}>
        <h2 id="plan-title">{summary ? summary.title : state.error ? 'Cannot plan this' : 'Planning…'}</h2>
        {state.error ? (
          <div className="callout bad" role="alert">
            {state.error.message}
            {state.error.hint ? <div className="muted">{state.error.hint}</div> : null}
          </div>
        ) : null}
        {state.loading ? <p className="muted">Asking the helper what it would do…</p> : null}
        {summary ? (
          <>
            <p className="muted small">This is the helper's own dry run. Nothing has changed yet.</p>
            {summary.provenance?.length ? (
              <div className="small" aria-label="Emulator provenance">
                <div className="muted">Copied out of the pinned image into a private temporary directory:</div>
                <ul className="provenance">
                  {summary.provenance.map((p) => (
                    <li key={p} className="mono wrap">
                      {p}
                    </li>
                  ))}
                </ul>
              </div>
            ) : null}
            <ol className="steps">
              {summary.steps.map((s, i) => (
                <li key={i} className={s.ok ? (s.noop ? 'step noop' : 'step') : 'step refused'}>
                  <div className="step-title">
                    <span className="mono">{s.title}</span> — {s.message}
                  </div>
                  {s.register ? (
                    <div>
                      <div className="muted small">writes to /proc/sys/fs/binfmt_misc/register:</div>
                      <pre className="raw wrap">{s.register}</pre>
                    </div>
                  ) : null}
                  {s.files.length ? (
                    <div className="small">
                      files: {s.files.map((f) => <span key={f} className="mono file">{f}</span>)}
                    </div>
                  ) : null}
                  {s.warnings.map((w) => (
                    <div key={w} className="small warn-text">
                      ! {w}
                    </div>
                  ))}
                  {s.risks.map((k) => (
                    <div key={k.id} className="callout warn small" role="note" data-risk={k.id}>
                      Risk: {k.message}
                    </div>
                  ))}
                  {s.error ? (
                    <div className="small bad-text">
                      ✗ {s.error.message}
                      {s.error.hint ? <div className="muted">{s.error.hint}</div> : null}
                    </div>
                  ) : null}
                </li>
              ))}
            </ol>
            {summary.skipped.length ? (
              <div className="small muted">
                Skipped: {summary.skipped.map((s) => `${s.arch} (${s.why})`).join('; ')}
              </div>
            ) : null}
            {summary.override ? (
              <div className="callout warn">
                {summary.override.explain}
                <div>
                  <button type="button" className="danger" disabled={busy} onClick={() => onOverride(summary.override!.kind)}>
                    {summary.override.label}…
                  </button>
                </div>
              </div>
            ) : null}
            <p className="small">{summary.authorisation}</p>
          </>
        ) : null}
        <div className="modal-actions">
          <button type="button" onClick={onCancel} disabled={state.applying}>
            Cancel
          </button>
          <button type="button" className="primary" onClick={onApply} disabled={!summary?.canApply || busy}>
            {state.applying ? 'Applying…' : 'Apply'}
          </button>
        </div>
      </div>
    </div>
  );
}
