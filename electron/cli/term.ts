/**
 * What the terminal can show, decided once per process: colour (only on a TTY, never with NO_COLOR
 * or TERM=dumb; --color/--no-color override the TTY test), Unicode symbols (only when the locale —
 * LC_ALL, LC_CTYPE, LANG, the first one set — names UTF-8) and the width text is fitted to
 * ($COLUMNS, else the TTY's width, else 80). Every symbol and colour the CLI prints comes from here.
 */
import { cleanLines, cleanTerminalOutput } from '../../shared/sanitize';

export type ColorChoice = 'auto' | 'always' | 'never';

export interface StreamFacts {
  isTTY?: boolean;
  columns?: number;
}

export interface Term {
  /** The stream is a terminal (a person reads it): prose may be wrapped to its width. */
  tty?: boolean;
  color: boolean;
  unicode: boolean;
  columns: number;
}

/** True when the locale's character set is UTF-8 (LC_ALL, then LC_CTYPE, then LANG; the first non-empty decides). */
export function localeIsUtf8(env: NodeJS.ProcessEnv): boolean {
  for (const k of ['LC_ALL', 'LC_CTYPE', 'LANG']) {
    const v = env[k];
    if (v) return /\.utf-?8(@|$)/i.test(v) || /^utf-?8$/i.test(v);
  }
  return false;
}

export function colorAllowed(env: NodeJS.ProcessEnv, stream: StreamFacts, choice: ColorChoice = 'auto'): boolean {
  if (choice === 'never') return false;
  if (env.NO_COLOR) return false;
  if (env.TERM === 'dumb') return false;
  return choice === 'always' || stream.isTTY === true;
}

export function terminalColumns(env: NodeJS.ProcessEnv, stream: StreamFacts): number {
  const c = Number(env.COLUMNS);
  if (Number.isInteger(c) && c > 0) return c;
  if (stream.isTTY && stream.columns && stream.columns > 0) return stream.columns;
  return 80;
}

export function detectTerm(env: NodeJS.ProcessEnv, stream: StreamFacts, choice: ColorChoice = 'auto'): Term {
  return { tty: stream.isTTY === true, color: colorAllowed(env, stream, choice), unicode: localeIsUtf8(env), columns: terminalColumns(env, stream) };
}

/** A plain term: no colour, Unicode, 80 columns (tests, JSON). */
export const PLAIN: Term = { color: false, unicode: true, columns: 80 };

const UNICODE = { ok: '✓', fail: '✗', native: '●', off: '○', none: '·', warn: '!', arrow: '→', ellipsis: '…', dash: '—' };
const ASCII: typeof UNICODE = { ok: '+', fail: 'x', native: '*', off: 'o', none: '-', warn: '!', arrow: '->', ellipsis: '...', dash: '-' };
export type Symbols = typeof UNICODE;

export function symbols(t: Term): Symbols {
  return t.unicode ? UNICODE : ASCII;
}

const TRANSLIT: Record<string, string> = {
  '✓': '+', '✗': 'x', '●': '*', '○': 'o', '·': '-', '→': '->', '…': '...', '—': '-', '–': '-',
  '‘': "'", '’': "'", '“': '"', '”': '"', '×': 'x', '≥': '>=', '≤': '<=', '•': '*',
};

/** Text for a terminal whose locale is not UTF-8: known symbols spelled in ASCII, anything else `?`. */
export function asciify(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[^\x00-\x7f]/gu, (c) => TRANSLIT[c] ?? '?');
}

/**
 * Text from elsewhere (kernel entries, daemon and container output, file names) made safe for a
 * terminal: control characters other than newline and tab are removed — escape sequences could move
 * the cursor, retitle the window or hide text. With `keepColour`, plain colour sequences (SGR, what
 * `paint` writes) are kept.
 */
export function terminalSafe(s: string, keepColour = false): string {
  return keepColour ? cleanTerminalOutput(s) : cleanLines(s);
}

const SGR = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', cyan: '36' } as const;
export type Style = keyof typeof SGR;

export function paint(t: Term, style: Style, s: string): string {
  return t.color && s ? `\x1b[${SGR[style]}m${s}\x1b[0m` : s;
}
