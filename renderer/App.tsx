/**
 * The window: composes navigation, the views and the dialogs. It holds no state of its own: each
 * domain's state lives in renderer/stores/<domain>.ts (status, engine, plans, runs, toasts,
 * notifications, nav), started by connectStores; each view reads the store of what it shows.
 */
import { useEffect, type ReactNode } from 'react';
import type { View } from '../shared/ipc/contract';
import { useApi } from './api';
import { PlanDialog } from './components/PlanDialog';
import { Toasts } from './components/Toasts';
import { Banners } from './views/Banners';
import { Activity } from './views/Activity';
import { Architectures } from './views/Architectures';
import { ContainerEnginePane } from './views/ContainerEngine';
import { Machines } from './views/Machines';
import { Sidebar } from './views/Sidebar';
import { TestRun } from './views/TestRun';
import { connectStores } from './stores/connect';
import { useView, useVisited } from './stores/nav';
import { applyPlan, cancelPlan, overridePlan, usePlanState } from './stores/plans';
import { dismissToast, useToasts } from './stores/toasts';

/** The views, in the sidebar's order. `keepMounted`: once opened, stays mounted while hidden (its work goes on). */
export const NAV: { id: View; label: string; keepMounted?: boolean; render: (visible: boolean) => ReactNode }[] = [
  { id: 'architectures', label: 'Architectures', render: () => <Architectures /> },
  { id: 'test-run', label: 'Test run', keepMounted: true, render: (visible) => <TestRun visible={visible} /> },
  { id: 'engine', label: 'Engine', render: () => <ContainerEnginePane /> },
  { id: 'activity', label: 'Activity', render: () => <Activity /> },
  { id: 'machines', label: 'Machines', render: () => <Machines /> },
];

export function App() {
  const api = useApi();
  useEffect(() => connectStores(api), [api]);
  const view = useView() ?? 'architectures';
  return (
    <div className="app">
      <Sidebar items={NAV} />
      <main className="content">
        <Banners />
        {NAV.map((n) => (
          <ViewSlot key={n.id} id={n.id} shown={view === n.id} keepMounted={!!n.keepMounted} render={n.render} />
        ))}
      </main>
      <PlanDialogSlot />
      <ToastsSlot />
    </div>
  );
}

function ViewSlot({ id, shown, keepMounted, render }: { id: View; shown: boolean; keepMounted: boolean; render: (visible: boolean) => ReactNode }) {
  const visited = useVisited(id);
  return shown || (keepMounted && visited) ? <>{render(shown)}</> : null;
}

function PlanDialogSlot() {
  const api = useApi();
  const state = usePlanState();
  return state ? <PlanDialog state={state} onCancel={() => cancelPlan(api)} onApply={() => void applyPlan(api)} onOverride={(kind) => void overridePlan(api, kind)} /> : null;
}

function ToastsSlot() {
  return <Toasts toasts={useToasts()} onDismiss={dismissToast} />;
}
