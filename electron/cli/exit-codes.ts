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

/**
 * `archway shell` exits with the shell's own status (`exit 3` → 3), as `docker run` does; so that a
 * script can tell Archway's failures from the shell's, its own are docker's: 125 when the shell
 * could not start (no handler, another platform, no such program; the diagnosis is on stderr), and
 * 128 + N when signal N (SIGHUP, SIGINT, SIGTERM) stopped it. Usage errors stay 2 and an
 * unavailable engine 3, before anything ran.
 */
export const SHELL_EXIT = { notStarted: 125, signalBase: 128 } as const;

/** Helper and container-engine error codes that mean "something Archway needs is unavailable". */
const UNAVAILABLE = new Set([
  // helper / elevation
  'helper-missing',
  'not-authorized',
  'not-root',
  // container engine (electron/container/errors.ts)
  'daemon-not-running',
  'permission-denied',
  'api-too-old',
  'client-too-old',
  'unreachable',
  'connection-lost',
  'timeout',
  'bad-endpoint',
]);

/** Codes of requests refused before anything changed (bad input, a rule that protects the user). */
const REFUSED = new Set([
  'bad-request',
  'invalid-request',
  'unknown-arch',
  'native-arch',
  'not-owned',
  'never-touch',
  'no-emulator',
  'unsafe-interpreter',
  'dynamic-interpreter',
  'bad-flags',
  'invalid-rule',
]);

/**
 * The exit code for an error code of the helper protocol (ArchwayError) or of the container engine
 * (EngineError): unavailable → 3, refused before any change → 2, anything else → `otherwise`
 * (1: it went wrong; a caller that knows nothing ran, e.g. a whole request refused, passes 2).
 */
export function exitForErrorCode(code: string | undefined, otherwise: ExitCode = EXIT.failed): ExitCode {
  if (code && UNAVAILABLE.has(code)) return EXIT.unavailable;
  if (code && REFUSED.has(code)) return EXIT.usage;
  return otherwise;
}
