/** The sidebar: the views (a dot while a test run goes on), this host and the engine in use. */
import type { View } from '../../shared/ipc/contract';
import { useApi } from '../api';
import { useEngine } from '../stores/engine';
import { go, useView } from '../stores/nav';
import { useRunning } from '../stores/runs';
import { useStatus } from '../stores/status';

export function Sidebar({ items }: { items: readonly { id: View; label: string }[] }) {
  const api = useApi();
  const view = useView();
  const running = useRunning();
  const status = useStatus();
  const engine = useEngine();
  return (
    <nav className="sidebar" aria-label="Views">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">⌁</span> Archway
      </div>
      <ul>
        {items.map((n) => (
          <li key={n.id}>
            <button type="button" className="nav-item" aria-current={view === n.id ? 'page' : undefined} onClick={() => go(api, n.id)}>
              {n.label}
              {n.id === 'test-run' && running ? <span className="dot" aria-label="running" /> : null}
            </button>
          </li>
        ))}
      </ul>
      <div className="sidebar-foot">
        <div>{status ? `${status.hostMachine} host` : ''}</div>
        <div className={engine?.state === 'connected' ? 'ok-text' : 'muted'}>
          {engine ? (engine.state === 'connected' ? `${engine.info.name} ${engine.info.version}` : 'No container engine') : 'Checking engine…'}
        </div>
      </div>
    </nav>
  );
}
