// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FleetCell, FleetHost, FleetMatrix } from '../../shared/fleet';
import type { ArchwayApi } from '../../shared/ipc/api';
import { ApiContext } from '../api';
import { INITIAL_MACHINES, machinesStore } from '../stores/machines';
import { Machines } from './Machines';

afterEach(cleanup);
beforeEach(() => machinesStore.set(INITIAL_MACHINES));

const cells = (ready: string[]): FleetCell[] => (['x86_64', 'aarch64', 'riscv64'] as const).map((cpu) => ({ cpu, state: cpu === 'x86_64' ? 'native' : ready.includes(cpu) ? 'ready' : 'missing', cRisk: false }) as FleetCell);
const host = (id: string, ready: string[]): FleetHost => ({ id, name: id, kind: 'docker-context', endpoint: `ssh://${id}`, reach: 'ok', machine: 'x86_64', cells: cells(ready) });
const MATRIX: FleetMatrix = {
  cpus: ['x86_64', 'aarch64', 'riscv64'],
  hosts: [host('ws', []), host('b-1', ['aarch64']), { id: 'ci', name: 'ci', kind: 'docker-context', endpoint: 'tcp://ci:2376', reach: 'timeout', error: { code: 'timeout', message: 'did not answer within 10 s' }, cells: [] }],
  differences: [],
};

function fakeApi(calls: string[]): ArchwayApi {
  return {
    getFleet: async () => {
      calls.push('getFleet');
      return MATRIX;
    },
    planFleetMatch: async (r: { target: string; model: string }) => {
      calls.push(`plan ${r.target} like ${r.model}`);
      return { planId: 'plan-0001', target: r.target, model: r.model, endpoint: 'ssh://ws', cpus: ['aarch64'], planned: [{ op: 'install', arch: 'aarch64', name: 'qemu-aarch64', ok: true, changed: true, message: 'register qemu-aarch64 → /usr/bin/qemu-aarch64-static with flags F', register: ':qemu-aarch64:M::x:y:/usr/bin/qemu-aarch64-static:F' }] };
    },
    applyFleetPlan: async (r: { planId: string }) => {
      calls.push(`apply ${r.planId}`);
      return { host: 'ws', ok: true, results: [{ name: 'qemu-aarch64', message: 'registered qemu-aarch64', changed: true }] };
    },
  } as unknown as ArchwayApi;
}

describe('Machines view', () => {
  it('asks for the matrix when opened; a host that did not answer says so', async () => {
    const calls: string[] = [];
    render(
      <ApiContext.Provider value={fakeApi(calls)}>
        <Machines />
      </ApiContext.Provider>,
    );
    const table = await screen.findByRole('table', { name: 'Hosts and platforms' });
    expect(calls).toEqual(['getFleet']);
    const ci = table.querySelector('tr[data-host="ci"]')!;
    expect(ci.textContent).toMatch(/no answer: did not answer within 10 s/);
    expect(table.querySelector('tr[data-host="b-1"] td[data-cpu="aarch64"]')!.textContent).toBe('ready');
  });

  it('"make like": the plan shows the register strings before anything is applied; apply sends that plan id once', async () => {
    const calls: string[] = [];
    render(
      <ApiContext.Provider value={fakeApi(calls)}>
        <Machines />
      </ApiContext.Provider>,
    );
    await screen.findByRole('table', { name: 'Hosts and platforms' });
    fireEvent.change(screen.getByLabelText('Model host'), { target: { value: 'b-1' } });
    const row = document.querySelector('tr[data-host="ws"]') as HTMLElement;
    fireEvent.click(within(row).getByRole('button', { name: 'Make like b-1' }));
    const dialog = await screen.findByRole('dialog', { name: 'Make ws like b-1' });
    expect(dialog.textContent).toMatch(/:qemu-aarch64:M::x:y:\/usr\/bin\/qemu-aarch64-static:F/);
    expect(calls).toEqual(['getFleet', 'plan ws like b-1']);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Install aarch64 on ws' }));
    await waitFor(() => expect(dialog.textContent).toMatch(/Done on ws: registered qemu-aarch64/));
    expect(calls.filter((c) => c.startsWith('apply'))).toEqual(['apply plan-0001']);
    // The model host itself cannot be made like itself.
    const b1 = document.querySelector('tr[data-host="b-1"]') as HTMLElement;
    expect((within(b1).getByRole('button', { name: 'Make like b-1' }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('Machines view: Kubernetes nodes', () => {
  it('node rows from the same matrix are read-only: no "make like", not offered as a model, the kube apply command shown; a pending node says why', async () => {
    const node = (name: string, reach: FleetHost['reach'], c: FleetCell[], error?: FleetHost['error']): FleetHost => ({ id: `node/${name}`, name, kind: 'kubernetes-node', endpoint: 'kube:prod', reach, machine: 'x86_64', nodeArch: 'amd64', cells: c, ...(error ? { error } : {}) });
    const m: FleetMatrix = {
      ...MATRIX,
      hosts: [
        ...MATRIX.hosts,
        node('w1', 'ok', [{ cpu: 'x86_64', state: 'native', cRisk: false }, { cpu: 'aarch64', state: 'conflict', cRisk: false, handler: 'qemu-aarch64', note: 'an entry of this name differs' }]),
        node('w2', 'pending', [{ cpu: 'x86_64', state: 'native', cRisk: false }, { cpu: 'aarch64', state: 'missing', cRisk: false, note: 'ImagePullBackOff' }], { code: 'pending', message: 'ImagePullBackOff' }),
      ],
    };
    const api = { getFleet: async () => m } as unknown as ArchwayApi;
    render(
      <ApiContext.Provider value={api}>
        <Machines />
      </ApiContext.Provider>,
    );
    const table = await screen.findByRole('table', { name: 'Hosts and platforms' });
    const w1 = table.querySelector('tr[data-host="node/w1"]')!;
    expect(w1.getAttribute('data-kind')).toBe('kubernetes-node');
    expect(w1.querySelector('td[data-cpu="aarch64"]')!.getAttribute('title')).toBe('an entry of this name differs');
    expect(within(w1 as HTMLElement).queryByRole('button')).toBeNull();
    expect(w1.textContent).toContain('read-only');
    expect(table.querySelector('tr[data-host="node/w2"]')!.textContent).toMatch(/pending: ImagePullBackOff/);
    const models = within(screen.getByRole('combobox', { name: 'Model host' })).getAllByRole('option').map((o) => o.textContent);
    expect(models).toEqual(['choose a host', 'ws', 'b-1']);
    expect(document.querySelector('[data-kube-hint]')!.textContent).toContain('archway kube apply ARCH… --image REF@sha256:…');
  });
});
