// @vitest-environment happy-dom
// The shells store and its tabs, against the real contract API (createApi) over an in-memory
// transport standing in for main: events in any order, close → closeShell, and what is sanitised.
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { createApi, type Transport } from '../../shared/ipc/api';
import { EVENTS, INVOKES, type EventName, type EventPayload } from '../../shared/ipc/contract';
import { ApiContext } from '../api';
import { Shells } from '../components/Shells';
import { attachOutput, closeShellTab, openShellTab, shellsStore } from './shells';

afterEach(() => {
  cleanup();
  shellsStore.set({ tabs: [], active: null });
});

function fakeMain() {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const calls: { channel: string; payload: unknown }[] = [];
  let n = 0;
  const transport: Transport = {
    invoke: async (channel, payload) => {
      calls.push({ channel, payload });
      if (channel === INVOKES.openShell.channel) return { ok: true, value: { shellId: `shell-000${++n}` } };
      return { ok: true, value: { closed: true } };
    },
    on: (channel, l) => {
      const set = listeners.get(channel) ?? new Set();
      set.add(l);
      listeners.set(channel, set);
      return () => set.delete(l);
    },
  };
  const emit = <K extends EventName>(k: K, p: EventPayload<K>) => act(() => listeners.get(EVENTS[k].channel)?.forEach((l) => l(p)));
  return { api: createApi(transport), calls, emit };
}

describe('shell tabs', () => {
  it('opens a tab, keeps output for a terminal that attaches late, shows the exit, and closing asks main to remove the container', async () => {
    const main = fakeMain();
    await openShellTab(main.api, { image: 'busybox', platform: 'linux/arm64', cols: 80, rows: 24 });
    const [tab] = shellsStore.get().tabs;
    expect(tab).toMatchObject({ shellId: 'shell-0001', state: 'opening' });
    main.emit('shellOpened', { shellId: 'shell-0001', containerId: 'c1', platform: 'linux/arm64', imagePlatform: 'linux/arm64/v8', command: ['/bin/sh'], why: 'runs /bin/sh' });
    main.emit('shellOutput', { shellId: 'shell-0001', data: '\u001b[31mred\u001b[0m / # ' });
    const seen: string[] = [];
    attachOutput('shell-0001', (d) => seen.push(d));
    main.emit('shellOutput', { shellId: 'shell-0001', data: 'aarch64\r\n' });
    // The TTY stream is not sanitised: escape sequences reach the terminal as sent.
    expect(seen).toEqual(['\u001b[31mred\u001b[0m / # ', 'aarch64\r\n']);
    main.emit('shellExit', { shellId: 'shell-0001', exitCode: 3 });
    expect(shellsStore.get().tabs[0]).toMatchObject({ state: 'exited', exitCode: 3 });
    await closeShellTab(main.api, 'shell-0001');
    expect(shellsStore.get().tabs).toEqual([]);
    // An ended shell has no container left to remove: main is not asked.
    expect(main.calls.filter((c) => c.channel === INVOKES.closeShell.channel)).toEqual([]);

    await openShellTab(main.api, { image: 'busybox', platform: 'linux/arm64', cols: 80, rows: 24 });
    await closeShellTab(main.api, 'shell-0002');
    expect(main.calls.filter((c) => c.channel === INVOKES.closeShell.channel).map((c) => c.payload)).toEqual([{ shellId: 'shell-0002' }]);
  });

  it('a shell that cannot start shows the diagnosis with its fix; titles and messages are sanitised', async () => {
    const main = fakeMain();
    const fixes: unknown[] = [];
    render(
      <ApiContext.Provider value={main.api}>
        <Shells visible dark={false} onFix={(i) => fixes.push(i)} />
      </ApiContext.Provider>,
    );
    await act(() => openShellTab(main.api, { image: 'evil\u001b]0;pwned\u0007img', platform: 'linux/arm64', cols: 80, rows: 24 }));
    main.emit('shellExit', {
      shellId: 'shell-0001',
      exitCode: null,
      diagnosis: { status: 'no-handler', message: 'linux/arm64: exec format error\u001b[2J: no binfmt_misc handler runs aarch64 programs', fix: 'archway install arm64', intent: { action: 'install', archs: ['arm64'] } },
    });
    const tab = screen.getByRole('tab');
    expect(tab.textContent).toContain('linux/arm64 · evilimg');
    expect(tab.textContent).toContain('could not start');
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('exec format error: no binfmt_misc handler');
    expect(alert.textContent).not.toContain('\u001b');
    fireEvent.click(screen.getByRole('button', { name: 'Install arm64' }));
    expect(fixes).toEqual([{ action: 'install', archs: ['arm64'] }]);
  });
});
