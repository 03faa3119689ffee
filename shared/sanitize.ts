/**
 * Untrusted text on its way to a terminal or the window: container output, image and platform
 * names, registry answers, emulator provenance, audit entries. Pure; the one place this is decided.
 *
 * C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F: U+009B is a one-character CSI, U+0085 a
 * line break, U+009D an OSC to terminals that honour 8-bit controls) are removed; escape sequences
 * are removed whole so their parameters do not show up as litter. Bidirectional overrides and
 * isolates (U+202A–U+202E, U+2066–U+2069) are removed too: they make text read differently from
 * what it is.
 */

/** ESC-introduced sequences: CSI (ESC [ … final), OSC/DCS/SOS/PM/APC strings (to BEL or ST), and two-byte escapes. */
const ESC_SEQUENCE = /\u001b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[ -/]*[0-~]?)/g;
/** 8-bit forms: CSI U+009B … final; OSC/DCS/SOS/PM/APC U+009D/U+0090/U+0098/U+009E/U+009F … (BEL | ST | U+009C). */
const C1_SEQUENCE = /\u009b[0-?]*[ -/]*[@-~]?|[\u009d\u0090\u0098\u009e\u009f][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?/g;
const ESC_AT_START = new RegExp(`^(?:${ESC_SEQUENCE.source})`);
const BIDI = /[\u202a-\u202e\u2066-\u2069]/g;
const ALL_CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
const CONTROLS_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const CONTROLS_BUT_TERMINAL_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

function dropSequences(s: string): string {
  return s.replace(ESC_SEQUENCE, '').replace(C1_SEQUENCE, '').replace(BIDI, '');
}

/** One line of untrusted text (a name, a version, a provenance field): every control character removed. */
export function cleanText(s: string): string {
  return dropSequences(s).replace(ALL_CONTROLS, '');
}

/** Untrusted text that may span lines (an audit message, an error from an engine): keeps \n and \t only. */
export function cleanLines(s: string): string {
  return dropSequences(s).replace(CONTROLS_BUT_LINES, '');
}

/** What JSON.stringify leaves raw that a terminal acts on: DEL, C1, bidi controls, U+2028/U+2029 (and any C0 but \n, \t in text that is not JSON.stringify's). */
const JSON_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** Anything but tab, newline and printable ASCII: every character JSON_UNSAFE matches is one of these. */
const NOT_PLAIN_ASCII = /[^\t\n\x20-\x7e]/;

/**
 * JSON text on its way to a terminal: those characters written as \uXXXX escapes. Lossless — the
 * document parses to the same value — and nothing in it is a control a terminal obeys (raw U+009B
 * is a CSI to terminals that honour 8-bit controls).
 */
export function jsonForTerminal(json: string): string {
  // Nearly always plain ASCII with nothing to escape: then no second copy of a 100 KB document, and
  // a simple class scans it (the full class above is a large regular expression to compile).
  if (!NOT_PLAIN_ASCII.test(json)) return json;
  JSON_UNSAFE.lastIndex = 0;
  if (!JSON_UNSAFE.test(json)) return json;
  return json.replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** SGR (colour and style) sequences: ESC [ digits ; : … m. */
const SGR = /^\u001b\[[0-9;:]*m/;

/**
 * Container output for xterm: keeps SGR colour sequences (ESC [ … m), \n, \r and \t; removes every
 * other control character and escape sequence (cursor movement, OSC titles and hyperlinks, device
 * queries, 8-bit C1 controls).
 */
export function cleanTerminalOutput(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const esc = s.indexOf('\u001b', i);
    const end = esc < 0 ? s.length : esc;
    out += dropSequences(s.slice(i, end)).replace(CONTROLS_BUT_TERMINAL_LINES, '');
    if (esc < 0) break;
    const rest = s.slice(esc);
    const sgr = SGR.exec(rest);
    if (sgr) {
      out += sgr[0];
      i = esc + sgr[0].length;
      continue;
    }
    const m = ESC_AT_START.exec(rest);
    i = esc + (m ? Math.max(1, m[0].length) : 1);
  }
  return out;
}

/**
 * A stream of container output arrives in chunks that may split an escape sequence: this keeps an
 * unfinished sequence (at most 256 characters) until the next chunk, so ESC [ 3 | 1 m is still one
 * colour and ESC | ] 0 ; title is still dropped whole.
 */
export class TerminalOutputCleaner {
  private carry = '';

  push(chunk: string): string {
    const s = this.carry + chunk;
    this.carry = '';
    const esc = Math.max(s.lastIndexOf('\u001b'), s.lastIndexOf('\u009b'), s.lastIndexOf('\u009d'));
    if (esc >= 0 && s.length - esc < 256 && !complete(s.slice(esc))) {
      this.carry = s.slice(esc);
      return cleanTerminalOutput(s.slice(0, esc));
    }
    return cleanTerminalOutput(s);
  }

  /** Whatever is left at the end of the stream (an unfinished sequence is dropped). */
  flush(): string {
    const s = this.carry;
    this.carry = '';
    return cleanTerminalOutput(s);
  }
}

function complete(seq: string): boolean {
  if (seq.length < 2) return false;
  const intro = seq[0] === '\u001b' ? seq[1]! : seq[0] === '\u009b' ? '[' : ']';
  const body = seq[0] === '\u001b' ? seq.slice(2) : seq.slice(1);
  if (intro === '[') return /[@-~]/.test(body.replace(/^[0-?]*[ -/]*/, '').slice(0, 1));
  if (']PX^_'.includes(intro)) return /\u0007|\u001b\\|\u009c/.test(body);
  return true;
}

/** Printable ASCII only (U+0020–U+007E): the rule for strings a caller reports about an emulator. */
export const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
