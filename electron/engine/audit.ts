/** Append-only audit log of privileged changes: one JSON object a line, fsync'ed. */
import { appendFileSync, closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import * as z from 'zod/mini';

export const AuditEntrySchema = z.object({
  time: z.string(),
  uid: z.number(),
  op: z.string(),
  arch: z.optional(z.string()),
  name: z.optional(z.string()),
  ok: z.boolean(),
  message: z.string(),
  before: z.optional(z.nullable(z.string())),
  after: z.optional(z.nullable(z.string())),
  files: z.optional(z.array(z.string())),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

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
      out.push(AuditEntrySchema.parse(JSON.parse(line)));
    } catch {
      /* torn line */
    }
  }
  return out.slice(-limit);
}
