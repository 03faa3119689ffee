// @vitest-environment happy-dom
import { act, render } from '@testing-library/react';
import { createElement } from 'react';
import { describe, expect, it } from 'vitest';
import { createStore, useStore } from './store';

describe('createStore', () => {
  it('notifies on change only, and stops after unsubscribe', () => {
    const s = createStore({ n: 1 });
    let calls = 0;
    const off = s.subscribe(() => calls++);
    const same = s.get();
    s.set(same);
    expect(calls).toBe(0);
    s.set((c) => ({ n: c.n + 1 }));
    expect(s.get().n).toBe(2);
    expect(calls).toBe(1);
    off();
    s.set({ n: 3 });
    expect(calls).toBe(1);
  });

  it('re-renders a component that reads a slice when that slice changes', () => {
    const s = createStore({ a: 'x', b: 0 });
    let renders = 0;
    const View = () => {
      renders++;
      return createElement('span', null, useStore(s, (v) => v.a));
    };
    const { container } = render(createElement(View));
    expect(container.textContent).toBe('x');
    act(() => s.set((v) => ({ ...v, b: v.b + 1 })));
    expect(renders).toBe(1);
    act(() => s.set((v) => ({ ...v, a: 'y' })));
    expect(container.textContent).toBe('y');
  });
});
