// @vitest-environment happy-dom
// The scope switch (issue 10): this machine / my rootless Podman / my rootless Docker. In a
// rootless scope the table is the engine's own instance and every action carries intent.scope.
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Intent } from '../../shared/actions';
import type { ArchwayApi } from '../../shared/ipc/api';
import type { ScopeView } from '../../shared/rootless';
import { ApiContext } from '../api';
import { chooseScope } from '../stores/scope';
import { makeStatus, mixedStatus, S390X_EMU } from '../testing/statuses';
import { Architectures } from './Architectures';

afterEach(() => {
  cleanup();
  act(() => chooseScope('host'));
});

const podman: ScopeView = {
  scope: 'podman',
  label: 'my rootless Podman',
  running: true,
  pid: 1234,
  instance: 'own',
  status: makeStatus([{ cpu: 's390x', interpreter: S390X_EMU, flags: 'F', archway: true }]),
  uses: [],
  missing: ['aarch64'],
};

function setup(views: ScopeView[]) {
  const intents: Intent[] = [];
  const reapplied: string[] = [];
  const api = {
    getScopes: async () => views,
    reapplyScope: async ({ scope }: { scope: string }) => {
      reapplied.push(scope);
      return { ok: true, results: [{ op: 'install', arch: 'aarch64', ok: true, changed: true, message: 'register qemu-aarch64' }], repairs: [], exitCode: 0 };
    },
    onStatusChanged: () => () => {},
  } as unknown as ArchwayApi;
  const utils = render(
    <ApiContext.Provider value={api}>
      <Architectures status={mixedStatus()} onAction={(i) => intents.push(i)} busy={false} />
    </ApiContext.Provider>,
  );
  return { intents, reapplied, ...utils };
}

describe('Architectures: scope switch', () => {
  it('my rootless Podman: its own table, actions carry scope, re-apply offered for what is gone', async () => {
    const { container, intents, reapplied } = setup([podman]);
    expect(container.querySelector('tr[data-cpu="aarch64"] .badge')!.textContent).toBe('ready'); // the host's table
    fireEvent.click(screen.getByRole('radio', { name: 'My rootless Podman' }));
    await waitFor(() => expect(screen.getByText(/has its own binfmt_misc instance/)).toBeTruthy());
    expect(container.querySelector('tr[data-cpu="s390x"] .badge')!.textContent).toBe('ready');
    expect(container.querySelector('tr[data-cpu="aarch64"] .badge')!.textContent).toBe('missing');
    fireEvent.click(screen.getByRole('button', { name: /^Install linux\/arm64/ }));
    expect(intents.at(-1)).toMatchObject({ action: 'install', scope: 'podman' });
    fireEvent.click(screen.getByRole('button', { name: 'Re-apply (no password)' }));
    await waitFor(() => expect(screen.getByText(/Registered again: aarch64/)).toBeTruthy());
    expect(reapplied).toEqual(['podman']);
  });

  it('an engine that is not running says why; back on this machine, actions carry no scope', async () => {
    const { intents } = setup([{ scope: 'docker', label: 'my rootless Docker', running: false, instance: 'none', uses: [], missing: [], why: 'no rootless Docker namespace is running' }]);
    fireEvent.click(screen.getByRole('radio', { name: 'My rootless Docker' }));
    await waitFor(() => expect(screen.getByText(/no rootless Docker namespace is running/)).toBeTruthy());
    fireEvent.click(screen.getByRole('radio', { name: 'This machine' }));
    fireEvent.click(screen.getAllByRole('button', { name: /^Install / })[0]!);
    expect(intents.at(-1)?.scope).toBeUndefined();
  });
});
