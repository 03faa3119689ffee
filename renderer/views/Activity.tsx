/** Every privileged change, newest first (the helper's append-only audit log). */
import { cleanLines, cleanText } from '../../shared/sanitize';
import { useEffect, useState } from 'react';
import { toIpcError } from '../../shared/ipc/api';
import type { AuditView, IpcErrorShape } from '../../shared/ipc/contract';
import { useApi } from '../api';
import { useStatusChanges } from '../stores/status';

/** Re-reads the audit log whenever main reports a status change (every change is audited). */
export function Activity() {
  const api = useApi();
  const tick = useStatusChanges();
  const [entries, setEntries] = useState<AuditView[] | null>(null);
  const [error, setError] = useState<IpcErrorShape | null>(null);
  useEffect(() => {
    let alive = true;
    api.getAudit({ limit: 200 }).then(
      (e) => alive && setEntries([...e].reverse()),
      (e: unknown) => alive && setError(toIpcError(e)),
    );
    return () => {
      alive = false;
    };
  }, [api, tick]);
  return (
    <section className="view" aria-labelledby="activity-title">
      <header className="view-head">
        <h1 id="activity-title">Activity</h1>
      </header>
      {error ? <div className="callout bad">{error.message}</div> : null}
      {!entries ? (
        <p className="muted placeholder">Reading the audit log…</p>
      ) : entries.length === 0 ? (
        <p className="muted placeholder">No changes yet. Every change Archway's helper makes is recorded here.</p>
      ) : (
        <table className="audit-table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col">Result</th>
              <th scope="col">By</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e, i) => (
              <tr key={`${e.time}-${i}`}>
                <td className="small nowrap">{formatTime(e.time)}</td>
                <td className="mono">
                  {cleanText(e.op)} {cleanText(e.name ?? e.arch ?? '')}
                </td>
                <td>{e.ok ? <span className="badge state-ready">ok</span> : <span className="badge state-broken">failed</span>}</td>
                <td className="small">{e.uid === 0 ? "root" : `uid ${e.uid}`}</td>
                <td className="small">
                  {cleanLines(e.message)}
                  {e.files?.length ? <div className="muted mono">{cleanText(e.files.join(', '))}</div> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
