/** Fitting text to a width: wrapping prose, shortening cells, and tables that fit $COLUMNS. Pure. */

const NOT_PLAIN = /[\x1b\ud800-\udfff]/;

/** Columns a string takes: one per code point (the CLI prints no wide characters of its own); colour sequences take none. */
export function width(s: string): number {
  // Most strings have neither a colour sequence nor a character outside the BMP: one column a unit.
  if (!NOT_PLAIN.test(s)) return s.length;
  let n = 0;
  // eslint-disable-next-line no-control-regex
  for (const _ of s.replace(/\x1b\[[0-9;]*m/g, '')) n++;
  return n;
}

function sliceCols(s: string, start: number, end?: number): string {
  return Array.from(s).slice(start, end).join('');
}

/** Shorten to `max` columns, keeping the end (`…/qemu-binfmt/aarch64-binfmt-P`) for paths, the start otherwise. */
export function truncate(s: string, max: number, ellipsis = '…'): string {
  if (width(s) <= max) return s;
  const e = width(ellipsis);
  if (max <= e) return sliceCols(s, 0, Math.max(0, max));
  // A path (alone, or inside words such as `(can use /usr/…/arm-binfmt-P)`): the file name says the
  // most, so the path is shortened from its front, keeping the words around it.
  const m = /^((?:[^/]*[ (])?)(\/\S*?)(\)?)$/u.exec(s);
  if (m) {
    const [, before, path, after] = m as unknown as [string, string, string, string];
    const room = max - width(before) - width(after) - e;
    if (room >= 6) {
      let tail = sliceCols(path, width(path) - room);
      const slash = tail.indexOf('/');
      if (slash >= 0 && slash < width(tail) / 2) tail = tail.slice(slash);
      return before + ellipsis + tail + after;
    }
  }
  return sliceCols(s, 0, max - e) + ellipsis;
}

/**
 * Wrap prose to `cols` columns. `indent` starts every line, `hang` every continuation line (after
 * the indent). A word longer than a line is cut, so no line is ever wider than `cols`.
 */
export function wrap(text: string, cols: number, indent = '', hang = ''): string[] {
  const out: string[] = [];
  // The width of the line so far is kept, not measured again for every word.
  const indentWidth = width(indent);
  const nextWidth = width(indent + hang);
  for (const para of text.split('\n')) {
    let line = indent;
    let lineWidth = indentWidth;
    let first = true;
    for (let word of para.split(/ +/)) {
      if (word.length === 0) continue;
      let wordWidth = width(word);
      const sep = first ? 0 : 1;
      if (lineWidth + sep + wordWidth <= cols) {
        line += first ? word : ` ${word}`;
        lineWidth += sep + wordWidth;
        first = false;
        continue;
      }
      if (!first) {
        out.push(line);
        line = indent + hang;
        lineWidth = nextWidth;
        first = true;
      }
      while (wordWidth > 0 && lineWidth + wordWidth > cols) {
        const n = Math.max(1, cols - lineWidth);
        out.push(line + sliceCols(word, 0, n));
        word = sliceCols(word, n);
        wordWidth = width(word);
        line = indent + hang;
        lineWidth = nextWidth;
      }
      line += word;
      lineWidth += wordWidth;
      first = false;
    }
    out.push(line.trimEnd());
  }
  return out;
}

export interface Column {
  head: string;
  /** Lower drops first when the table does not fit; undefined: never dropped. */
  drop?: number;
  /** May be shortened to at least `min` columns: 1 before anything is dropped, 2 only once nothing more can be dropped. */
  shrink?: 1 | 2;
  min?: number;
}

/**
 * A table that fits `cols`: shrinkable columns are shortened first (paths keep their file name),
 * then columns are dropped lowest `drop` first; the last resort cuts lines. Returns plain lines (a
 * caller colours them afterwards) and the heads of the columns it dropped.
 */
export function fitTable(columns: readonly Column[], rows: readonly (readonly string[])[], cols: number, ellipsis = '…'): { lines: string[]; dropped: string[] } {
  const gap = 2;
  let keep = columns.map((_, i) => i);
  const natural = columns.map((c, i) => Math.max(width(c.head), ...rows.map((r) => width(r[i] ?? ''))));
  const total = (ws: number[]) => keep.reduce((n, i) => n + ws[i]!, 0) + gap * (keep.length - 1);
  let widths = [...natural];
  const shrinkTo = (level: 1 | 2) => {
    widths = [...natural];
    let over = total(widths) - cols;
    for (const pass of level === 1 ? [1] : [1, 2]) {
      for (const i of keep) {
        if (over <= 0) break;
        const c = columns[i]!;
        if (c.shrink !== pass) continue;
        const min = Math.max(width(c.head), c.min ?? 8);
        const cut = Math.min(over, widths[i]! - min);
        if (cut > 0) {
          widths[i] = widths[i]! - cut;
          over -= cut;
        }
      }
    }
    return over <= 0;
  };
  const droppable = columns.map((c, i) => ({ c, i })).filter((x) => x.c.drop !== undefined).sort((a, b) => a.c.drop! - b.c.drop!);
  const dropped: string[] = [];
  while (!shrinkTo(1) && droppable.length > 0) {
    const d = droppable.shift()!;
    keep = keep.filter((i) => i !== d.i);
    dropped.push(d.c.head);
  }
  shrinkTo(2);
  const render = (r: readonly string[]) => {
    const cells = keep.map((i, k) => {
      const cell = truncate(r[i] ?? '', widths[i]!, ellipsis);
      return k === keep.length - 1 ? cell : cell + ' '.repeat(widths[i]! - width(cell));
    });
    const line = cells.join(' '.repeat(gap)).trimEnd();
    return width(line) > cols ? sliceCols(line, 0, Math.max(0, cols - width(ellipsis))) + ellipsis : line;
  };
  return { lines: [render(columns.map((c) => c.head)), ...rows.map(render)], dropped };
}
