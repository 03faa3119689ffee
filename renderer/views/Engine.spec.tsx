// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineView } from '../../shared/ipc/contract';
import { EngineViewPane } from './Engine';

afterEach(cleanup);

const connected = (hostMachine = 'x86_64'): EngineView => ({
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
    const asked: string[][] = [];
    render(<EngineViewPane engine={connected()} onRefresh={() => undefined} onFetch={(a) => asked.push(a)} />);
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
    expect(asked).toEqual([order]);
  });

  it('is disabled while another plan is open, and absent without an engine', () => {
    const { rerender } = render(<EngineViewPane engine={connected()} onRefresh={() => undefined} onFetch={() => undefined} busy />);
    fireEvent.click(screen.getByLabelText('all'));
    expect((screen.getByRole('button', { name: 'Fetch emulators' }) as HTMLButtonElement).disabled).toBe(true);
    rerender(
      <EngineViewPane
        engine={{ state: 'absent', checkedAt: 0, error: { code: 'daemon-not-running', message: 'no daemon', hint: 'start it' } }}
        onRefresh={() => undefined}
        onFetch={() => undefined}
      />,
    );
    expect(screen.queryByRole('region', { name: 'Fetch emulators' })).toBeNull();
    expect(screen.getByText(/fetching emulators need Docker/)).toBeTruthy();
  });
});

describe('Engine view: untrusted engine answers', () => {
  it('shows no control character an engine put in its name, version or kernel', () => {
    const hostile = connected();
    Object.assign((hostile as { info: Record<string, unknown> }).info, { name: 'Docker\u001b]0;owned\u0007 Engine', version: '27\u009b2J.0', kernel: '6.1\u0085\u007f' });
    const { container } = render(<EngineViewPane engine={hostile} onRefresh={() => undefined} onFetch={() => undefined} />);
    const text = container.textContent ?? '';
    expect(text).toContain('Docker Engine 27.0');
    expect(text).toMatch(/kernel 6\.1/);
    expect(/[\u0000-\u001f\u007f-\u009f]/.test(text)).toBe(false);
  });
});
