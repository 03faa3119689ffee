import { describe, expect, it } from 'vitest';
import { cleanLines, cleanTerminalOutput, cleanText, jsonForTerminal, TerminalOutputCleaner } from './sanitize';

const ESC = '\u001b';
const CSI8 = '\u009b';
/** Every code point a terminal treats as a control. */
const CONTROLS = [...Array.from({ length: 0x20 }, (_, i) => i), 0x7f, ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i)].map((c) => String.fromCharCode(c));
const hasControl = (s: string, keep = '') => [...s].some((c) => CONTROLS.includes(c) && !keep.includes(c));

const HOSTILE = [
  `${ESC}]0;owned${ESC}\\title`,
  `${ESC}]8;;http://evil/${ESC}\\link${ESC}]8;;${ESC}\\`,
  `${CSI8}2J${CSI8}31mred`,
  `line\u0085next`,
  `bell\u0007 back\b\b\bspace del\u007f`,
  `${ESC}[2J${ESC}[H${ESC}[?1049h clear`,
  `\u009d0;title\u009c osc8bit`,
  `${ESC}P+q544e${ESC}\\ dcs query`,
  `a\u202eevil\u202cb \u2066iso\u2069`,
  `cr\roverwrite`,
  `nul\u0000 and ${ESC}c reset`,
];

describe('cleanText: one line of untrusted text', () => {
  it.each(HOSTILE)('removes every C0/C1 control and escape sequence from %j', (s) => {
    const out = cleanText(s);
    expect(hasControl(out)).toBe(false);
    expect(out).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
  });

  it('keeps ordinary text and drops sequences whole (no parameter litter)', () => {
    expect(cleanText('docker.io/tonistiigi/binfmt:qemu-v9.2.2')).toBe('docker.io/tonistiigi/binfmt:qemu-v9.2.2');
    expect(cleanText(`${ESC}[31mred${ESC}[0m`)).toBe('red');
    expect(cleanText(`${CSI8}31mred`)).toBe('red');
    expect(cleanText(`${ESC}]0;owned${ESC}\\title`)).toBe('title');
    expect(cleanText('QEMU 9.2.2 — ünïcode')).toBe('QEMU 9.2.2 — ünïcode');
    expect(cleanText('a\nb\tc')).toBe('abc');
  });
});

describe('cleanLines: multi-line untrusted text', () => {
  it.each(HOSTILE)('keeps only \\n and \\t from %j', (s) => {
    expect(hasControl(cleanLines(s), '\n\t')).toBe(false);
  });
  it('keeps line breaks and tabs', () => {
    expect(cleanLines('one\n\ttwo\r\n')).toBe('one\n\ttwo\n');
  });
});

describe('cleanTerminalOutput: container output for xterm', () => {
  it('keeps SGR colours and line breaks, nothing else', () => {
    expect(cleanTerminalOutput(`${ESC}[1;31mfail${ESC}[0m\r\n\tok`)).toBe(`${ESC}[1;31mfail${ESC}[0m\r\n\tok`);
    expect(cleanTerminalOutput(`${ESC}[38;5;208mo${ESC}[38:2:1:2:3mk${ESC}[m`)).toBe(`${ESC}[38;5;208mo${ESC}[38:2:1:2:3mk${ESC}[m`);
  });
  it.each(HOSTILE)('leaves no control but ESC-[…m, \\n, \\r, \\t in %j', (s) => {
    const out = cleanTerminalOutput(s);
    expect(hasControl(out.replace(/\u001b\[[0-9;:]*m/g, ''), '\n\r\t')).toBe(false);
  });
  it('drops the 8-bit CSI even when it spells a colour, and cursor movement', () => {
    expect(cleanTerminalOutput(`${CSI8}31mx${ESC}[5Ay${ESC}[6n`)).toBe('xy');
  });
  it('a sequence split across chunks is handled as one', () => {
    const c = new TerminalOutputCleaner();
    const out = c.push(`a${ESC}[3`) + c.push(`1mred${ESC}]0;ti`) + c.push(`tle\u0007b${ESC}`) + c.flush();
    expect(out).toBe(`a${ESC}[31mredb`);
  });
});

describe('jsonForTerminal: JSON for a terminal, the same data', () => {
  it.each(HOSTILE)('%j: no raw control or bidi character, parses back to the same value', (s) => {
    const doc = JSON.stringify({ message: s, list: [s] }, null, 2);
    const out = jsonForTerminal(doc);
    expect(hasControl(out, '\n')).toBe(false);
    expect(/[\u202a-\u202e\u2066-\u2069]/.test(out)).toBe(false);
    expect(JSON.parse(out)).toEqual(JSON.parse(doc));
  });
  it('leaves ordinary JSON (and non-ASCII text) as it is', () => {
    const doc = JSON.stringify({ a: 'QEMU 9.2.2 — ünïcode', b: [1, true, null] }, null, 2);
    expect(jsonForTerminal(doc)).toBe(doc);
    expect(jsonForTerminal('"\u009b"')).toBe('"\\u009b"');
  });
});
