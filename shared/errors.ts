/**
 * Archway's error codes and the error that carries one: zod-free, so that reading and deciding
 * (status, the planner) load no schema library. shared/helper-protocol.ts re-exports these; the
 * protocol's schemas (zod) stay there, loaded only by code that validates a request or response.
 */

export const PROTOCOL_VERSION = 1;

/** A store entry's (and a plan's) sha256, hex. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

export const ErrorCodes = [
  'bad-request',
  'unknown-arch',
  'native-arch',
  'not-owned',
  'never-touch',
  'not-found',
  'no-emulator',
  'unsafe-interpreter',
  'dynamic-interpreter',
  'bad-flags',
  'invalid-rule',
  'kernel-refused',
  'not-mounted',
  'mount-failed',
  'io-error',
  'not-root',
  'not-authorized',
  'helper-missing',
  'helper-failed',
  'plan-changed',
  /** store-add: the file's sha256 is not the one the request (the plan) named. */
  'content-mismatch',
  /** store-add: the caller could not read the file themselves (owner, mode or a private directory). */
  'not-readable',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

/** An error that carries a code and, where possible, what to do next. */
export class ArchwayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
  toJSON() {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}
