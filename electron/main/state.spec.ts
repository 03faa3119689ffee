import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SIZE, MIN_SIZE, parseState, restoreBounds, StateFile } from './state';

const dir = mkdtempSync(join(tmpdir(), 'archway-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('window state', () => {
  it('a missing, damaged or foreign file means defaults', () => {
    expect(parseState(undefined)).toEqual({});
    expect(parseState('{nope')).toEqual({});
    expect(parseState(JSON.stringify({ lastView: 'rm -rf' }))).toEqual({});
    expect(parseState(JSON.stringify({ window: { width: 'big', height: 3 } }))).toEqual({});
  });

  it('restores saved bounds only when they are still on a screen', () => {
    const screens = [{ x: 0, y: 0, width: 1920, height: 1080 }];
    expect(restoreBounds(undefined, screens)).toEqual(DEFAULT_SIZE);
    expect(restoreBounds({ x: 100, y: 80, width: 1300, height: 900 }, screens)).toEqual({ x: 100, y: 80, width: 1300, height: 900 });
    // The monitor it was on is gone: keep the size, let the window manager place it.
    expect(restoreBounds({ x: 2500, y: 80, width: 1300, height: 900 }, screens)).toEqual({ width: 1300, height: 900 });
    expect(restoreBounds({ x: 10, y: 10, width: 200, height: 100 }, screens)).toMatchObject({ width: MIN_SIZE.width, height: MIN_SIZE.height });
  });

  it('StateFile remembers the last view and the window, privately and atomically', () => {
    const file = join(dir, 'sub', 'window-state.json');
    const a = new StateFile(file);
    expect(a.get()).toEqual({ lastView: 'architectures' });
    a.set({ lastView: 'test-run' });
    a.saveWindow({ x: 5, y: 6, width: 1000, height: 700 }, false);
    const b = new StateFile(file);
    expect(b.get()).toEqual({ lastView: 'test-run' });
    expect(b.saved.window).toEqual({ x: 5, y: 6, width: 1000, height: 700, maximized: false });
    // Maximised: keep the normal bounds from before.
    b.saveWindow({ x: 0, y: 0, width: 1920, height: 1080 }, true);
    expect(new StateFile(file).saved.window).toEqual({ x: 5, y: 6, width: 1000, height: 700, maximized: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, 'garbage');
    expect(new StateFile(file).get()).toEqual({ lastView: 'architectures' });
    expect(readFileSync(file, 'utf8')).toBe('garbage');
  });
});
