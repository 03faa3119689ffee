import { useEffect } from 'react';

export interface Toast {
  id: number;
  tone: 'ok' | 'bad' | 'info';
  title: string;
  body?: string;
}

/** Results of actions: announced politely; errors stay until dismissed, successes fade after 6 s. */
export function Toasts({ toasts, onDismiss }: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  return (
    <div className="toasts" aria-live="polite" aria-relevant="additions">
      {toasts.map((t) => (
        <ToastItem key={t.id} toast={t} onDismiss={onDismiss} />
      ))}
    </div>
  );
}

function ToastItem({ toast, onDismiss }: { toast: Toast; onDismiss: (id: number) => void }) {
  useEffect(() => {
    if (toast.tone === 'bad') return;
    const t = setTimeout(() => onDismiss(toast.id), 6000);
    return () => clearTimeout(t);
  }, [toast, onDismiss]);
  return (
    <div className={`toast ${toast.tone}`} role={toast.tone === 'bad' ? 'alert' : 'status'}>
      <div className="toast-text">
        <strong>{toast.title}</strong>
        {toast.body ? <div className="toast-body">{toast.body}</div> : null}
      </div>
      <button type="button" className="icon" aria-label="Dismiss" onClick={() => onDismiss(toast.id)}>
        ×
      </button>
    </div>
  );
}
