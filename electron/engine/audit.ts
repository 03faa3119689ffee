/** Append-only audit log of privileged changes: one JSON object a line, fsync'ed. */
import { appendFileSync, closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditView } from '../../shared/ipc/contract';

/** One line of the audit log: the same shape the window shows (shared/ipc/contract.ts AuditView, one definition). */
export type AuditEntry = AuditView;

/**
 * One line's entry, checked (fields of other types refused; unknown fields dropped). Written out
 * rather than as a zod schema: the Engine that `archway status` loads imports this module, and zod
 * costs that start-up about 4 ms.
 */
export function parseAuditEntry(v: unknown): AuditEntry {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError('an audit entry is an object');
  const o = v as Record<string, unknown>;
  const need = (k: string, t: 'string' | 'number' | 'boolean') => {
    if (typeof o[k] !== t) throw new TypeError(`audit entry: ${k} is not a ${t}`);
    return o[k];
  };
  const may = (k: string, ok: (x: unknown) => boolean) => {
    if (o[k] !== undefined && !ok(o[k])) throw new TypeError(`audit entry: ${k} has the wrong type`);
    return o[k] !== undefined;
  };
  const str = (x: unknown) => typeof x === 'string';
  const strOrNull = (x: unknown) => x === null || typeof x === 'string';
  // In the schema's key order (archway log --json prints entries as they are).
  const time = need('time', 'string') as string;
  const uid = need('uid', 'number') as number;
  const op = need('op', 'string') as string;
  const arch = may('arch', str);
  const name = may('name', str);
  const ok = need('ok', 'boolean') as boolean;
  const message = need('message', 'string') as string;
  const before = may('before', strOrNull);
  const after = may('after', strOrNull);
  const files = may('files', (x) => Array.isArray(x) && x.every(str));
  return {
    time,
    uid,
    op,
    ...(arch ? { arch: o.arch as string } : {}),
    ...(name ? { name: o.name as string } : {}),
    ok,
    message,
    ...(before ? { before: o.before as string | null } : {}),
    ...(after ? { after: o.after as string | null } : {}),
    ...(files ? { files: [...(o.files as string[])] } : {}),
  };
}

/** The entry check, shaped like the schema it replaced (`AuditEntrySchema.parse(json)`). */
export const AuditEntrySchema = { parse: parseAuditEntry };

/**
 * Append one entry as one write() of one line, then fsync. If a crash tore the previous line (no
 * final newline), start on a fresh line so the torn one cannot swallow this entry.
 */
export function appendAudit(file: string, entry: AuditEntry): void {
  appendAuditLines(file, [entry]);
}

/** Append several entries with one write and one fsync (a request's lines, together). */
export function appendAuditLines(file: string, entries: readonly AuditEntry[]): void {
  if (entries.length === 0) return;
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  const fd = openSync(file, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  try {
    const size = fstatSync(fd).size;
    let lead = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) lead = '\n';
    }
    appendFileSync(fd, `${lead}${entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Newest last. Lines that do not parse (a torn write after a crash) are skipped. */
export function readAudit(file: string, limit = 500): AuditEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: AuditEntry[] = [];
  for (const line of text.split('\n').slice(-limit - 1)) {
    if (!line) continue;
    try {
      out.push(parseAuditEntry(JSON.parse(line)));
    } catch {
      /* torn line */
    }
  }
  return out.slice(-limit);
}
