/**
 * Machines: every docker context as a host, hosts × platforms (the same matrix as `archway fleet
 * status`), a baseline to compare with, one probe on every host, and "make this host like that
 * one" — planned on that host by the same planner, shown, then applied on confirmation. With a
 * kubeconfig, the cluster's nodes are rows of the same matrix, read-only (`archway kube apply`).
 */
import { useEffect, useState } from 'react';
import { SETUID_RISK } from '../../shared/binfmt/flags';
import { CELL_WORD, REACH_WORD, type FleetHost, type FleetMatrix } from '../../shared/fleet';
import { cleanText } from '../../shared/sanitize';
import { useApi } from '../api';
import { applyMatch, closePlan, machinesStore, planMatch, probeEveryHost, refreshMachines, setBaseline, setProbeInput } from '../stores/machines';
import { useStore } from '../stores/store';

/** The command that changes a cluster's nodes (the view only reads them). */
const KUBE_APPLY = 'archway kube apply ARCH… --image REF@sha256:…';

export function Machines() {
  const api = useApi();
  const s = useStore(machinesStore);
  useEffect(() => {
    if (!machinesStore.get().matrix && !machinesStore.get().loading) void refreshMachines(api);
  }, [api]);
  return (
    <section className="view" aria-labelledby="machines-title">
      <header className="view-head">
        <h1 id="machines-title">Machines</h1>
        <div className="toolbar">
          <button type="button" onClick={() => void refreshMachines(api)} disabled={s.loading}>
            {s.loading ? 'Asking every host…' : 'Check again'}
          </button>
        </div>
      </header>
      <p className="muted">Every docker context is a host, and with a kubeconfig every node of its current context's cluster. Each is read within a few seconds; one that does not answer is shown as such.</p>
      {s.error ? (
        <div className="banner bad" role="alert">
          {cleanText(s.error.message)} {s.error.hint ? cleanText(s.error.hint) : ''}
        </div>
      ) : null}
      {!s.matrix ? <p className="muted placeholder">{s.loading ? 'Asking every host…' : 'No hosts yet.'}</p> : <Matrix m={s.matrix} baseline={s.baseline} onBaseline={(b) => void setBaseline(api, b)} onMatch={(t, m) => void planMatch(api, t, m)} />}
      <ProbeEveryHost />
      {s.plan ? <MatchDialog /> : null}
    </section>
  );
}

function Matrix({ m, baseline, onBaseline, onMatch }: { m: FleetMatrix; baseline: string | undefined; onBaseline: (b: string | undefined) => void; onMatch: (target: string, model: string) => void }) {
  const [model, setModel] = useState<string>('');
  // Baselines and models are docker hosts: a cluster's nodes change only through `archway kube apply`.
  const answered = m.hosts.filter((h) => h.reach === 'ok' && h.kind === 'docker-context');
  const kube = m.hosts.some((h) => h.kind !== 'docker-context');
  return (
    <>
      <div className="toolbar">
        <HostSelect label="Baseline" aria="Baseline host" none="none" hosts={answered} value={baseline ?? ''} onChange={(v) => onBaseline(v || undefined)} />
        <HostSelect label="Model for “make like”" aria="Model host" none="choose a host" hosts={answered} value={model} onChange={setModel} />
      </div>
      <div className="table-scroll">
      <table className="arch-table fleet-table" aria-label="Hosts and platforms">
        <thead>
          <tr>
            <th scope="col">Host</th>
            <th scope="col">Machine</th>
            <th scope="col">QEMU</th>
            {m.cpus.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {m.hosts.map((h) => (
            <tr key={h.id} data-host={h.id} data-kind={h.kind}>
              <th scope="row">
                <div>{cleanText(h.name)}</div>
                <div className="muted small mono">{cleanText(h.endpoint)}</div>
                {h.reach !== 'ok' ? (
                  <div className="bad-text small" role="status">
                    {REACH_WORD[h.reach]}: {cleanText(h.error?.message ?? '')}
                  </div>
                ) : null}
              </th>
              <td>{h.machine ? cleanText(h.machine) : '—'}</td>
              <td className="small">{h.emulatorVersion ? cleanText(h.emulatorVersion.split(' ')[0] ?? '') : '—'}</td>
              {m.cpus.map((c) => {
                const cell = h.cells.find((x) => x.cpu === c);
                const differs = m.differences.some((d) => d.host === h.id && d.cpu === c);
                return (
                  <td key={c} data-cpu={c} className={`state-${cell?.state ?? 'unknown'}${differs ? ' differs' : ''}`} title={cell?.note ? cleanText(cell.note) : cell?.interpreter ? cleanText(cell.interpreter) : undefined}>
                    {cell ? CELL_WORD[cell.state] : '?'}
                    {cell?.cRisk ? <span className="badge warn" title={SETUID_RISK}> C</span> : null}
                    {differs ? <span className="sr-only"> (differs from the baseline)</span> : null}
                  </td>
                );
              })}
              <td>
                {h.kind === 'docker-context' ? (
                  <button type="button" className="small-btn" disabled={!model || model === h.id || h.reach !== 'ok'} onClick={() => onMatch(h.id, model)}>
                    Make like {model ? cleanText(model) : '…'}
                  </button>
                ) : (
                  <span className="muted small">read-only</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
      {kube ? (
        <p className="muted" data-kube-hint>
          Kubernetes nodes are read-only here: change them with <code>{KUBE_APPLY}</code> (and remove with <code>archway kube delete</code>).
        </p>
      ) : null}
      {baseline ? <p className="muted">{m.differences.length ? `${m.differences.length} cell(s) differ from ${cleanText(baseline)}.` : `No differences from ${cleanText(baseline)}.`}</p> : null}
    </>
  );
}

function HostSelect({ label, aria, none, hosts, value, onChange }: { label: string; aria: string; none: string; hosts: FleetHost[]; value: string; onChange: (v: string) => void }) {
  return (
    <label>
      {label}{' '}
      <select aria-label={aria} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{none}</option>
        {hosts.map((h) => (
          <option key={h.id} value={h.id}>
            {cleanText(h.name)}
          </option>
        ))}
      </select>
    </label>
  );
}

function ProbeEveryHost() {
  const api = useApi();
  const p = useStore(machinesStore, (s) => s.probe);
  return (
    <section aria-labelledby="fleet-probe-title">
      <h2 id="fleet-probe-title">Probe on every host</h2>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          void probeEveryHost(api);
        }}
      >
        <input aria-label="Image" placeholder="image, e.g. alpine" value={p.image} onChange={(e) => setProbeInput({ image: e.target.value })} />
        <input aria-label="Platform" value={p.platform} onChange={(e) => setProbeInput({ platform: e.target.value })} />
        <button type="submit" disabled={p.running || !p.image}>
          {p.running ? 'Probing…' : 'Probe'}
        </button>
      </form>
      {p.error ? <div className="banner bad">{cleanText(p.error.message)}</div> : null}
      {p.results.length ? (
        <ul aria-label="Probe results">
          {p.results.map((r) => (
            <li key={r.host} data-host={r.host}>
              <strong>{cleanText(r.host)}</strong>: {r.result ? `${r.result.status} ${r.result.observed ? `(${cleanText(r.result.observed)})` : ''}` : `${REACH_WORD[r.reach]} ${cleanText(r.error?.message ?? '')}`}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function MatchDialog() {
  const api = useApi();
  const plan = useStore(machinesStore, (s) => s.plan);
  if (!plan) return null;
  const v = plan.view;
  const refused = v?.planned.filter((p) => !p.ok) ?? [];
  return (
    <div className="modal-backdrop">
      <div role="dialog" aria-modal="true" aria-labelledby="match-title" className="modal">
        <h2 id="match-title">{v ? `Make ${cleanText(v.target)} like ${cleanText(v.model)}` : 'Planning…'}</h2>
        {plan.loading ? <p className="muted">Reading both hosts…</p> : null}
        {v && v.cpus.length === 0 ? <p>Nothing to do: {cleanText(v.target)} already runs everything {cleanText(v.model)} runs.</p> : null}
        {v && v.planned.length ? (
          <ul>
            {v.planned.map((p) => (
              <li key={p.arch ?? p.message}>
                {p.ok ? '' : '✗ '}
                {cleanText(p.message)}
                {p.register ? <div className="mono small">{p.register}</div> : null}
              </li>
            ))}
          </ul>
        ) : null}
        {v ? <p className="muted small">Through the engine at {cleanText(v.endpoint)}: a short-lived helper container writes exactly these strings. Nothing is kept after a reboot of that host.</p> : null}
        {plan.error ? (
          <div className="banner bad" role="alert">
            {cleanText(plan.error.message)} {plan.error.hint ? cleanText(plan.error.hint) : ''}
          </div>
        ) : null}
        {plan.result ? (
          <div className={plan.result.ok ? 'banner ok' : 'banner bad'} role="status">
            {plan.result.ok ? 'Done' : 'Failed'} on {cleanText(plan.result.host)}: {plan.result.results.map((r) => cleanText(r.message)).join('; ') || cleanText(plan.result.error?.message ?? 'nothing changed')}
          </div>
        ) : null}
        <div className="modal-actions">
          <button type="button" onClick={closePlan}>
            {plan.result ? 'Close' : 'Cancel'}
          </button>
          {v && !plan.result && v.cpus.length > 0 ? (
            <button type="button" className="primary" disabled={plan.applying || refused.length > 0} onClick={() => void applyMatch(api)}>
              {plan.applying ? 'Applying…' : `Install ${v.cpus.join(', ')} on ${cleanText(v.target)}`}
            </button>
          ) : null}
        </div>
      </div>
    </div>
  );
}
