/**
 * Archway's ownership record (/var/lib/archway/state.json): which handlers Archway registered,
 * with what, and what it replaced. The helper writes it atomically; everyone else only reads it.
 *
 * Its check is written out here rather than as a zod schema: `archway status` reads the record on
 * every run, and loading zod and building its schemas cost about 4 ms of a 15 ms start-up budget.
 * parseRecord is the one check of the format (the helper, status and the tests all call it); it
 * is as strict as the schema was: every field bounded, unknown fields refused.
 */

export const RECORD_VERSION = 1;

export interface HandlerRecord {
  cpu: string;
  /** The exact register string Archway wrote. */
  register: string;
  source: 'distro' | 'store' | 'path';
  installedAt: string;
  /** uid of the person who asked (PKEXEC_UID, or 0 when run as root). */
  installedBy: number;
  persist: boolean;
  /** A handler of the same name that was there before and was taken over. */
  previous?: { register: string; owner: string };
  /** `emulators use`: the emulator this handler ran before the last switch (what *Use previous* goes back to). */
  usedBefore?: string;
}

export interface PendingStep {
  name: string;
  op: 'install' | 'uninstall' | 'persist';
  /** What the kernel should show when the step completes ('' = no entry). */
  register: string;
  startedAt: string;
  /** For install: the record to adopt if the kernel shows the entry after a crash. For uninstall: what is being removed. */
  handler?: HandlerRecord;
}

export interface ArchwayRecord {
  version: typeof RECORD_VERSION;
  handlers: Record<string, HandlerRecord>;
  pending?: PendingStep[];
}

export class RecordFormatError extends Error {}

type Obj = Record<string, unknown>;

function fail(path: string, what: string): never {
  throw new RecordFormatError(`${path || 'record'}: ${what}`);
}

function object(v: unknown, path: string, required: readonly string[], optional: readonly string[] = []): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'expected an object');
  const o = v as Obj;
  for (const k of Object.keys(o)) if (!required.includes(k) && !optional.includes(k)) fail(path, `unknown field "${k}"`);
  for (const k of required) if (o[k] === undefined) fail(path ? `${path}.${k}` : k, 'missing');
  return o;
}

function str(v: unknown, path: string, max: number): string {
  if (typeof v !== 'string') fail(path, 'expected a string');
  if (v.length > max) fail(path, `longer than ${max} characters`);
  return v;
}

function oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) fail(path, `expected one of ${values.join(', ')}`);
  return v as T;
}

function handlerRecord(v: unknown, path: string): HandlerRecord {
  const o = object(v, path, ['cpu', 'register', 'source', 'installedAt', 'installedBy', 'persist'], ['previous', 'usedBefore']);
  const uid = o.installedBy;
  if (typeof uid !== 'number' || !Number.isSafeInteger(uid) || uid < 0) fail(`${path}.installedBy`, 'expected a whole number ≥ 0');
  if (typeof o.persist !== 'boolean') fail(`${path}.persist`, 'expected true or false');
  const h: HandlerRecord = {
    cpu: str(o.cpu, `${path}.cpu`, 32),
    register: str(o.register, `${path}.register`, 1920),
    source: oneOf(o.source, `${path}.source`, ['distro', 'store', 'path'] as const),
    installedAt: str(o.installedAt, `${path}.installedAt`, 64),
    installedBy: uid,
    persist: o.persist,
  };
  if (o.previous !== undefined) {
    const p = object(o.previous, `${path}.previous`, ['register', 'owner']);
    h.previous = { register: str(p.register, `${path}.previous.register`, 1920), owner: str(p.owner, `${path}.previous.owner`, 200) };
  }
  if (o.usedBefore !== undefined) h.usedBefore = str(o.usedBefore, `${path}.usedBefore`, 127);
  return h;
}

function pendingStep(v: unknown, path: string): PendingStep {
  const o = object(v, path, ['name', 'op', 'register', 'startedAt'], ['handler']);
  return {
    name: str(o.name, `${path}.name`, 64),
    op: oneOf(o.op, `${path}.op`, ['install', 'uninstall', 'persist'] as const),
    register: str(o.register, `${path}.register`, 1920),
    startedAt: str(o.startedAt, `${path}.startedAt`, 64),
    ...(o.handler !== undefined ? { handler: handlerRecord(o.handler, `${path}.handler`) } : {}),
  };
}

/** The record in `value` (parsed JSON), checked; throws RecordFormatError naming the first problem. */
export function parseRecord(value: unknown): ArchwayRecord {
  const o = object(value, '', ['version', 'handlers'], ['pending']);
  if (o.version !== RECORD_VERSION) fail('version', `expected ${RECORD_VERSION}`);
  const hs = o.handlers;
  if (typeof hs !== 'object' || hs === null || Array.isArray(hs)) fail('handlers', 'expected an object');
  const handlers: Record<string, HandlerRecord> = {};
  for (const [name, h] of Object.entries(hs)) {
    if (name.length > 64) fail('handlers', 'a name longer than 64 characters');
    // An own property even for "__proto__" (JSON.parse makes it one; plain assignment would not).
    Object.defineProperty(handlers, name, { value: handlerRecord(h, `handlers.${name}`), enumerable: true, writable: true, configurable: true });
  }
  const rec: ArchwayRecord = { version: RECORD_VERSION, handlers };
  if (o.pending !== undefined) {
    if (!Array.isArray(o.pending)) fail('pending', 'expected a list');
    if (o.pending.length > 128) fail('pending', 'more than 128 steps');
    rec.pending = o.pending.map((p, i) => pendingStep(p, `pending.${i}`));
  }
  return rec;
}

/** The record's check, shaped like the schema it replaced (`ArchwayRecordSchema.parse(json)`). */
export const ArchwayRecordSchema = { parse: parseRecord };

export function emptyRecord(): ArchwayRecord {
  return { version: RECORD_VERSION, handlers: {} };
}
