/** The container engine Archway talks to, or a clear empty state when there is none. */
import type { EngineView } from '../../shared/ipc/contract';

export function EngineViewPane({ engine, onRefresh }: { engine: EngineView | null; onRefresh: () => void }) {
  return (
    <section className="view" aria-labelledby="engine-title">
      <header className="view-head">
        <h1 id="engine-title">Engine</h1>
        <div className="toolbar">
          <button type="button" onClick={onRefresh}>
            Check again
          </button>
        </div>
      </header>
      {!engine ? (
        <p className="muted placeholder">Looking for a container engine…</p>
      ) : engine.state === 'connected' ? (
        <dl className="facts wide">
          <dt>Status</dt>
          <dd>
            <span className="badge state-ready">running</span>
          </dd>
          <dt>Engine</dt>
          <dd>
            {engine.info.name} {engine.info.version} (API {engine.info.apiVersion})
          </dd>
          <dt>Endpoint</dt>
          <dd className="mono">{engine.info.endpoint}</dd>
          <dt>Chosen by</dt>
          <dd>{engine.info.source}</dd>
          <dt>Host</dt>
          <dd>
            {engine.info.hostMachine} ({engine.info.os}/{engine.info.arch}){engine.info.kernel ? `, kernel ${engine.info.kernel}` : ''}
          </dd>
          <dt>Image store</dt>
          <dd>{engine.info.imageStore === 'containerd' ? 'containerd (multi-platform tags)' : 'classic (a tag holds one platform)'}</dd>
          <dt>Mode</dt>
          <dd>{engine.info.rootless ? 'rootless' : 'rootful'}</dd>
        </dl>
      ) : (
        <div className="empty">
          <h2>No container engine</h2>
          <p>{sentence(engine.error.message)}</p>
          {engine.error.hint ? <p className="muted">{engine.error.hint}</p> : null}
          <p className="small">
            The kernel side works without one: Archway still shows, installs and repairs binfmt_misc handlers. Test runs need Docker or Podman.
          </p>
        </div>
      )}
    </section>
  );
}

/** Engine messages start lowercase (they are also used mid-sentence): capitalise for a heading-less paragraph. */
function sentence(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}
