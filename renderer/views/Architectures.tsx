/**
 * Architectures: one row per architecture (Docker platforms, or every CPU QEMU knows), with its
 * state, emulator, flags, persistence and owner, and the one-click actions; the selected row's
 * detail beside the list.
 */
import { cleanText } from '../../shared/sanitize';
import { useContext, useEffect, useMemo, useState } from 'react';
import type { Intent } from '../../shared/actions';
import { SCOPE_LABEL, SCOPES } from '../../shared/rootless';
import { ApiContext } from '../api';
import { useStore } from '../stores/store';
import { chooseScope, currentView, loadScopes, reapplyScope, scopeStore } from '../stores/scope';
import { FlagChip } from '../components/FlagChip';
import { StateBadge } from '../components/StateBadge';
import { actionsFor, missingInstallable, visibleRows, type ArchRow, type RowAction, type Scope } from '../lib/archs';
import { usePlanFlow } from '../stores/plans';
import { useStatus } from '../stores/status';
import { Detail } from './Detail';

/** Reads the status store; every action goes through the one plan flow (actions wait while a plan is open). */
export function Architectures() {
  const hostStatus = useStatus();
  const { plan: hostAction, busy } = usePlanFlow();
  // Which binfmt_misc instance (issue 10): this machine's, or a rootless engine's own (no password).
  const api = useContext(ApiContext);
  const where = useStore(scopeStore);
  const engine = currentView(where);
  useEffect(() => {
    if (!api || where.scope === 'host') return;
    void loadScopes(api);
    // Every apply ends with a status event: read the engines again then.
    return api.onStatusChanged(() => void loadScopes(api));
  }, [api, where.scope]);
  const status = where.scope === 'host' ? hostStatus : (engine?.status ?? null);
  const onAction = (intent: Intent) => hostAction(where.scope === 'host' ? intent : { ...intent, scope: where.scope });
  const [scope, setScope] = useState<Scope>('docker');
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const rows = useMemo(() => (status ? visibleRows(status, scope, query) : []), [status, scope, query]);
  const missing = status ? missingInstallable(status) : [];
  const current = rows.find((r) => r.cpu === selected) ?? null;

  return (
    <section className="view" aria-labelledby="arch-title">
      <header className="view-head">
        <h1 id="arch-title">Architectures</h1>
        <div className="toolbar">
          {api ? (
            <div className="segmented" role="radiogroup" aria-label="Whose handlers">
              {SCOPES.map((s) => (
                <button key={s} type="button" role="radio" aria-checked={where.scope === s} onClick={() => chooseScope(s)}>
                  {capitalised(SCOPE_LABEL[s])}
                </button>
              ))}
            </div>
          ) : null}
          <div className="segmented" role="radiogroup" aria-label="Which architectures">
            {(['docker', 'all'] as const).map((s) => (
              <button key={s} type="button" role="radio" aria-checked={scope === s} onClick={() => setScope(s)}>
                {s === 'docker' ? 'Docker platforms' : 'All CPUs'}
              </button>
            ))}
          </div>
          <input
            type="search"
            className="search"
            placeholder="Search: arm64, riscv, ready…"
            aria-label="Search architectures"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
          <button type="button" className="primary" disabled={busy || missing.length === 0} onClick={() => onAction({ action: 'install', archs: missing })}>
            Install all missing{missing.length ? ` (${missing.length})` : ''}
          </button>
        </div>
      </header>
      {where.scope !== 'host' ? (
        <div className="scope-note" role="status">
          {!engine ? (
            <p className="muted">{where.error ?? 'Looking for your rootless engine…'}</p>
          ) : !engine.running ? (
            <p>{cleanText(engine.why ?? `${engine.label} is not running.`)}</p>
          ) : (
            <p>
              {engine.instance === 'own'
                ? `${SCOPE_LABEL[engine.scope]} has its own binfmt_misc instance: its containers use only these handlers, not this machine's.`
                : `${SCOPE_LABEL[engine.scope]} has no binfmt_misc instance of its own yet: its containers use this machine's handlers. The first install here makes one (no password); from then on this machine's handlers no longer apply to its containers.`}
            </p>
          )}
          {engine && engine.missing.length > 0 ? (
            <p>
              Gone since its namespace restarted: {engine.missing.join(', ')}.{' '}
              <button type="button" className="primary small-btn" disabled={busy || !api} onClick={() => api && void reapplyScope(api, engine.scope)}>
                Re-apply (no password)
              </button>
            </p>
          ) : null}
          {where.notice ? <p className="muted">{cleanText(where.notice)}</p> : null}
        </div>
      ) : null}
      {!status ? (
        <p className="muted placeholder">{where.scope === 'host' ? 'Reading binfmt_misc…' : 'No table to show.'}</p>
      ) : rows.length === 0 ? (
        <p className="muted placeholder">No architecture matches “{query}”.</p>
      ) : (
        <table className="arch-table">
          <thead>
            <tr>
              <th scope="col">Platform</th>
              <th scope="col">State</th>
              <th scope="col">Emulator</th>
              <th scope="col">Flags</th>
              <th scope="col">After reboot</th>
              <th scope="col">Owner</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <Row key={r.cpu} row={r} selected={r.cpu === selected} onSelect={() => setSelected(r.cpu === selected ? null : r.cpu)} onAction={onAction} busy={busy} />
            ))}
          </tbody>
        </table>
      )}
      {current && status ? (
        <aside className="drawer" aria-label="Details" onKeyDown={(e) => e.key === 'Escape' && setSelected(null)}>
          <button type="button" className="icon drawer-close" aria-label="Close details" onClick={() => setSelected(null)}>
            ×
          </button>
          <Detail row={current} status={status} onAction={onAction} busy={busy} />
        </aside>
      ) : null}
    </section>
  );
}

function Row({ row, selected, onSelect, onAction, busy }: { row: ArchRow; selected: boolean; onSelect: () => void; onAction: (i: Intent) => void; busy: boolean }) {
  const actions = actionsFor(row);
  const name = row.platforms[0] ?? row.cpu;
  const act = (a: RowAction) => onAction(a.intent);
  return (
    <tr className={selected ? 'selected' : undefined} data-cpu={row.cpu}>
      <td>
        <button type="button" className="link row-select" aria-expanded={selected} aria-label={`Details for ${name}`} onClick={onSelect}>
          {name}
        </button>
        <div className="muted small mono">
          {row.qemu}
          {row.platforms.length > 1 ? ` · also ${row.platforms.slice(1).join(', ')}` : ''}
        </div>
      </td>
      <td>
        <StateBadge state={row.state} summary={row.summary} />
      </td>
      <td className="small emulator">
        {row.emulator ? (
          <>
            <div>{row.emulator.source}</div>
            <div className="muted">{row.emulator.version ? `QEMU ${row.emulator.version}` : row.emulator.reported ? cleanText(row.emulator.reported) : row.emulator.path.split('/').pop()}</div>
          </>
        ) : (
          <span className="muted">{row.state === 'native' ? 'not needed' : 'none found'}</span>
        )}
      </td>
      <td>
        <div className="chips">{row.flags.map((f) => <FlagChip key={f.letter} flag={f} />)}</div>
      </td>
      <td className="small">{row.handler ? (row.persistent ? 'kept' : 'lost') : <span className="muted">—</span>}</td>
      <td className="small">{row.owner ? <span title={row.owner.detail}>{row.owner.kind}{row.owner.guess ? '?' : ''}</span> : <span className="muted">—</span>}</td>
      <td className="actions">
        {actions.map((a) => (
          <button
            key={a.id}
            type="button"
            className={a.id === 'install' ? 'primary small-btn' : a.id === 'uninstall' ? 'danger small-btn' : 'small-btn'}
            disabled={busy}
            aria-label={`${a.label} ${name}`}
            title={a.foreign ? `${row.owner?.detail ?? 'Another tool'} owns this handler: Archway will ask before changing it` : undefined}
            onClick={() => act(a)}
          >
            {a.label}
          </button>
        ))}
      </td>
    </tr>
  );
}

/** "my rootless Podman" at the start of a sentence or on a button. */
function capitalised(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}
