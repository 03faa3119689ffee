/**
 * The privileged helper's closed operation list. One JSON request on stdin, one JSON response on
 * stdout. Every field is bounded; unknown fields are refused (strict objects).
 */
import * as z from 'zod/mini';
import { ErrorCodes, PROTOCOL_VERSION, SHA256_HEX } from './errors';

/** The helper refuses requests larger than this before parsing them. */
export const MAX_REQUEST_BYTES = 64 * 1024;
export const MAX_OPS = 64;

const archName = z
  .string()
  .check(z.minLength(1), z.maxLength(32), z.regex(/^[a-z0-9_]+$/, 'an architecture is lowercase letters, digits and _ (a catalog CPU name)'));

const interpreterSource = z.discriminatedUnion('source', [
  /** Debian/Ubuntu/Fedora static emulators in their fixed locations. */
  z.strictObject({ source: z.literal('distro') }),
  /** Archway's root-owned emulator store. */
  z.strictObject({ source: z.literal('store') }),
  /** An explicit file: must be canonical (no symlink), root-owned, static, for this host. */
  z.strictObject({ source: z.literal('path'), path: z.string().check(z.minLength(1), z.maxLength(127)) }),
]);

export const FlagsSchema = z.string().check(z.maxLength(4), z.regex(/^[POCF]*$/, 'flags are letters from P, O, C, F'));

const opt = z.optional;
const str = (max: number, min = 0) => z.string().check(z.minLength(min), z.maxLength(max));

export const InstallOp = z.strictObject({
  op: z.literal('install'),
  arch: archName,
  interpreter: opt(interpreterSource),
  /** Default: F, plus P when the emulator is a Debian *-binfmt-P wrapper. F is required. */
  flags: opt(FlagsSchema),
  /**
   * Explicit opt-in to flag C (setuid programs get their own credentials; see SETUID_RISK in
   * shared/binfmt/flags.ts). Flags containing C are refused without it; with it and no flags,
   * the default flags plus C are used.
   */
  allowSetuid: opt(z.boolean()),
  persist: opt(z.boolean()),
  /** Accept a dynamically linked emulator (it fails inside foreign containers). */
  allowDynamic: opt(z.boolean()),
  /** Replace a handler of the same name that Archway does not own (it is recorded and restored on uninstall). */
  takeOver: opt(z.boolean()),
});

export const UninstallOp = z.strictObject({
  op: z.literal('uninstall'),
  arch: archName,
  /** Remove the entry even though Archway does not own it. */
  force: opt(z.boolean()),
});

export const ToggleOp = z.strictObject({
  op: z.enum(['enable', 'disable']),
  arch: archName,
  force: opt(z.boolean()),
});

export const PersistOp = z.strictObject({
  op: z.literal('persist'),
  arch: archName,
  on: z.boolean(),
});

export const MountOp = z.strictObject({ op: z.literal('mount') });

/** What a caller says about an emulator: printable ASCII only (no control characters), bounded. */
const reported = (max: number) => z.string().check(z.maxLength(max), z.regex(/^[\x20-\x7e]*$/, 'printable ASCII only'));

/**
 * Re-register the handler of this architecture — whoever installed it — with the same emulator,
 * magic and mask, without C. A handler of another tool is taken over (recorded, restored on uninstall).
 */
export const DropCOp = z.strictObject({ op: z.literal('drop-c'), arch: archName });

/**
 * Copy an emulator (e.g. extracted from a tonistiigi/binfmt image by an unprivileged process) into
 * Archway's root-owned, content-addressed store. The administrator authorizes exact content: the
 * helper hashes what it reads and refuses anything but `sha256` (the digest the plan showed). It
 * opens regular files only (no symlink, device, FIFO or socket), owned by the caller or root and
 * readable by the caller through every directory above it, and only ELF programs for this host.
 * `provenance` is what the extracting process reports; it is recorded and shown as reported, never
 * as verified.
 */
export const StoreAddOp = z.strictObject({
  op: z.literal('store-add'),
  arch: archName,
  file: str(4096, 1),
  sha256: z.string().check(z.regex(SHA256_HEX, 'sha256 is 64 lowercase hex digits')),
  provenance: z.strictObject({
    image: reported(256),
    digest: opt(reported(100)),
    qemuVersion: opt(reported(64)),
    /** `archway emulators import`: the file or directory it was read from. */
    importedFrom: opt(reported(256)),
  }),
});

/**
 * Switch Archway's handler of this architecture (and its boot-time file, when it has one) to another
 * emulator: the distribution's, or a store entry named by its sha256. The same magic, mask and flags
 * (P follows the emulator: only Debian's *-binfmt-P wrapper takes it). Refused for a handler Archway
 * did not install, an emulator that is not a static program for this host, or one not in the store.
 */
export const UseOp = z.strictObject({
  op: z.literal('use'),
  arch: archName,
  emulator: z.discriminatedUnion('source', [
    z.strictObject({ source: z.literal('distro') }),
    z.strictObject({ source: z.literal('store'), sha256: z.string().check(z.regex(SHA256_HEX, 'sha256 is 64 lowercase hex digits')) }),
  ]),
});

export const OpSchema = z.discriminatedUnion('op', [MountOp, InstallOp, UninstallOp, ToggleOp, PersistOp, DropCOp, StoreAddOp, UseOp]);

export const HelperRequestSchema = z.strictObject({
  version: z.literal(PROTOCOL_VERSION),
  ops: z.array(OpSchema).check(z.minLength(1), z.maxLength(MAX_OPS)),
  /** Plan only: validate everything and return the register strings and files, change nothing. */
  dryRun: opt(z.boolean()),
  /**
   * What the plan showed: the `digest` of each result of the dry run, in order. The helper plans
   * again and refuses the whole request (plan-changed, nothing changed) if any differs.
   */
  expect: opt(z.array(z.string().check(z.regex(/^[0-9a-f]{64}$/, 'a digest is 64 hex digits'))).check(z.maxLength(MAX_OPS))),
});

/** Bind a request to what its dry run showed (every apply, window and CLI, goes through this). */
export function bindToPlan(request: HelperRequest, preview: HelperResponse): HelperRequest {
  const digests = preview.results.map((r) => r.digest);
  if (!preview.ok || digests.some((d) => d === undefined)) return request;
  return { ...request, expect: digests as string[] };
}

export type HelperOp = z.infer<typeof OpSchema>;
export type HelperRequest = z.infer<typeof HelperRequestSchema>;

// The codes and the error class live in shared/errors.ts (zod-free: status and the planner load no schemas).
export { ArchwayError, ErrorCodes, PROTOCOL_VERSION, SHA256_HEX, type ErrorCode } from './errors';

const ErrorSchema = z.strictObject({ code: z.enum(ErrorCodes), message: z.string(), hint: opt(z.string()) });

export const OpResultSchema = z.strictObject({
  op: z.string(),
  arch: opt(z.string()),
  name: opt(z.string()),
  ok: z.boolean(),
  changed: z.boolean(),
  message: z.string(),
  /** The register string written (or that would be, on a dry run). */
  register: opt(z.string()),
  /** Files written or removed. */
  files: opt(z.array(z.string())),
  warnings: opt(z.array(z.string())),
  /**
   * sha256 of what this operation will do (op, names, register string, files, and the identity of
   * each file it relies on, e.g. the interpreter): an apply carries the plan's digests back.
   */
  digest: opt(z.string()),
  /** Risks this operation takes, typed, each with its one sentence (e.g. flag C: setuid-credentials). */
  risks: opt(z.array(z.strictObject({ id: z.enum(['setuid-credentials']), message: z.string() }))),
  error: opt(ErrorSchema),
});

export const HelperResponseSchema = z.strictObject({
  version: z.literal(PROTOCOL_VERSION),
  ok: z.boolean(),
  dryRun: z.boolean(),
  results: z.array(OpResultSchema),
  /** What start-up repair did (an interrupted earlier run finished or undone, persist files fixed). */
  repairs: opt(z.array(z.string())),
  /** Set when the whole request was refused before any operation ran. */
  error: opt(ErrorSchema),
});

export type OpResult = z.infer<typeof OpResultSchema>;
export type HelperResponse = z.infer<typeof HelperResponseSchema>;
