// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dismissToast, toast, useToasts } from '../stores/toasts';
import { resetStores } from '../stores/store';
import { Toasts, TOAST_FADE_MS, type Toast } from './Toasts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  cleanup();
  resetStores();
  vi.useRealTimers();
});

/** The toasts as the window keeps them: the toasts store (toast() pushes through addToast, dismissToast removes). */
function StoreToasts() {
  return <Toasts toasts={useToasts()} onDismiss={dismissToast} />;
}

function show(initial: Omit<Toast, 'id'>[]) {
  for (const t of initial) toast(t);
  return render(<StoreToasts />);
}

const advance = (ms: number) => act(() => void vi.advanceTimersByTime(ms));
const titles = () => [...document.querySelectorAll('.toast strong')].map((n) => n.textContent);

describe('Toasts', () => {
  it('a plain confirmation fades after a few seconds; an error stays until closed', () => {
    show([{ tone: 'ok', title: 'Done' }, { tone: 'bad', title: 'Not applied' }]);
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
    show([{ tone: 'ok', title: 'Emulators fetched', action: { label: 'Install from store', onClick } }]);
    advance(10 * 60_000);
    expect(titles()).toEqual(['Emulators fetched']);
    fireEvent.click(screen.getByRole('button', { name: 'Install from store' }));
    expect(onClick).toHaveBeenCalledTimes(1);
    expect(titles()).toEqual([]);
  });

  it('does not fade while hovered or while focus is inside it (time to read), and fades after', () => {
    show([{ tone: 'ok', title: 'Done' }]);
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
    show([{ tone: 'bad', title: 'Not applied' }]);
    act(() => {
      for (let i = 0; i < 6; i++) toast({ tone: 'ok', title: `Done ${i}` });
    });
    expect(titles()[0]).toBe('Not applied');
    expect(titles().length).toBeLessThanOrEqual(4);
    advance(TOAST_FADE_MS);
    expect(titles()).toEqual(['Not applied']);
  });
});
