// @vitest-environment happy-dom
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApplyView, ContainerEngineView, Prefs } from '../shared/ipc/contract';
import type { ArchwayNotification } from '../shared/notifications';
import { App } from './App';
import { cleanupAll, fakeApi, renderWithApi, type Answers } from './testing/api';
import { planView } from './testing/plans';
import { mixedStatus } from './testing/statuses';

afterEach(cleanupAll);

const ABSENT: ContainerEngineView = { state: 'absent', checkedAt: 0, error: { code: 'daemon-not-running', message: 'Docker is not running.' } };

function setup(answers: Answers = {}) {
  const prefs: Prefs = { lastView: 'architectures' };
  const fake = fakeApi({
    getPrefs: () => prefs,
    setPrefs: (p) => Object.assign(prefs, p),
    getStatus: () => mixedStatus(),
    getContainerEngine: () => ABSENT,
    getAudit: () => [],
    ...answers,
  });
  return { ...renderWithApi(<App />, fake), prefs };
}

describe('App: composes the views; state lives in the stores', () => {
  it('starts on the remembered view and remembers the next one', async () => {
    const { fake, prefs } = setup({ getPrefs: () => ({ lastView: 'activity' }) });
    await screen.findByRole('heading', { name: 'Activity' });
    fireEvent.click(screen.getByRole('button', { name: 'Engine' }));
    await screen.findByRole('heading', { name: 'Engine' });
    expect(fake.requests('setPrefs')).toEqual([{ lastView: 'engine' }]);
    expect(prefs.lastView).toBe('engine');
  });

  it('one plan flow: an action plans, the dialog shows it, Apply applies it once, a toast and a fresh status follow', async () => {
    const applied: ApplyView = {
      ok: true,
      exitCode: 0,
      repairs: [],
      results: [{ op: 'install', arch: 'riscv64', name: 'qemu-riscv64', ok: true, changed: true, message: 'registered qemu-riscv64' }],
    };
    const { fake } = setup({ plan: (intent) => planView({ intent }), apply: () => applied });
    fireEvent.click(await screen.findByRole('button', { name: 'Install linux/riscv64' }));
    const dialog = await screen.findByRole('dialog');
    expect(fake.requests('plan')).toEqual([{ action: 'install', archs: ['riscv64'] }]);
    const statusReads = fake.requests('getStatus').length;
    fireEvent.click(within(dialog).getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(fake.requests('apply')).toEqual([{ planId: 'plan-0001-aaaa' }]);
    await waitFor(() => expect(document.querySelector('.toast')?.textContent).toContain('registered qemu-riscv64'));
    await waitFor(() => expect(fake.requests('getStatus').length).toBe(statusReads + 1));
  });

  it('a notification from main shows as a toast whose action starts the plan flow', async () => {
    const { fake } = setup({ plan: (intent) => planView({ intent }) });
    await screen.findByRole('heading', { name: 'Architectures' });
    const n: ArchwayNotification = {
      id: 'handler-vanished:t:qemu-aarch64',
      kind: 'handler-vanished',
      time: 't',
      urgency: 'critical',
      names: ['qemu-aarch64'],
      title: 'qemu-aarch64 is gone from the kernel',
      body: 'Archway installed it.',
      action: { label: 'Put back', intent: { action: 'install', archs: ['aarch64'] } },
    };
    act(() => fake.emit('notification', n));
    act(() => fake.emit('notification', n)); // the same happening twice: shown once
    const toasts = document.querySelectorAll('.toast');
    expect(toasts).toHaveLength(1);
    expect(toasts[0]!.getAttribute('role')).toBe('alert');
    fireEvent.click(within(toasts[0] as HTMLElement).getByRole('button', { name: 'Put back' }));
    await screen.findByRole('dialog');
    expect(fake.requests('plan')).toEqual([{ action: 'install', archs: ['aarch64'] }]);
    expect(document.querySelectorAll('.toast')).toHaveLength(0);
  });

  it('a run-finished notification opens the Test run view', async () => {
    const { fake } = setup();
    await screen.findByRole('heading', { name: 'Architectures' });
    act(() =>
      fake.emit('notification', {
        id: 'run-finished:r1',
        kind: 'run-finished',
        time: 't',
        urgency: 'normal',
        names: ['linux/arm64'],
        title: 'Test run finished: 1 ok',
        body: 'linux/arm64: ok',
        action: { label: 'Show the run', view: 'test-run' },
      }),
    );
    fireEvent.click(screen.getByRole('button', { name: 'Show the run' }));
    await screen.findByRole('heading', { name: 'Test run' });
  });
});
