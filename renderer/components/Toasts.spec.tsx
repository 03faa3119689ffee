// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useCallback, useState } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addToast, Toasts, TOAST_FADE_MS, type Toast } from './Toasts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

/** The toast list as App keeps it: pushed with addToast, removed through onDismiss. */
function Harness({ initial, onPush }: { initial: Omit<Toast, 'id'>[]; onPush?: (push: (t: Omit<Toast, 'id'>) => void) => void }) {
  const [toasts, setToasts] = useState<Toast[]>(() => initial.reduce<Toast[]>((ts, t, i) => addToast(ts, { ...t, id: i + 1 }), []));
  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);
  onPush?.((t) => setToasts((ts) => addToast(ts, { ...t, id: ts.length + 100 })));
  return <Toasts toasts={toasts} onDismiss={dismiss} />;
}

const advance = (ms: number) => act(() => void vi.advanceTimersByTime(ms));
const titles = () => [...document.querySelectorAll('.toast strong')].map((n) => n.textContent);

describe('Toasts', () => {
  it('a plain confirmation fades after a few seconds; an error stays until closed', () => {
    render(<Harness initial={[{ tone: 'ok', title: 'Done' }, { tone: 'bad', title: 'Not applied' }]} />);
    expect(titles()).toEqual(['Done', 'Not applied']);
    advance(TOAST_FADE_MS - 1);
    expect(titles()).toEqual(['Done', 'Not applied']);
    advance(1);
    expect(titles()).toEqual(['Not applied']);
    advance(10 * 60_000);
    expect(titles()).toEqual(['Not applied']);
    expect(screen.getByRole('alert').textContent).toContain('Not applied');
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(titles()).toEqual([]);
  });

  it('a toast with an action stays until closed; its action runs and closes it', () => {
    const onClick = vi.fn();
    render(<Harness initial={[{ tone: 'ok', title: 'Emulators fetched', action: { label: 'Install from store', onClick } }]} />);
    advance(10 * 60_000);
    expect(titles()).toEqual(['Emulators fetched']);
    fireEvent.click(screen.getByRole('button', { name: 'Install from store' }));
    expect(onClick).toHaveBeenCalledTimes(1);
    expect(titles()).toEqual([]);
  });

  it('does not fade while hovered or while focus is inside it (time to read), and fades after', () => {
    render(<Harness initial={[{ tone: 'ok', title: 'Done' }]} />);
    const toast = screen.getByRole('status');
    fireEvent.mouseEnter(toast);
    advance(TOAST_FADE_MS * 4);
    expect(titles()).toEqual(['Done']);
    fireEvent.mouseLeave(toast);
    fireEvent.focus(screen.getByRole('button', { name: 'Dismiss' }));
    advance(TOAST_FADE_MS * 4);
    expect(titles()).toEqual(['Done']);
    fireEvent.blur(screen.getByRole('button', { name: 'Dismiss' }));
    advance(TOAST_FADE_MS);
    expect(titles()).toEqual([]);
  });

  it('many confirmations never push out an error or an action toast', () => {
    let push!: (t: Omit<Toast, 'id'>) => void;
    render(<Harness initial={[{ tone: 'bad', title: 'Not applied' }]} onPush={(p) => (push = p)} />);
    act(() => {
      for (let i = 0; i < 6; i++) push({ tone: 'ok', title: `Done ${i}` });
    });
    expect(titles()[0]).toBe('Not applied');
    expect(titles().length).toBeLessThanOrEqual(4);
    advance(TOAST_FADE_MS);
    expect(titles()).toEqual(['Not applied']);
  });
});
