/**
 * The one exit-code table of every `archway` command (documented in the README). Commands return
 * these names' values; nothing else decides an exit status.
 */
export const EXIT = {
  /** Done: the work succeeded (probe: every platform ok; status --check: every platform runs here). */
  ok: 0,
  /** The work ran and did not succeed: an operation failed, a probe was not ok, a check not met. */
  failed: 1,
  /** Usage error, or a request refused before anything changed. */
  usage: 2,
  /** Something Archway needs is not available: container engine unreachable or too old, helper missing, not authorized. */
  unavailable: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
