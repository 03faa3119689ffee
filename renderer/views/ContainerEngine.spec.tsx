// @vitest-environment happy-dom
import { act, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerEngineView } from '../../shared/ipc/contract';
import { engineStore } from '../stores/engine';
import { plansStore } from '../stores/plans';
import { cleanupAll, fakeApi, renderWithApi, type Answers } from '../testing/api';
import { ContainerEnginePane } from './ContainerEngine';

afterEach(cleanupAll);

/** The view reads the engine store; fetching asks main for a plan (the one plan flow). */
function setup(engine: ContainerEngineView, answers: Answers = {}) {
  engineStore.set(engine);
  return renderWithApi(<ContainerEnginePane />, fakeApi(answers));
}

const connected = (hostMachine = 'x86_64'): ContainerEngineView => ({
  state: 'connected',
  checkedAt: 0,
  info: {
    name: 'Docker Engine',
    version: '27.0.0',
    apiVersion: '1.46',
    endpoint: 'unix:///var/run/docker.sock',
    source: 'default',
    hostMachine,
    os: 'linux',
    arch: 'amd64',
    imageStore: 'classic',
    rootless: false,
  } as never,
});

describe('Engine view: fetch emulators', () => {
  it('offers the Docker platforms this host does not run natively; the button plans the picked ones', () => {
    const { fake } = setup(connected());
    const section = screen.getByRole('region', { name: 'Fetch emulators' });
    const names = within(section).getAllByRole('checkbox').map((c) => c.parentElement!.textContent);
    expect(names).toContain('aarch64');
    expect(names).toContain('s390x');
    expect(names).not.toContain('x86_64');
    expect(names).not.toContain('i386');
    const button = within(section).getByRole('button', { name: 'Fetch emulators' }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    fireEvent.click(within(section).getByLabelText('s390x'));
    fireEvent.click(within(section).getByLabelText('aarch64'));
    expect(button.disabled).toBe(false);
    fireEvent.click(button);
    // In the list's (catalog) order, whatever the order they were picked in.
    const order = names.filter((n) => n === 'aarch64' || n === 's390x');
    expect(fake.requests('planEmulatorFetch')).toEqual([{ archs: order }]);
  });

  it('is disabled while another plan is open, and absent without an engine', () => {
    plansStore.set({ plan: null, loading: true, applying: false });
    setup(connected());
    fireEvent.click(screen.getByLabelText('all'));
    expect((screen.getByRole('button', { name: 'Fetch emulators' }) as HTMLButtonElement).disabled).toBe(true);
    act(() => plansStore.set(null));
    expect((screen.getByRole('button', { name: 'Fetch emulators' }) as HTMLButtonElement).disabled).toBe(false);
    act(() => engineStore.set({ state: 'absent', checkedAt: 0, error: { code: 'daemon-not-running', message: 'no daemon', hint: 'start it' } }));
    expect(screen.queryByRole('region', { name: 'Fetch emulators' })).toBeNull();
    expect(screen.getByText(/fetching emulators need Docker/)).toBeTruthy();
  });
});

describe('Engine view: engines on this machine', () => {
  const offers = [
    { name: 'docker', endpoint: 'unix:///var/run/docker.sock', what: 'Docker (system), in use (default)', current: true, engine: 'Docker Engine', version: '20.10.24', apiVersion: '1.41', rootless: false },
    { name: 'podman-rootless', endpoint: 'unix:///run/user/1000/podman/podman.sock', what: 'Podman (rootless)', current: false, engine: 'Podman Engine', version: '4.3.1', apiVersion: '1.41', rootless: true },
    { name: 'podman', endpoint: 'unix:///run/podman/podman.sock', what: 'Podman (system)', current: false, error: { code: 'permission-denied', message: 'permission denied on unix:///run/podman/podman.sock' } },
  ];

  it('lists each engine with what it is; only engines that answer can be chosen, through the handler given', async () => {
    const { fake } = setup(connected(), { listContainerEngines: () => offers, chooseContainerEngine: () => connected() });
    const section = screen.getByRole('region', { name: 'Engines on this machine' });
    const rows = await within(section).findAllByRole('row');
    expect(rows).toHaveLength(4);
    expect(rows[1]!.textContent).toContain('in use');
    expect(rows[2]!.textContent).toMatch(/Podman Engine.*Podman \(rootless\).*4\.3\.1.*rootless.*podman\.sock/);
    expect(within(rows[3]!).queryByRole('button')).toBeNull();
    expect(rows[3]!.textContent).toContain('Permission denied on unix:///run/podman/podman.sock');
    fireEvent.click(within(rows[2]!).getByRole('button', { name: 'Use' }));
    expect(fake.requests('chooseContainerEngine')).toEqual([{ name: 'podman-rootless' }]);
  });
});

describe('Engine view: untrusted engine answers', () => {
  it('shows no control character an engine put in its name, version or kernel', () => {
    const hostile = connected();
    Object.assign((hostile as { info: Record<string, unknown> }).info, { name: 'Docker\u001b]0;owned\u0007 Engine', version: '27\u009b2J.0', kernel: '6.1\u0085\u007f' });
    const { container } = setup(hostile);
    const text = container.textContent ?? '';
    expect(text).toContain('Docker Engine 27.0');
    expect(text).toMatch(/kernel 6\.1/);
    expect(/[\u0000-\u001f\u007f-\u009f]/.test(text)).toBe(false);
  });
});
