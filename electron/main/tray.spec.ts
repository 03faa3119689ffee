import { describe, expect, it } from 'vitest';
import { makeStatus, AARCH64_EMU } from '../../renderer/testing/statuses';
import { statusSummary } from '../../shared/status-summary';
import { createTray, type TrayDeps } from './tray';

/** Stand-ins for Electron's Tray and Menu (there is no Electron binary here; the real one: test/e2e/electron-tray.test.ts). */
function fakeElectron() {
  const made: { tooltip: string; menu: { label?: string; enabled?: boolean; click?: () => void }[]; handlers: Record<string, () => void>; destroyed: boolean }[] = [];
  class Tray {
    state = { tooltip: '', menu: [] as { label?: string; click?: () => void }[], handlers: {} as Record<string, () => void>, destroyed: false };
    constructor() {
      made.push(this.state);
    }
    setToolTip(t: string) {
      this.state.tooltip = t;
    }
    setContextMenu(m: { items: { label?: string; click?: () => void }[] }) {
      this.state.menu = m.items;
    }
    on(ev: string, f: () => void) {
      this.state.handlers[ev] = f;
    }
    destroy() {
      this.state.destroyed = true;
    }
  }
  const Menu = { buildFromTemplate: (items: unknown[]) => ({ items }) };
  return { made, Tray: Tray as unknown as TrayDeps['Tray'], Menu: Menu as unknown as TrayDeps['Menu'] };
}

describe('createTray (Electron glue)', () => {
  it('tooltip and menu heading are the status summary; a click and "Open Archway" open the window; Quit quits', () => {
    const e = fakeElectron();
    const calls: string[] = [];
    const tray = createTray({ Tray: e.Tray, Menu: e.Menu, icon: '/icon.png', open: () => calls.push('open'), quit: () => calls.push('quit') });
    const t = e.made[0]!;
    expect(t.tooltip).toBe('Archway: reading binfmt_misc…');
    const status = makeStatus([{ cpu: 'aarch64', interpreter: AARCH64_EMU, flags: 'PF', archway: true }]);
    tray.update(status);
    expect(t.tooltip).toBe(statusSummary(status).text);
    expect(tray.summary()).toBe(t.tooltip);
    expect(t.menu[0]).toMatchObject({ label: t.tooltip, enabled: false });
    t.handlers.click!();
    t.menu.find((i) => i.label === 'Open Archway')!.click!();
    t.menu.find((i) => i.label === 'Quit')!.click!();
    expect(calls).toEqual(['open', 'open', 'quit']);
    tray.destroy();
    expect(t.destroyed).toBe(true);
  });
});
