// @vitest-environment happy-dom
// The scope switch (issue 10): this machine / my rootless Podman / my rootless Docker. In a
// rootless scope the table is the engine's own instance and every action carries intent.scope.
import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Intent } from '../../shared/actions';
import type { ScopeView } from '../../shared/rootless';
import { cancelPlan } from '../stores/plans';
import { setStatus } from '../stores/status';
import { cleanupAll, fakeApi, renderWithApi } from '../testing/api';
import { makeStatus, mixedStatus, S390X_EMU } from '../testing/statuses';
import { Architectures } from './Architectures';

afterEach(cleanupAll);

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

/** The connected view against a window API built by createApi: what main receives is what is checked. */
function setup(views: ScopeView[]) {
  setStatus(mixedStatus());
  const fake = fakeApi({
    getScopes: async () => views,
    reapplyScope: async () => ({ ok: true, results: [{ op: 'install', arch: 'aarch64', ok: true, changed: true, message: 'register qemu-aarch64' }], repairs: [], exitCode: 0 }) as never,
  });
  const utils = renderWithApi(<Architectures />, fake);
  return {
    ...utils,
    /** The intents the view asked main to plan (the plan dialog is not part of this view). */
    get intents(): Intent[] {
      return fake.requests('plan') as Intent[];
    },
    get reapplied(): string[] {
      return fake.requests('reapplyScope').map((r) => (r as { scope: string }).scope);
    },
  };
}

describe('Architectures: scope switch', () => {
  it('my rootless Podman: its own table, actions carry scope, re-apply offered for what is gone', async () => {
    const view = setup([podman]);
    const { container } = view;
    expect(container.querySelector('tr[data-cpu="aarch64"] .badge')!.textContent).toBe('ready'); // the host's table
    fireEvent.click(screen.getByRole('radio', { name: 'My rootless Podman' }));
    await waitFor(() => expect(screen.getByText(/has its own binfmt_misc instance/)).toBeTruthy());
    expect(container.querySelector('tr[data-cpu="s390x"] .badge')!.textContent).toBe('ready');
    expect(container.querySelector('tr[data-cpu="aarch64"] .badge')!.textContent).toBe('missing');
    fireEvent.click(screen.getByRole('button', { name: /^Install linux\/arm64/ }));
    expect(view.intents.at(-1)).toMatchObject({ action: 'install', scope: 'podman' });
    // The plan dialog would open now (main has not answered); close it, as the user would.
    act(() => cancelPlan(view.fake.api));
    fireEvent.click(screen.getByRole('button', { name: 'Re-apply (no password)' }));
    await waitFor(() => expect(screen.getByText(/Registered again: aarch64/)).toBeTruthy());
    expect(view.reapplied).toEqual(['podman']);
  });

  it('an engine that is not running says why; back on this machine, actions carry no scope', async () => {
    const view = setup([{ scope: 'docker', label: 'my rootless Docker', running: false, instance: 'none', uses: [], missing: [], why: 'no rootless Docker namespace is running' }]);
    fireEvent.click(screen.getByRole('radio', { name: 'My rootless Docker' }));
    await waitFor(() => expect(screen.getByText(/no rootless Docker namespace is running/)).toBeTruthy());
    fireEvent.click(screen.getByRole('radio', { name: 'This machine' }));
    fireEvent.click(screen.getAllByRole('button', { name: /^Install / })[0]!);
    expect(view.intents.at(-1)?.scope).toBeUndefined();
  });
});
