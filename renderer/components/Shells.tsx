/**
 * Shell tabs (issue 12): *Open shell* on a platform of a test run opens one; each tab is an
 * interactive terminal in a container of that image and platform, removed when the tab closes (or
 * the app quits). A shell that cannot start shows Archway's diagnosis with its one-click fix.
 * Titles, names, diagnoses and errors are untrusted text and pass the sanitiser; the terminal's
 * stream does not (shared/shell.ts).
 */
import { lazy, Suspense, useContext } from 'react';
import type { Intent } from '../../shared/actions';
import { cleanLines, cleanText } from '../../shared/sanitize';
import { ApiContext } from '../api';
import { fixLabel } from '../lib/run';
import { activateShellTab, closeShellTab, openShellTab, shellsStore, type ShellTab } from '../stores/shells';
import { useStore } from '../stores/store';

const ShellTerminal = lazy(() => import('./ShellTerminal'));

/** Opens a shell in a new tab. The first size is a guess; the terminal sends its own once it runs. */
export function OpenShellButton({ image, platform }: { image: string; platform: string }) {
  // The API is read when clicked: a view rendered without one (a unit spec) still renders.
  const api = useContext(ApiContext);
  return (
    <button type="button" className="small-btn" disabled={!api} onClick={() => api && void openShellTab(api, { image, platform, cols: 100, rows: 24 })} aria-label={`Open shell on ${platform}`}>
      Open shell
    </button>
  );
}

function label(t: ShellTab): string {
  return `${cleanText(t.platform)} · ${cleanText(t.image)}`;
}

function stateText(t: ShellTab): string {
  switch (t.state) {
    case 'opening':
      return 'starting…';
    case 'open':
      return 'running';
    case 'exited':
      return `exited ${t.exitCode ?? '–'}`;
    default:
      return 'could not start';
  }
}

export function Shells({ visible, dark, onFix }: { visible: boolean; dark: boolean; onFix: (intent: Intent) => void }) {
  const api = useContext(ApiContext);
  const { tabs, active } = useStore(shellsStore);
  if (tabs.length === 0 || !api) return null;
  return (
    <section className="shells" aria-label="Shells">
      <div className="shell-tabs" role="tablist" aria-label="Open shells">
        {tabs.map((t) => (
          <div key={t.shellId} className={`shell-tab${t.shellId === active ? ' on' : ''}`} data-state={t.state}>
            <button type="button" role="tab" aria-selected={t.shellId === active} onClick={() => activateShellTab(t.shellId)} title={t.why ? cleanText(t.why) : undefined}>
              {label(t)} <span className="muted small">{stateText(t)}</span>
            </button>
            <button type="button" className="shell-tab-close" aria-label={`Close shell ${label(t)}`} onClick={() => void closeShellTab(api, t.shellId)}>
              ×
            </button>
          </div>
        ))}
      </div>
      {tabs.map((t) => (
        <div key={t.shellId} className="shell-pane" role="tabpanel" hidden={t.shellId !== active} data-shell={t.shellId} data-state={t.state}>
          {t.why ? <div className="muted small">{cleanLines(`${t.command?.join(' ') ?? ''} — ${t.why}; the container is removed when this tab closes.`)}</div> : null}
          {t.diagnosis ? (
            <div className="callout bad shell-diagnosis" role="alert">
              {cleanLines(t.diagnosis.message)}
              {t.diagnosis.intent ? (
                <div className="fix">
                  <button type="button" className="primary small-btn" onClick={() => onFix(t.diagnosis!.intent!)}>
                    {fixLabel(t.diagnosis.intent)}
                  </button>
                </div>
              ) : t.diagnosis.fix ? (
                <div className="muted">{cleanLines(t.diagnosis.fix)}</div>
              ) : null}
            </div>
          ) : null}
          {t.error ? (
            <div className="callout bad" role="alert">
              {cleanLines(t.error.message)}
              {t.error.hint ? <div className="muted">{cleanLines(t.error.hint)}</div> : null}
            </div>
          ) : null}
          {t.state === 'opening' || t.state === 'open' || t.state === 'exited' ? (
            <Suspense fallback={<div className="term-box" aria-busy="true" />}>
              <ShellTerminal shellId={t.shellId} live={t.state === 'open'} visible={visible && t.shellId === active} dark={dark} />
            </Suspense>
          ) : null}
        </div>
      ))}
    </section>
  );
}
