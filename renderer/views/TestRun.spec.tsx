// @vitest-environment happy-dom
import { fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerEngineView } from '../../shared/ipc/contract';
import type { ProbeResult } from '../../shared/probe';
import { applyDone, IDLE, newRun, type RunState } from '../lib/run';
import { engineStore } from '../stores/engine';
import { runsStore } from '../stores/runs';
import { setStatus } from '../stores/status';
import { cleanupAll, renderWithApi } from '../testing/api';
import { mixedStatus } from '../testing/statuses';
import { TestRun } from './TestRun';

afterEach(cleanupAll);

const UP: ContainerEngineView = {
  state: 'connected',
  checkedAt: 0,
  info: { endpoint: 'unix:///var/run/docker.sock', source: 'default', name: 'Docker Engine', version: '27', apiVersion: '1.47', os: 'linux', arch: 'amd64', hostMachine: 'x86_64', imageStore: 'classic', rootless: false },
};
const DOWN: ContainerEngineView = { state: 'absent', checkedAt: 0, error: { code: 'daemon-not-running', message: 'Docker is not running.' } };

const noHandler: ProbeResult = {
  platform: 'linux/arm64', image: 'busybox', command: ['uname', '-m'], status: 'no-handler',
  message: 'linux/arm64: exec format error: no binfmt_misc handler runs aarch64 programs', fix: 'archway install arm64', intent: { action: 'install', archs: ['arm64'] },
  expected: ['aarch64'], exitCode: 1, stdout: { text: '', totalBytes: 0, droppedBytes: 0 }, stderr: { text: 'exec format error', totalBytes: 17, droppedBytes: 0 }, durationMs: 300, pulled: false,
};

/** The view reads the runs, status and engine stores; starting, cancelling and fixing are calls to main. */
function setup(run: RunState = IDLE, engine: ContainerEngineView = UP) {
  setStatus(mixedStatus());
  engineStore.set(engine);
  runsStore.set((s) => ({ ...s, run }));
  const { fake } = renderWithApi(<TestRun visible />);
  return { started: () => fake.requests('startProbe'), fixes: () => fake.requests('plan'), cancelled: () => fake.requests('cancelProbe').length };
}

describe('Test run view', () => {
  it('runs the command on the chosen platforms (argv, not a shell string)', () => {
    const { started } = setup();
    fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'alpine:3.20' } });
    fireEvent.change(screen.getByLabelText('Command'), { target: { value: 'sh -c "uname -m; id"' } });
    fireEvent.click(screen.getByLabelText(/linux\/s390x/));
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    expect(started()).toEqual([{ image: 'alpine:3.20', platforms: ['linux/arm64', 'linux/s390x'], command: ['sh', '-c', 'uname -m; id'] }]);
  });

  it('the grid fills as platforms finish, and a no-handler diagnosis is one click from its fix', () => {
    const run = applyDone(newRun('r1', ['linux/arm64'], 0), { runId: 'r1', results: [noHandler], durationMs: 310 });
    const { fixes } = setup(run);
    expect(screen.getByRole('listitem', { name: 'linux/arm64: no-handler' }).textContent).toContain('✗');
    expect(screen.getByText(/exec format error: no binfmt_misc handler/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Install arm64' }));
    expect(fixes()).toEqual([{ action: 'install', archs: ['arm64'] }]);
    expect(screen.getByText('Finished in 310 ms')).toBeTruthy();
  });

  it('Cancel works while running; Run waits', () => {
    const { cancelled } = setup(newRun('r2', ['linux/arm64'], 0));
    expect((screen.getByRole('button', { name: 'Run' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(cancelled()).toBe(1);
  });

  it('without an engine it says why up front; Run still tries (the last check may be stale)', () => {
    const { started } = setup(IDLE, DOWN);
    expect(screen.getByRole('status').textContent).toContain('Docker is not running.');
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    expect(started()).toHaveLength(1);
  });
});
