// @vitest-environment happy-dom
import { act, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Intent } from '../../shared/actions';
import { plansStore } from '../stores/plans';
import { setStatus } from '../stores/status';
import { cleanupAll, renderWithApi } from '../testing/api';
import { mixedStatus } from '../testing/statuses';
import { Architectures } from './Architectures';

afterEach(cleanupAll);

/** The view reads the status store; its actions are the plans it asks main for (the one plan flow). */
function setup(busy = false) {
  setStatus(mixedStatus());
  if (busy) plansStore.set({ plan: null, loading: true, applying: false });
  const utils = renderWithApi(<Architectures />);
  return { intents: (): Intent[] => utils.fake.requests('plan'), ...utils };
}

/** What a person does between two actions: close the plan dialog (while it is open, actions wait). */
const closePlan = () => act(() => plansStore.set(null));

describe('Architectures view', () => {
  it('one row per Docker platform with state, flags as explained chips, owner', () => {
    const { container } = setup();
    const rows = container.querySelectorAll('tbody tr');
    expect(rows).toHaveLength(10);
    const arm = container.querySelector('tr[data-cpu="aarch64"]')!;
    expect(arm.querySelector('.badge')!.textContent).toBe('ready');
    const chips = within(arm as HTMLElement).getAllByRole('img');
    expect(chips.map((c) => c.textContent)).toEqual(['P', 'F']);
    expect(chips[1]!.getAttribute('aria-label')).toContain('works in every container');
    expect(arm.textContent).toContain('archway');
    expect(container.querySelector('tr[data-cpu="s390x"]')!.textContent).toContain('docker-binfmt?');
  });

  it('filters to every CPU and searches', () => {
    const { container } = setup();
    fireEvent.click(screen.getByRole('radio', { name: 'All CPUs' }));
    expect(container.querySelectorAll('tbody tr').length).toBeGreaterThan(30);
    fireEvent.change(screen.getByRole('searchbox', { name: 'Search architectures' }), { target: { value: 'riscv' } });
    expect([...container.querySelectorAll('tbody tr')].map((r) => r.getAttribute('data-cpu'))).toEqual(['riscv32', 'riscv64']);
    fireEvent.change(screen.getByRole('searchbox', { name: 'Search architectures' }), { target: { value: 'zzz' } });
    expect(screen.getByText(/No architecture matches/)).toBeTruthy();
  });

  it('one-click actions send the intent; "Install all missing" sends them all', () => {
    const { intents } = setup();
    fireEvent.click(screen.getByRole('button', { name: 'Install linux/riscv64' }));
    // The plan is open: the next action waits until it is closed.
    expect((screen.getByRole('button', { name: 'Uninstall linux/s390x' }) as HTMLButtonElement).disabled).toBe(true);
    closePlan();
    fireEvent.click(screen.getByRole('button', { name: 'Uninstall linux/s390x' }));
    closePlan();
    fireEvent.click(screen.getByRole('button', { name: 'Install all missing (1)' }));
    expect(intents()).toEqual([
      { action: 'install', archs: ['riscv64'] },
      { action: 'uninstall', archs: ['s390x'] },
      { action: 'install', archs: ['riscv64'] },
    ]);
  });

  it('a handler owned by another tool says so before anything is clicked', () => {
    setup();
    expect(screen.getByRole('button', { name: 'Uninstall linux/s390x' }).getAttribute('title')).toMatch(/owns this handler: Archway will ask/);
    expect(screen.getByRole('button', { name: 'Uninstall linux/arm64' }).getAttribute('title')).toBeNull();
  });

  it('actions wait while a plan is open', () => {
    setup(true);
    expect((screen.getByRole('button', { name: 'Install linux/riscv64' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('installing from the details: C only when its box is ticked, with the risk shown beside it', () => {
    const { intents } = setup();
    fireEvent.click(screen.getByRole('button', { name: 'Details for linux/riscv64' }));
    const drawer = screen.getByRole('complementary', { name: 'Details' });
    const box = within(drawer).getByRole('checkbox', { name: /allow setuid \(C\)/ }) as HTMLInputElement;
    expect(box.checked).toBe(false);
    expect(drawer.textContent).not.toContain('QEMU_LOG_FILENAME');
    fireEvent.click(within(drawer).getByRole('button', { name: 'Install' }));
    closePlan();
    fireEvent.click(box);
    expect(drawer.textContent).toContain('QEMU_LOG_FILENAME');
    fireEvent.click(within(drawer).getByRole('button', { name: 'Install' }));
    expect(intents()).toEqual([
      { action: 'install', archs: ['riscv64'] },
      { action: 'install', archs: ['riscv64'], allowSetuid: true },
    ]);
  });

  it('the detail shows the raw entry, decoded magic, checks with fixes, and closes', () => {
    setup();
    fireEvent.click(screen.getByRole('button', { name: 'Details for linux/s390x' }));
    const drawer = screen.getByRole('complementary', { name: 'Details' });
    expect(drawer.querySelector('pre.raw')!.textContent).toContain('interpreter /usr/bin/qemu-s390x');
    expect(within(drawer).getByRole('table', { name: 'Magic bytes and mask' })).toBeTruthy();
    // s390x was registered without C: no setuid risk is reported, and nothing nudges towards C.
    expect(drawer.textContent).not.toContain('QEMU_LOG_FILENAME');
    expect(drawer.textContent).toContain('probably `docker run --privileged tonistiigi/binfmt --install`');
    fireEvent.click(within(drawer).getByRole('button', { name: 'Close details' }));
    expect(screen.queryByRole('complementary', { name: 'Details' })).toBeNull();
  });

  it('says it is reading while there is no status yet', () => {
    renderWithApi(<Architectures />);
    expect(screen.getByText('Reading binfmt_misc…')).toBeTruthy();
  });
});
