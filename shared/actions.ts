/**
 * What a person asks for ("install arm64 and s390x, keep after reboot") → the helper request that
 * does it. Pure: both faces (CLI and window) go through here, so they ask the helper the same thing.
 */
import * as z from 'zod/mini';
import { resolveArchs } from './arch/resolve';
import type { ErrorCode } from './errors';
import { FlagsSchema, type HelperOp, type HelperRequest, PROTOCOL_VERSION } from './helper-protocol';
import { hasSetuidRisk } from './plan/rules';
import type { Status } from './status';

export const ActionSchema = z.enum(['install', 'uninstall', 'enable', 'disable', 'persist-on', 'persist-off', 'mount', 'drop-c', 'use']);

/** `use`: which emulator a handler switches to (the distribution's, or a store entry by sha256). */
export const UseEmulatorSchema = z.union([z.literal('distro'), z.strictObject({ sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/, 'sha256 is 64 lowercase hex digits')) })]);
export type UseEmulator = z.infer<typeof UseEmulatorSchema>;
export type Action = z.infer<typeof ActionSchema>;

export const IntentSchema = z.strictObject({
  action: ActionSchema,
  archs: z.array(z.string().check(z.minLength(1), z.maxLength(40))).check(z.maxLength(64)),
  flags: z.optional(FlagsSchema),
  persist: z.optional(z.boolean()),
  source: z.optional(
    z.union([z.literal('distro'), z.literal('store'), z.strictObject({ path: z.string().check(z.minLength(1), z.maxLength(127)) })]),
  ),
  allowDynamic: z.optional(z.boolean()),
  takeOver: z.optional(z.boolean()),
  force: z.optional(z.boolean()),
  /** Explicit opt-in to flag C (SETUID_RISK in shared/binfmt/flags.ts names what it risks). */
  allowSetuid: z.optional(z.boolean()),
  /** A rootless engine's own binfmt_misc instance (issue 10), changed as the user; absent: the host's. */
  scope: z.optional(z.enum(['podman', 'docker'])),
  /** `use`: the emulator to switch to. */
  emulator: z.optional(UseEmulatorSchema),
});
export type Intent = z.infer<typeof IntentSchema>;

/**
 * A fix offered by status or a probe, typed (never a sentence to parse): the window runs it as
 * an intent, the CLI prints intentCommand(fix).
 */
export const FixIntentSchema = z.strictObject({
  action: z.enum(['install', 'enable', 'drop-c', 'use']),
  archs: z.array(z.string().check(z.minLength(1), z.maxLength(40))).check(z.minLength(1), z.maxLength(64)),
  flags: z.optional(FlagsSchema),
  allowSetuid: z.optional(z.boolean()),
  /** A rootless engine's own binfmt_misc instance (issue 10): done as the user, no password. Absent: the host's. */
  scope: z.optional(z.enum(['podman', 'docker'])),
  /** `use`: the emulator to switch to (e.g. a stored version without a known regression). */
  emulator: z.optional(UseEmulatorSchema),
});
export type FixIntent = z.infer<typeof FixIntentSchema>;

export { intentCommand } from './intent-command';

/** A `use` intent that names no emulator (a programming error in a face, reported as a usage error). */
export class UnknownUseError extends Error {}

export interface IntentPlan {
  request: HelperRequest | null;
  /** Architectures `all` left out, and why. */
  skipped: { arch: string; why: string }[];
}

/** Could the options named turn the planner's default refusal (status readiness) into an install? */
function optionsChange(code: ErrorCode, intent: Intent): boolean {
  switch (code) {
    case 'not-owned':
      return intent.takeOver === true;
    case 'no-emulator':
    case 'unsafe-interpreter':
    case 'dynamic-interpreter':
      return intent.source !== undefined || intent.flags !== undefined || intent.allowDynamic === true;
    case 'bad-flags':
      return intent.flags !== undefined || intent.allowSetuid === true;
    default:
      return false; // native, never-touch, an unreadable entry: no option changes these
  }
}

/** Resolve names ("arm64", "linux/arm/v7", "all") against the current status. Throws UnknownArchError. */
export function intentToRequest(intent: Intent, status: Status): IntentPlan {
  const wantsAll = intent.archs.some((a) => a.trim().toLowerCase() === 'all');
  const entries = resolveArchs(intent.archs, { hostMachine: status.hostMachine });
  const skipped: IntentPlan['skipped'] = [];
  const byCpu = new Map(status.archs.map((a) => [a.cpu, a]));
  const ops: HelperOp[] = [];
  if (intent.action === 'mount') ops.push({ op: 'mount' });
  for (const e of entries) {
    const a = byCpu.get(e.cpu);
    const explicit = !wantsAll || intent.archs.some((n) => n.trim().toLowerCase() !== 'all' && resolveArchs([n])[0]?.cpu === e.cpu);
    switch (intent.action) {
      case 'install': {
        // `all` leaves out what the planner refuses here (status carries its answer, a.install) when
        // the options named cannot change that answer: another tool's handler without --take-over,
        // no usable emulator without --source, --flags or --allow-dynamic. Named architectures are
        // planned as asked, and a refusal refuses the request.
        const refused = a?.install && !a.install.ok ? a.install : undefined;
        if (!explicit && refused && !optionsChange(refused.code, intent)) {
          skipped.push({ arch: e.cpu, why: refused.message });
          continue;
        }
        if (!explicit && a?.native === 'maybe') {
          skipped.push({ arch: e.cpu, why: a.nativeWhy ?? 'may run natively' });
          continue;
        }
        const src = intent.source;
        ops.push({
          op: 'install',
          arch: e.cpu,
          ...(src === undefined ? {} : { interpreter: typeof src === 'string' ? { source: src } : { source: 'path', path: src.path } }),
          ...(intent.flags !== undefined ? { flags: intent.flags } : {}),
          ...(intent.persist !== undefined ? { persist: intent.persist } : {}),
          ...(intent.allowDynamic ? { allowDynamic: true } : {}),
          ...(intent.takeOver ? { takeOver: true } : {}),
          ...(intent.allowSetuid ? { allowSetuid: true } : {}),
        });
        break;
      }
      case 'drop-c': {
        if (!explicit) {
          const h = status.handlers.find((x) => x.name === e.handlerName);
          if (!h || !h.enabled || !hasSetuidRisk(h.rule)) continue;
        }
        ops.push({ op: 'drop-c', arch: e.cpu });
        break;
      }
      case 'uninstall':
      case 'enable':
      case 'disable': {
        if (!explicit) {
          const h = status.handlers.find((x) => x.name === e.handlerName);
          if (!h) continue;
          if (h.owner.kind !== 'archway' && !intent.force) {
            skipped.push({ arch: e.cpu, why: `${e.handlerName} belongs to ${h.owner.detail}` });
            continue;
          }
        }
        if (intent.action === 'uninstall') ops.push({ op: 'uninstall', arch: e.cpu, ...(intent.force ? { force: true } : {}) });
        else ops.push({ op: intent.action, arch: e.cpu, ...(intent.force ? { force: true } : {}) });
        break;
      }
      case 'persist-on':
      case 'persist-off': {
        if (!explicit) {
          const h = status.handlers.find((x) => x.name === e.handlerName);
          if (!h || h.owner.kind !== 'archway') continue;
        }
        ops.push({ op: 'persist', arch: e.cpu, on: intent.action === 'persist-on' });
        break;
      }
      case 'use': {
        const em = intent.emulator;
        if (em === undefined) throw new UnknownUseError('use: name the emulator to switch to (a version, a sha256, or distro)');
        ops.push({ op: 'use', arch: e.cpu, emulator: em === 'distro' ? { source: 'distro' } : { source: 'store', sha256: em.sha256 } });
        break;
      }
      case 'mount':
        break;
    }
  }
  return { request: ops.length ? { version: PROTOCOL_VERSION, ops } : null, skipped };
}
