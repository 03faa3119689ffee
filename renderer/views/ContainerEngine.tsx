/** The container engine Archway talks to, or a clear empty state when there is none. */
import { cleanText } from '../../shared/sanitize';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { catalogEntry, fetchableCpus } from '../../shared/arch/catalog';
import type { ContainerEngineView } from '../../shared/ipc/contract';
import type { ContainerEngineOffer } from '../../shared/probe';
import { useApi } from '../api';
import { chooseEngine, listEngines, refreshEngine, useEngine } from '../stores/engine';
import { usePlanFlow } from '../stores/plans';
import { setImportPath, useImportPath } from '../stores/emulators';

export interface ContainerEnginePaneProps {
  engine: ContainerEngineView | null;
  onRefresh: () => void;
  /** Plan fetching emulators for these CPUs (opens the plan dialog). */
  onFetch?: (archs: string[]) => void;
  busy?: boolean;
  /** The engines on this machine (as `archway engines`): offered, never chosen silently. */
  onListEngines?: () => Promise<ContainerEngineOffer[]>;
  /** Remember one (as `archway engines use NAME`). */
  onChooseEngine?: (name: string) => Promise<void>;
  /**
   * Plan importing emulators from a saved image or a directory (no engine needed). `path` undefined:
   * main opens the desktop's file dialog (Electron); the harness has none, so a path is typed.
   */
  onImport?: (path: string | undefined) => void;
}

/** The Engine view: reads the engine store; fetching emulators goes through the one plan flow. */
export function ContainerEnginePane() {
  const api = useApi();
  const engine = useEngine();
  const { fetch, importFrom, busy } = usePlanFlow();
  const list = useCallback(() => listEngines(api), [api]);
  const choose = useCallback((name: string) => chooseEngine(api, name), [api]);
  return <EnginePane engine={engine} onRefresh={() => void refreshEngine(api).catch(() => undefined)} onFetch={fetch} busy={busy} onListEngines={list} onChooseEngine={choose} onImport={importFrom} />;
}

function EnginePane({ engine, onRefresh, onFetch, busy = false, onListEngines, onChooseEngine, onImport }: ContainerEnginePaneProps) {
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
            {cleanText(
              `${engine.info.name} ${engine.info.version} (API ${engine.info.apiVersion}${engine.info.usingApiVersion && engine.info.usingApiVersion !== engine.info.apiVersion ? `; Archway speaks ${engine.info.usingApiVersion}` : ''})`,
            )}
          </dd>
          <dt>Endpoint</dt>
          <dd className="mono">{engine.info.endpoint}</dd>
          <dt>Chosen by</dt>
          <dd>{engine.info.source}</dd>
          <dt>Host</dt>
          <dd>
            {cleanText(`${engine.info.hostMachine} (${engine.info.os}/${engine.info.arch})${engine.info.kernel ? `, kernel ${engine.info.kernel}` : ''}`)}
          </dd>
          <dt>Image store</dt>
          <dd>{engine.info.imageStore === 'containerd' ? 'containerd (multi-platform tags)' : 'classic (a tag holds one platform)'}</dd>
          <dt>Mode</dt>
          <dd>{engine.info.rootless ? 'rootless' : 'rootful'}</dd>
          <dt>Registry mirrors</dt>
          <dd>
            {engine.info.registryMirrors?.length ? (
              <>
                <span className="mono">{engine.info.registryMirrors.map((m) => cleanText(m)).join(', ')}</span>
                <div className="muted small">Docker Hub images (the pinned emulator image too) are pulled through these first; the digest is checked either way.</div>
              </>
            ) : (
              <span className="muted">none (Docker Hub images come from Docker Hub)</span>
            )}
          </dd>
        </dl>
      ) : null}
      {onListEngines ? <EnginesHere list={onListEngines} choose={onChooseEngine} current={engine} /> : null}
      {engine?.state === 'connected' && onFetch ? <FetchEmulators hostMachine={engine.info.hostMachine} onFetch={onFetch} busy={busy} /> : null}
      {onImport ? <ImportEmulators onImport={onImport} busy={busy} /> : null}
      {!engine || engine.state === 'connected' ? null : (
        <div className="empty">
          <h2>No container engine</h2>
          <p>{sentence(engine.error.message)}</p>
          {engine.error.hint ? <p className="muted">{engine.error.hint}</p> : null}
          <p className="small">
            The kernel side works without one: Archway still shows, installs and repairs binfmt_misc handlers, and imports emulators from a file (below). Test runs and fetching emulators need Docker or Podman.
          </p>
        </div>
      )}
    </section>
  );
}

/**
 * Every engine found on this machine, what it is, which one is in use; "Use" remembers a choice
 * (DOCKER_HOST or DOCKER_CONTEXT set for the app still win).
 */
function EnginesHere({ list, choose, current }: { list: () => Promise<ContainerEngineOffer[]>; choose: ((name: string) => Promise<void>) | undefined; current: ContainerEngineView | null }) {
  const [offers, setOffers] = useState<ContainerEngineOffer[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [choosing, setChoosing] = useState<string | null>(null);
  const endpoint = current?.state === 'connected' ? current.info.endpoint : '';
  useEffect(() => {
    let live = true;
    list().then(
      (o) => live && setOffers(o),
      (e: unknown) => live && setError((e as Error).message),
    );
    return () => {
      live = false;
    };
  }, [list, endpoint]);
  const use = (name: string) => {
    if (!choose) return;
    setChoosing(name);
    setError(null);
    choose(name)
      .then(() => list().then(setOffers))
      .catch((e: unknown) => setError((e as Error).message))
      .finally(() => setChoosing(null));
  };
  return (
    <section className="engines-here" aria-labelledby="engines-title">
      <h2 id="engines-title">Engines on this machine</h2>
      <p className="muted small">
        Archway uses the engine the docker CLI would (DOCKER_HOST, DOCKER_CONTEXT, your choice here, the docker context, /var/run/docker.sock). Others are
        listed, never used until you choose one.
      </p>
      {error ? <p role="alert">{sentence(error)}</p> : null}
      {!offers ? (
        <p className="muted">Looking for engines…</p>
      ) : (
        <table className="engines">
          <thead>
            <tr>
              <th>Engine</th>
              <th>Version</th>
              <th>Mode</th>
              <th>Endpoint</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {offers.map((o) => (
              <tr key={`${o.name}:${o.endpoint}`} aria-current={o.current ? 'true' : undefined}>
                <td>
                  {o.engine ?? 'unavailable'} <span className="muted small">({o.what})</span>
                </td>
                <td>{o.version ?? '-'}</td>
                <td>{o.error ? '-' : o.rootless ? 'rootless' : 'rootful'}</td>
                <td className="mono">
                  {o.endpoint || '-'}
                  {o.error ? <div className="muted small">{sentence(o.error.message)}</div> : null}
                </td>
                <td>
                  {o.current ? (
                    <span className="badge state-ready">in use</span>
                  ) : choose && !o.error && o.name !== 'current' ? (
                    <button type="button" disabled={choosing !== null} onClick={() => use(o.name)}>
                      {choosing === o.name ? 'Checking…' : 'Use'}
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/**
 * Copy static QEMU emulators out of the pinned binfmt image into Archway's store: pick the
 * architectures (the Docker platforms this host does not run natively), then the usual plan dialog.
 */
function FetchEmulators({ hostMachine, onFetch, busy }: { hostMachine: string; onFetch: (archs: string[]) => void; busy: boolean }) {
  const cpus = useMemo(() => fetchableCpus(hostMachine), [hostMachine]);
  const [picked, setPicked] = useState<string[]>([]);
  const toggle = (cpu: string) => setPicked((p) => (p.includes(cpu) ? p.filter((c) => c !== cpu) : [...p, cpu]));
  const all = cpus.length > 0 && picked.length === cpus.length;
  return (
    <section className="fetch-emulators" aria-labelledby="fetch-title">
      <h2 id="fetch-title">Fetch emulators</h2>
      <p className="muted small">
        Copy static QEMU emulators out of a pinned image through this engine into Archway's own store (with their image, digest and QEMU version). Nothing
        runs in the image; you see the helper's plan before anything is stored.
      </p>
      {cpus.length === 0 ? (
        <p className="muted">This {hostMachine} host runs every Docker platform natively.</p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (picked.length) onFetch(cpus.filter((c) => picked.includes(c)));
          }}
        >
          <fieldset className="platforms">
            <legend>Architectures</legend>
            <label className={`platform-pick${all ? ' on' : ''}`}>
              <input type="checkbox" checked={all} onChange={() => setPicked(all ? [] : [...cpus])} />
              all
            </label>
            {cpus.map((cpu) => (
              <label key={cpu} className={`platform-pick${picked.includes(cpu) ? ' on' : ''}`} title={catalogEntry(cpu)?.platforms.map((p) => p.platform).join(', ')}>
                <input type="checkbox" checked={picked.includes(cpu)} onChange={() => toggle(cpu)} />
                {cpu}
              </label>
            ))}
          </fieldset>
          <div className="run-actions">
            <button type="submit" className="primary" disabled={busy || picked.length === 0}>
              Fetch emulators
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

/**
 * Emulators without an engine: a `docker save` / OCI archive of a tonistiigi/binfmt image, or a
 * directory of qemu-* programs, through the same checks and the same approved store step as a fetch.
 * *Import from file…* with an empty path asks main for the desktop's file dialog.
 */
function ImportEmulators({ onImport, busy }: { onImport: (path: string | undefined) => void; busy: boolean }) {
  const path = useImportPath();
  return (
    <section className="import-emulators" aria-labelledby="import-title">
      <h2 id="import-title">Import emulators</h2>
      <p className="muted small">
        For machines without Docker Hub: a file made by <span className="mono">docker save tonistiigi/binfmt:TAG -o FILE</span> (or an OCI layout), or a
        directory of static qemu-* programs. No engine is needed; nothing is run; you see the helper's plan before anything is stored.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onImport(path.trim() || undefined);
        }}
      >
        <label className="small">
          Path (optional: leave empty to choose in a dialog){' '}
          <input type="text" className="mono" aria-label="Archive or directory to import" placeholder="/path/to/binfmt.tar" value={path} onChange={(e) => setImportPath(e.target.value)} />
        </label>
        <div className="run-actions">
          <button type="submit" className="primary" disabled={busy}>
            Import from file…
          </button>
        </div>
      </form>
    </section>
  );
}

/** Engine messages start lowercase (they are also used mid-sentence): capitalise for a heading-less paragraph. */
function sentence(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}
