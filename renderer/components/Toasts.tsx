import { useEffect, useLayoutEffect, useRef, useState } from 'react';

export interface Toast {
  id: number;
  tone: 'ok' | 'bad' | 'info';
  title: string;
  body?: string;
  /** Something to do about it (a button in the toast): such a toast stays until closed. */
  action?: { label: string; onClick: () => void };
}

/** How long a plain confirmation stays (not counting time hovered or focused). */
export const TOAST_FADE_MS = 5000;
/** At most this many toasts are shown; the oldest plain confirmation makes room first. */
export const MAX_TOASTS = 4;

/** Errors and toasts with an action stay until closed; plain confirmations fade. */
export function toastStays(t: Pick<Toast, 'tone' | 'action'>): boolean {
  return t.tone === 'bad' || t.action !== undefined;
}

/** The list after pushing `t`: over MAX_TOASTS, the oldest confirmation goes first, an error or action toast only when nothing else can. */
export function addToast(list: readonly Toast[], t: Toast): Toast[] {
  const out = [...list, t];
  while (out.length > MAX_TOASTS) {
    const i = out.findIndex((x) => !toastStays(x));
    out.splice(i >= 0 ? i : 0, 1);
  }
  return out;
}

/** Results of actions, announced politely: confirmations fade after TOAST_FADE_MS, errors and toasts with an action stay until dismissed. */
export function Toasts({ toasts, onDismiss }: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useToastsRoom(ref);
  return (
    <div className="toasts" ref={ref} aria-live="polite" aria-relevant="additions">
      {toasts.map((t) => (
        <ToastItem key={t.id} toast={t} onDismiss={onDismiss} />
      ))}
    </div>
  );
}

/**
 * The room the toasts take at the bottom of the window, as `--toasts-room` on the root element:
 * the content adds it below its end (styles.css), so a toast that stays never hides the last rows
 * of a view for good — scrolled to the bottom, they clear the toasts.
 */
function useToastsRoom(ref: { current: HTMLElement | null }): void {
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const root = document.documentElement;
    const set = () => root.style.setProperty('--toasts-room', `${el.offsetHeight > 0 ? el.offsetHeight + 16 : 0}px`);
    set();
    const ro = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(set);
    ro?.observe(el);
    return () => {
      ro?.disconnect();
      root.style.removeProperty('--toasts-room');
    };
  }, [ref]);
}

function ToastItem({ toast, onDismiss }: { toast: Toast; onDismiss: (id: number) => void }) {
  // Not while the pointer is over it or focus is inside it: time to read, or to reach its button (WCAG 2.2.1).
  const [hovered, setHovered] = useState(false);
  const [focused, setFocused] = useState(false);
  const stays = toastStays(toast);
  useEffect(() => {
    if (stays || hovered || focused) return;
    const t = setTimeout(() => onDismiss(toast.id), TOAST_FADE_MS);
    return () => clearTimeout(t);
  }, [stays, hovered, focused, toast.id, onDismiss]);
  return (
    <div
      className={`toast ${toast.tone}`}
      role={toast.tone === 'bad' ? 'alert' : 'status'}
      onMouseEnter={() => setHovered(true)}
      onMouseLeave={() => setHovered(false)}
      onFocus={() => setFocused(true)}
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setFocused(false);
      }}
    >
      <div className="toast-text">
        <strong>{toast.title}</strong>
        {toast.body ? <div className="toast-body">{toast.body}</div> : null}
        {toast.action ? (
          <button
            type="button"
            className="small-btn"
            onClick={() => {
              toast.action!.onClick();
              onDismiss(toast.id);
            }}
          >
            {toast.action.label}
          </button>
        ) : null}
      </div>
      <button type="button" className="icon" aria-label="Dismiss" onClick={() => onDismiss(toast.id)}>
        ×
      </button>
    </div>
  );
}
