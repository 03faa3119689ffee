/**
 * An interactive terminal (xterm.js) wired both ways to one shell in main: keystrokes and pastes go
 * to the shell's stdin, the terminal's size to its TTY (on every fit), its output comes back
 * unfiltered — xterm.js interprets it inside its own emulator (shared/shell.ts says why that is the
 * rule for a TTY and what is still cut off: titles, links). Copy: select, then Ctrl+Shift+C (or the
 * Edit menu); paste: Ctrl+Shift+V (or Edit → Paste) — Ctrl+C and Ctrl+V go to the shell, as in any
 * terminal.
 */
import { useEffect, useRef } from 'react';
import { Terminal as XTerm } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { MAX_COLS, MAX_ROWS } from '../../shared/shell';
import { useApi } from '../api';
import { attachOutput } from '../stores/shells';

export interface ShellTerminalProps {
  shellId: string;
  /** Whether the shell still takes input. */
  live: boolean;
  visible: boolean;
  dark: boolean;
}

const clamp = (n: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, n));
const INPUT_PIECE = 32 * 1024;

export default function ShellTerminal({ shellId, live, visible, dark }: ShellTerminalProps) {
  const api = useApi();
  const host = useRef<HTMLDivElement>(null);
  const term = useRef<XTerm | null>(null);
  const fit = useRef<FitAddon | null>(null);
  const liveRef = useRef(live);
  liveRef.current = live;

  useEffect(() => {
    const t = new XTerm({
      convertEol: false,
      scrollback: 5000,
      cursorBlink: true,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace',
      fontSize: 13,
      // OSC 8 hyperlinks from the container open nothing.
      linkHandler: { activate: () => undefined },
    });
    const f = new FitAddon();
    t.loadAddon(f);
    t.open(host.current!);
    term.current = t;
    fit.current = f;
    // Copy and paste with Ctrl+Shift+C / Ctrl+Shift+V (Ctrl+C is the shell's interrupt).
    t.attachCustomKeyEventHandler((e) => {
      if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
      if (e.code === 'KeyC') {
        // xterm.js copies its selection on the document's copy event.
        if (t.hasSelection()) document.execCommand('copy');
        return false;
      }
      // The browser's own paste (a paste event on xterm's textarea) follows; xterm.js sends it as input.
      if (e.code === 'KeyV') return false;
      return true;
    });
    // A big paste goes in pieces the contract accepts (64 Ki characters a call), never split inside a surrogate pair.
    const send = (data: string) => {
      if (!liveRef.current) return;
      for (let i = 0; i < data.length; ) {
        let end = Math.min(data.length, i + INPUT_PIECE);
        if (end < data.length && /[\ud800-\udbff]/.test(data[end - 1]!)) end--;
        void api.shellInput({ shellId, data: data.slice(i, end) }).catch(() => undefined);
        i = end;
      }
    };
    // (onBinary — X10 mouse reports as raw bytes — is not wired: input travels as UTF-8 text.)
    const offs = [
      t.onData(send),
      t.onResize(({ cols, rows }) => {
        if (liveRef.current) void api.resizeShell({ shellId, cols: clamp(cols, 2, MAX_COLS), rows: clamp(rows, 1, MAX_ROWS) }).catch(() => undefined);
      }),
    ];
    const detach = attachOutput(shellId, (data) => t.write(data));
    const refit = () => {
      if (host.current?.offsetParent) f.fit();
    };
    refit();
    const ro = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(refit);
    ro?.observe(host.current!);
    t.focus();
    return () => {
      ro?.disconnect();
      detach();
      offs.forEach((o) => o.dispose());
      t.dispose();
      term.current = null;
    };
  }, [api, shellId]);

  useEffect(() => {
    if (term.current) {
      term.current.options.theme = dark
        ? { background: '#0f1113', foreground: '#d8dde3', cursor: '#d8dde3' }
        : { background: '#fbfcfd', foreground: '#1d2126', cursor: '#1d2126', brightBlack: '#6b7280' };
    }
  }, [dark]);

  useEffect(() => {
    // Opened (the shell now takes a size) or shown again: fit and send the size.
    if (visible && term.current && host.current?.offsetParent) {
      // Into view: a new tab opens below the run, and xterm.js does not draw while off screen.
      host.current.scrollIntoView?.({ block: 'nearest' });
      fit.current?.fit();
      const { cols, rows } = term.current;
      if (live) void api.resizeShell({ shellId, cols: clamp(cols, 2, MAX_COLS), rows: clamp(rows, 1, MAX_ROWS) }).catch(() => undefined);
      term.current.focus();
    }
  }, [visible, live, api, shellId]);

  return <div className="term-box shell-term" ref={host} role="application" aria-label={`Shell ${shellId}`} data-shell={shellId} />;
}
