/**
 * Archway's ownership record (/var/lib/archway/state.json): which handlers Archway registered,
 * with what, and what it replaced. The helper writes it atomically; everyone else only reads it.
 */
import * as z from 'zod/mini';

export const RECORD_VERSION = 1;

const str = (max: number) => z.string().check(z.maxLength(max));

export const HandlerRecordSchema = z.strictObject({
  cpu: str(32),
  /** The exact register string Archway wrote. */
  register: str(1920),
  source: z.enum(['distro', 'store', 'path']),
  installedAt: str(64),
  /** uid of the person who asked (PKEXEC_UID, or 0 when run as root). */
  installedBy: z.number().check(z.int(), z.minimum(0)),
  persist: z.boolean(),
  /** A handler of the same name that was there before and was taken over. */
  previous: z.optional(z.strictObject({ register: str(1920), owner: str(200) })),
  /** `emulators use`: the emulator this handler ran before the last switch (what *Use previous* goes back to). */
  usedBefore: z.optional(str(127)),
});

export const PendingSchema = z.strictObject({
  name: str(64),
  op: z.enum(['install', 'uninstall', 'persist']),
  /** What the kernel should show when the step completes ('' = no entry). */
  register: str(1920),
  startedAt: str(64),
  /** For install: the record to adopt if the kernel shows the entry after a crash. For uninstall: what is being removed. */
  handler: z.optional(HandlerRecordSchema),
});

export const ArchwayRecordSchema = z.strictObject({
  version: z.literal(RECORD_VERSION),
  handlers: z.record(str(64), HandlerRecordSchema),
  pending: z.optional(z.array(PendingSchema).check(z.maxLength(128))),
});

export type HandlerRecord = z.infer<typeof HandlerRecordSchema>;
export type PendingStep = z.infer<typeof PendingSchema>;
export type ArchwayRecord = z.infer<typeof ArchwayRecordSchema>;

export function emptyRecord(): ArchwayRecord {
  return { version: RECORD_VERSION, handlers: {} };
}
