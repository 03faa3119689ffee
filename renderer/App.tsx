/**
 * The window: navigation, live data (status, engine) and the flows that cross views — plan →
 * confirm → apply (one elevation per batch), test runs (whose output keeps arriving while you look
 * elsewhere), toasts.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Intent } from '../shared/actions';
import { toIpcError } from '../shared/ipc/api';
import type { ContainerEngineView, IpcErrorShape, PlanView, ProbeRequest, View } from '../shared/ipc/contract';
import type { Status } from '../shared/status';
import { useApi } from './api';
import { PlanDialog } from './components/PlanDialog';
import { addToast, Toasts, type Toast } from './components/Toasts';
import { applyDone, applyEvent, IDLE, newRun, terminalText, type RunState } from './lib/run';
import { Activity } from './views/Activity';
import { Architectures } from './views/Architectures';
import { Machines } from './views/Machines';
import { ContainerEnginePane } from './views/ContainerEngine';
import { TestRun } from './views/TestRun';

const NAV: { id: View; label: string }[] = [
  { id: 'architectures', label: 'Architectures' },
  { id: 'test-run', label: 'Test run' },
  { id: 'engine', label: 'Engine' },
  { id: 'activity', label: 'Activity' },
  { id: 'machines', label: 'Machines' },
];

/** Terminal transcript kept for the Test run view (bounded: the oldest chunks go first). */
const MAX_TRANSCRIPT = 512 * 1024;

export interface PlanState {
  plan: PlanView | null;
  loading: boolean;
  applying: boolean;
  error?: IpcErrorShape;
}

export function App() {
  const api = useApi();
  const [view, setView] = useState<View | null>(null);
  const [status, setStatus] = useState<Status | null>(null);
  const [statusError, setStatusError] = useState<IpcErrorShape | null>(null);
  const [engine, setEngine] = useState<ContainerEngineView | null>(null);
  const listEngines = useCallback(() => api.listContainerEngines(), [api]);
  const chooseEngine = useCallback(async (name: string) => {
    setEngine(await api.chooseContainerEngine({ name }));
  }, [api]);
  const [planState, setPlanState] = useState<PlanState | null>(null);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [run, setRun] = useState<RunState>(IDLE);
  const [auditTick, setAuditTick] = useState(0);
  // The Test run view stays mounted once opened: its form, terminal and run survive view changes.
  const [runVisited, setRunVisited] = useState(false);
  useEffect(() => {
    if (view === 'test-run') setRunVisited(true);
  }, [view]);
  const transcript = useRef<{ chunks: string[]; size: number; epoch: number }>({ chunks: [], size: 0, epoch: 0 });
  const [transcriptVersion, setTranscriptVersion] = useState(0);
  const runRef = useRef(run);
  runRef.current = run;
  const toastId = useRef(0);

  const toast = useCallback((t: Omit<Toast, 'id'>) => {
    const id = ++toastId.current;
    setToasts((ts) => addToast(ts, { ...t, id }));
  }, []);
  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);

  const append = useCallback((text: string) => {
    if (!text) return;
    const t = transcript.current;
    t.chunks.push(text);
    t.size += text.length;
    while (t.size > MAX_TRANSCRIPT && t.chunks.length > 1) t.size -= t.chunks.shift()!.length;
    setTranscriptVersion((v) => v + 1);
  }, []);

  // Start-up: last view, status, engine; then live events.
  useEffect(() => {
    let alive = true;
    api.getPrefs().then((p) => alive && setView((v) => v ?? p.lastView), () => alive && setView((v) => v ?? 'architectures'));
    api.getStatus().then(
      (s) => alive && setStatus(s),
      (e: unknown) => alive && setStatusError(toIpcError(e)),
    );
    api.getContainerEngine().then((v) => alive && setEngine(v), () => undefined);
    const offs = [
      api.onStatusChanged((s) => {
        setStatus(s);
        setStatusError(null);
        setAuditTick((n) => n + 1);
      }),
      api.onContainerEngineChanged((v) => setEngine(v)),
      api.onProbeEvent((m) => {
        if (m.runId !== runRef.current.runId) return;
        setRun((r) => applyEvent(r, m));
        append(terminalText(m.event, runRef.current.platforms.length > 1));
      }),
      api.onProbeDone((m) => {
        if (m.runId !== runRef.current.runId) return;
        setRun((r) => applyDone(r, m));
        if (m.error) append(`\x1b[31m${m.error.message}${m.error.hint ? `\r\n${m.error.hint}` : ''}\x1b[0m\r\n`);
      }),
    ];
    return () => {
      alive = false;
      offs.forEach((off) => off());
    };
  }, [api, append]);

  const go = useCallback(
    (v: View) => {
      setView(v);
      api.setPrefs({ lastView: v }).catch(() => undefined);
    },
    [api],
  );

  const plan = useCallback(
    async (intent: Intent) => {
      setPlanState({ plan: null, loading: true, applying: false });
      try {
        const p = await api.plan(intent);
        setPlanState({ plan: p, loading: false, applying: false });
      } catch (e) {
        setPlanState({ plan: null, loading: false, applying: false, error: toIpcError(e) });
      }
    },
    [api],
  );

  const planFetch = useCallback(
    async (archs: string[]) => {
      setPlanState({ plan: null, loading: true, applying: false });
      try {
        const p = await api.planEmulatorFetch({ archs });
        setPlanState({ plan: p, loading: false, applying: false });
      } catch (e) {
        setPlanState({ plan: null, loading: false, applying: false, error: toIpcError(e) });
      }
    },
    [api],
  );

  // Emulators from a file (no engine): the same plan dialog as a fetch.
  const planImport = useCallback(
    async (path: string | undefined) => {
      setPlanState({ plan: null, loading: true, applying: false });
      try {
        setPlanState({ plan: await api.planEmulatorImport(path ? { path } : {}), loading: false, applying: false });
      } catch (e) {
        setPlanState({ plan: null, loading: false, applying: false, error: toIpcError(e) });
      }
    },
    [api],
  );

  const cancelPlan = useCallback(() => {
    const p = planState?.plan;
    setPlanState(null);
    // Main frees what it holds for the plan (a fetch's temporary emulators).
    if (p) api.cancelPlan({ planId: p.planId }).catch(() => undefined);
  }, [api, planState]);

  const apply = useCallback(async () => {
    const p = planState?.plan;
    if (!p) return;
    setPlanState({ plan: p, loading: false, applying: true });
    try {
      const r = await api.apply({ planId: p.planId });
      setPlanState(null);
      const failed = r.results.filter((x) => !x.ok);
      if (r.ok && failed.length === 0) {
        const changed = r.results.filter((x) => x.changed).map((x) => x.message);
        if (p.fetch) {
          const cpus = p.fetch.emulators.map((e) => e.cpu);
          toast({
            tone: 'ok',
            title: `Emulators ${p.fetch.importedFrom ? 'imported' : 'fetched'}: ${cpus.join(', ')}`,
            body: [...changed, 'They are in Archway\'s store: install a handler with the store as its source.'].join('\n'),
            action: { label: 'Install from the store', onClick: () => void plan({ action: 'install', archs: cpus, source: 'store' }) },
          });
        } else toast({ tone: 'ok', title: 'Done', body: changed.length ? changed.join('\n') : 'Nothing needed changing.' });
      } else {
        const err = r.error ?? failed[0]?.error;
        toast({ tone: 'bad', title: 'Not applied', body: [err?.message ?? failed[0]?.message ?? 'the helper refused', err?.hint].filter(Boolean).join('\n') });
      }
      setStatus(await api.getStatus());
    } catch (e) {
      const err = toIpcError(e);
      setPlanState(null);
      toast({ tone: 'bad', title: 'Not applied', body: [err.message, err.hint].filter(Boolean).join('\n') });
    }
  }, [api, planState, plan, toast]);

  const startRun = useCallback(
    async (req: ProbeRequest) => {
      const t = transcript.current;
      transcript.current = { chunks: [], size: 0, epoch: t.epoch + 1 };
      setTranscriptVersion((v) => v + 1);
      append(`\x1b[2m$ docker run --platform ${req.platforms.join(',')} ${req.image} ${(req.command?.length ? req.command : ['uname', '-m']).join(' ')}\x1b[0m\r\n`);
      try {
        const { runId } = await api.startProbe(req);
        const started = newRun(runId, req.platforms, Date.now());
        runRef.current = started;
        setRun(started);
      } catch (e) {
        const err = toIpcError(e);
        setRun({ ...IDLE, error: err });
        append(`\x1b[31m${err.message}\x1b[0m\r\n`);
      }
    },
    [api, append],
  );

  const cancelRun = useCallback(async () => {
    const id = runRef.current.runId;
    if (!id) return;
    setRun((r) => ({ ...r, cancelling: true }));
    await api.cancelProbe({ runId: id }).catch(() => undefined);
  }, [api]);

  const host = status ? `${status.hostMachine} host` : '';
  return (
    <div className="app">
      <nav className="sidebar" aria-label="Views">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">⌁</span> Archway
        </div>
        <ul>
          {NAV.map((n) => (
            <li key={n.id}>
              <button type="button" className="nav-item" aria-current={view === n.id ? 'page' : undefined} onClick={() => go(n.id)}>
                {n.label}
                {n.id === 'test-run' && run.running ? <span className="dot" aria-label="running" /> : null}
              </button>
            </li>
          ))}
        </ul>
        <div className="sidebar-foot">
          <div>{host}</div>
          <div className={engine?.state === 'connected' ? 'ok-text' : 'muted'}>
            {engine ? (engine.state === 'connected' ? `${engine.info.name} ${engine.info.version}` : 'No container engine') : 'Checking engine…'}
          </div>
        </div>
      </nav>
      <main className="content">
        {statusError ? (
          <div className="banner bad" role="alert">
            <strong>Cannot read binfmt_misc:</strong> {statusError.message} {statusError.hint}
          </div>
        ) : null}
        {status && status.vanished.length > 0 ? (
          <div className="banner warn" role="status">
            <strong>
              {status.vanished.map((v) => v.name).join(', ')} {status.vanished.length > 1 ? 'are' : 'is'} gone from the kernel.
            </strong>{' '}
            Archway installed {status.vanished.length > 1 ? 'them' : 'it'}; a reboot or systemd-binfmt restarting removed {status.vanished.length > 1 ? 'them' : 'it'}.{' '}
            <button type="button" className="primary small-btn" onClick={() => void plan({ action: 'install', archs: status.vanished.map((v) => v.cpu) })}>
              Put back
            </button>
          </div>
        ) : null}
        {status?.warnings
          .filter((w) => !(status.vanished.length > 0 && w.includes('gone from the kernel')))
          .map((w) => (
            <div className="banner warn" role="status" key={w}>
              {w}
            </div>
          ))}
        {view === 'architectures' || view === null ? <Architectures status={status} onAction={plan} busy={!!planState} /> : null}
        {view === 'test-run' || runVisited ? (
          <TestRun
            visible={view === 'test-run'}
            status={status}
            engine={engine}
            run={run}
            transcript={transcript.current}
            transcriptVersion={transcriptVersion}
            onStart={startRun}
            onCancel={cancelRun}
            onFix={(intent) => void plan(intent)}
          />
        ) : null}
        {view === 'engine' ? <ContainerEnginePane engine={engine} onRefresh={() => api.getContainerEngine({ refresh: true }).then(setEngine)} onFetch={(archs) => void planFetch(archs)} busy={!!planState} onListEngines={listEngines} onChooseEngine={chooseEngine} onImport={(path) => void planImport(path)} /> : null}
        {view === 'activity' ? <Activity tick={auditTick} /> : null}
        {view === 'machines' ? <Machines /> : null}
      </main>
      {planState ? (
        <PlanDialog
          state={planState}
          onCancel={cancelPlan}
          onApply={apply}
          onOverride={(kind) => planState.plan?.intent && void plan({ ...planState.plan.intent, [kind]: true })}
        />
      ) : null}
      <Toasts toasts={toasts} onDismiss={dismiss} />
    </div>
  );
}
