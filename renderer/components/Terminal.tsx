/**
 * The live output of a test run in a real terminal emulator (xterm.js, loaded only when this view
 * first opens). Read-only: nothing typed here reaches a container. It replays the transcript kept
 * by the app, then appends as chunks arrive. Container output is untrusted: only SGR colours, line
 * breaks and tabs reach xterm (shared/sanitize), so an image cannot retitle the window, move the
 * cursor over earlier lines, query the terminal or use 8-bit C1 controls.
 */
import { useEffect, useRef } from 'react';
import { Terminal as XTerm } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { TerminalOutputCleaner } from '../../shared/sanitize';

export interface TerminalProps {
  transcript: { chunks: string[]; epoch: number };
  version: number;
  dark: boolean;
  visible: boolean;
}

const ROWS = 18;

export default function Terminal({ transcript, version, dark, visible }: TerminalProps) {
  const host = useRef<HTMLDivElement>(null);
  const term = useRef<XTerm | null>(null);
  const fit = useRef<FitAddon | null>(null);
  const written = useRef<{ epoch: number; count: number; first: string | undefined }>({ epoch: -1, count: 0, first: undefined });
  const cleaner = useRef(new TerminalOutputCleaner());

  useEffect(() => {
    const t = new XTerm({
      rows: ROWS,
      disableStdin: true,
      convertEol: false,
      scrollback: 5000,
      cursorBlink: false,
      cursorStyle: 'underline',
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace',
      fontSize: 13,
      screenReaderMode: false,
    });
    const f = new FitAddon();
    t.loadAddon(f);
    t.open(host.current!);
    term.current = t;
    fit.current = f;
    const refit = () => {
      if (host.current?.offsetParent) f.fit();
    };
    refit();
    const ro = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(refit);
    ro?.observe(host.current!);
    return () => {
      ro?.disconnect();
      t.dispose();
      term.current = null;
      written.current = { epoch: -1, count: 0, first: undefined };
    };
  }, []);

  useEffect(() => {
    term.current?.options && (term.current.options.theme = dark
      ? { background: '#0f1113', foreground: '#d8dde3', cursor: '#0f1113' }
      : { background: '#fbfcfd', foreground: '#1d2126', cursor: '#fbfcfd', brightBlack: '#6b7280' });
  }, [dark]);

  useEffect(() => {
    const t = term.current;
    if (!t) return;
    const w = written.current;
    // A new run, or old chunks dropped from the front: start over.
    if (w.epoch !== transcript.epoch || w.first !== transcript.chunks[0] || w.count > transcript.chunks.length) {
      t.reset();
      cleaner.current = new TerminalOutputCleaner();
      w.epoch = transcript.epoch;
      w.count = 0;
    }
    const fresh = transcript.chunks.slice(w.count);
    if (fresh.length) t.write(cleaner.current.push(fresh.join('')));
    w.count = transcript.chunks.length;
    w.first = transcript.chunks[0];
  }, [transcript, version]);

  useEffect(() => {
    // Shown again after being hidden: repaint what was written meanwhile.
    if (visible && term.current) {
      if (host.current?.offsetParent) fit.current?.fit();
      term.current.refresh(0, term.current.rows - 1);
    }
  }, [visible]);

  return <div className="term-box" ref={host} role="log" aria-label="Container output" />;
}
