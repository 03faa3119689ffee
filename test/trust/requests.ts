/**
 * Generators of helper requests (fast-check) and the invariant every helper answer must satisfy.
 * Shared by the in-process fuzz spec (electron/helper/request.fuzz.spec.ts, dry runs) and the
 * namespace fuzz test (test/trust/helper-fuzz.test.ts, real runs against a private binfmt_misc).
 *
 * Three families of input:
 *  - junk: random bytes, random JSON, random JS values;
 *  - near-valid: a schema-valid request with ONE thing changed (a key removed, added or retyped,
 *    a string made oversized, a number out of range…);
 *  - schema-valid requests with hostile values: unknown or native arches, unsafe interpreter paths,
 *    impossible flag combinations, duplicate arches, 65 operations…
 */
import fc from 'fast-check';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { CATALOG, catalogEntry } from '../../shared/arch/catalog';
import { parseRegister, sameMatch, type Rule } from '../../shared/binfmt/register';
import { ErrorCodes, HelperResponseSchema, MAX_OPS, type HelperResponse } from '../../shared/helper-protocol';
import { catalogRule, ruleMatchesHeader } from '../../shared/status';
import { kernelParse, kernelRuleView, kernelViewOf } from './kernel-model';

/** A minimal static x86-64 ELF executable header (one PT_LOAD, no PT_INTERP): what the trust checks read. */
export function tinyStaticElf(): Buffer {
  const b = Buffer.alloc(64 + 56);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(62, 18); // EM_X86_64
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(0x400000n, 24);
  b.writeBigUInt64LE(64n, 32); // e_phoff
  b.writeUInt16LE(64, 52);
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(1, 56);
  b.writeUInt32LE(1, 64); // PT_LOAD
  return b;
}

/** Files the generators point at, made under `dir` (which must be root-owned 0755 for the good ones to be trusted). */
export interface FuzzFiles {
  goodElf: string;
  textFile: string;
  worldWritable: string;
  notExecutable: string;
  link: string;
  dir: string;
}

export function makeFuzzFiles(dir: string): FuzzFiles {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const f: FuzzFiles = {
    goodElf: join(dir, 'qemu-tiny'),
    textFile: join(dir, 'notes.txt'),
    worldWritable: join(dir, 'qemu-ww'),
    notExecutable: join(dir, 'qemu-noexec'),
    link: join(dir, 'qemu-link'),
    dir: join(dir, 'subdir'),
  };
  writeFileSync(f.goodElf, tinyStaticElf(), { mode: 0o755 });
  writeFileSync(f.textFile, 'not a program\n', { mode: 0o755 });
  writeFileSync(f.worldWritable, tinyStaticElf(), { mode: 0o777 });
  chmodSync(f.worldWritable, 0o777);
  writeFileSync(f.notExecutable, tinyStaticElf(), { mode: 0o644 });
  symlinkSync(f.goodElf, f.link);
  mkdirSync(f.dir, { mode: 0o755 });
  return f;
}

const CPUS = CATALOG.map((c) => c.cpu);

export function arbitraries(files: FuzzFiles) {
  const junkString = fc.oneof(
    fc.constantFrom('', ' ', '\n', '\0', ':', '..', '/', 'é', '€', '😀', '\u202e', 'A'.repeat(300), '%s%n', '${7*7}', '__proto__', 'constructor'),
    fc.string({ maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 12 }),
  );
  const arch = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...CPUS) },
    { weight: 2, arbitrary: fc.constantFrom('arm64', 'amd64', 'x86_64', 'i386', 'i486', 'AARCH64', 'aarch64 ', 'qemu-aarch64', 'linux/arm64', 'all', 'a'.repeat(32), 'a'.repeat(33), '_', 'riscv128') },
    { weight: 1, arbitrary: junkString },
  );
  const safeArch = fc.constantFrom('aarch64', 's390x', 'riscv64', 'ppc64le', 'mips64el', 'arm', 'alpha', 'sparc64');
  const paths = fc.constantFrom(
    files.goodElf,
    files.textFile,
    files.worldWritable,
    files.notExecutable,
    files.link,
    files.dir,
    '/usr/bin/qemu-aarch64-static',
    '/usr/libexec/qemu-binfmt/aarch64-binfmt-P',
    '/bin/sh',
    '/etc/passwd',
    '/dev/null',
    '/proc/self/exe',
    '/nonexistent/qemu',
    'relative/qemu',
    '/usr/bin/../bin/qemu-aarch64-static',
    '/usr//bin/qemu-aarch64-static',
    '/usr/bin/',
    `/${'a'.repeat(126)}`,
    `/${'a'.repeat(127)}`,
    '/usr/bin/qemu:x',
    '/usr/bin/qemu\nx',
    '/tmp',
  );
  const interpreter = fc.oneof(
    fc.constant({ source: 'distro' as const }),
    fc.constant({ source: 'store' as const }),
    paths.map((path) => ({ source: 'path' as const, path })),
  );
  // F is required (flags without it are refused): valid-looking sets with F are drawn more often so
  // enough requests are accepted to exercise the apply path.
  const flags = fc.oneof(
    { arbitrary: fc.constantFrom('F', 'PF', 'OF', 'POF', 'FC', 'PFC'), weight: 2 },
    { arbitrary: fc.constantFrom('', 'CF', 'P', 'OC', 'POCF', 'FF', 'O', 'C'), weight: 1 },
    { arbitrary: fc.string({ unit: fc.constantFrom('P', 'O', 'C', 'F'), maxLength: 4 }), weight: 1 },
  );
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  const strip = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

  const install = (a: fc.Arbitrary<string>) =>
    fc
      .record({ op: fc.constant('install' as const), arch: a, interpreter: opt(interpreter), flags: opt(flags), allowSetuid: opt(fc.boolean()), persist: opt(fc.boolean()), allowDynamic: opt(fc.boolean()), takeOver: opt(fc.boolean()) })
      .map(strip);
  const uninstall = (a: fc.Arbitrary<string>) => fc.record({ op: fc.constant('uninstall' as const), arch: a, force: opt(fc.boolean()) }).map(strip);
  const toggle = (a: fc.Arbitrary<string>) => fc.record({ op: fc.constantFrom('enable' as const, 'disable' as const), arch: a, force: opt(fc.boolean()) }).map(strip);
  const persist = (a: fc.Arbitrary<string>) => fc.record({ op: fc.constant('persist' as const), arch: a, on: fc.boolean() });
  const mount = fc.constant({ op: 'mount' as const });
  const storeAdd = (a: fc.Arbitrary<string>) =>
    fc.record({
      op: fc.constant('store-add' as const),
      arch: a,
      file: fc.constantFrom(files.goodElf, files.textFile, files.link, files.dir, '/nonexistent', '/dev/null', '/bin/sh'),
      // The approved digest: the good ELF's own (stored), or one that matches nothing (content-mismatch).
      sha256: fc.constantFrom(existsSync(files.goodElf) ? createHash('sha256').update(readFileSync(files.goodElf)).digest('hex') : '0'.repeat(64), '0'.repeat(64)),
      provenance: fc.record({ image: fc.constantFrom('tonistiigi/binfmt:latest', ''), digest: opt(fc.constantFrom('sha256:0000', 'x')), qemuVersion: opt(fc.constantFrom('8.1.5', '')) }).map(strip),
    });

  const opOf = (a: fc.Arbitrary<string>, withStore: boolean) =>
    fc.oneof(
      { weight: 6, arbitrary: install(a) },
      { weight: 3, arbitrary: uninstall(a) },
      { weight: 2, arbitrary: toggle(a) },
      { weight: 2, arbitrary: persist(a) },
      { weight: 1, arbitrary: mount },
      { weight: withStore ? 1 : 0, arbitrary: storeAdd(a) },
    );

  /** Schema-valid (mostly) requests with hostile values. */
  const request = (a: fc.Arbitrary<string> = arch, withStore = true) =>
    fc.record({ version: fc.constant(1 as const), ops: fc.array(opOf(a, withStore), { minLength: 1, maxLength: 4 }), dryRun: opt(fc.boolean()) }).map(strip);

  /** Change one thing somewhere in a valid-looking request. */
  const mutation = fc.oneof(
    fc.constant({ kind: 'delete' as const }),
    fc.constant({ kind: 'extra-key' as const }),
    fc.record({ kind: fc.constant('retype' as const), value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, true, 0, -1, 1.5, 2, [], {}, '1')) }),
    fc.record({ kind: fc.constant('oversize' as const), len: fc.constantFrom(33, 128, 513, 4097, 70_000) }),
  );
  const nearValid = fc.tuple(request(), mutation, fc.nat()).map(([req, m, pick]) => mutate(req, m, pick));

  const manyOps = fc.tuple(fc.integer({ min: MAX_OPS - 1, max: MAX_OPS + 2 }), safeArch).map(([n, a]) => ({ version: 1, ops: Array.from({ length: n }, () => ({ op: 'uninstall', arch: a })) }));

  const junk = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('utf8')),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.jsonValue({ maxDepth: 4 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.anything({ maxDepth: 2 }),
    fc.constantFrom('', '{}', '[]', 'null', '{"version":1}', '{"version":1,"ops":[]}', ' '.repeat(70_000), `{"version":1,"ops":[{"op":"mount"}],"pad":"${'x'.repeat(70_000)}"}`, '{"version":1,"ops":[{"op":"mount"}]}\n{"version":1}', '{"__proto__":{"dryRun":true},"version":1,"ops":[{"op":"mount"}]}'),
  );

  return { arch, safeArch, request, nearValid, manyOps, junk, opOf };
}

/** Apply one mutation at the `pick`-th place (value node) of a request. */
export function mutate(req: unknown, m: { kind: 'delete' | 'extra-key' | 'retype' | 'oversize'; value?: unknown; len?: number }, pick: number): unknown {
  const clone = JSON.parse(JSON.stringify(req)) as unknown;
  const places: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const objects: Record<string, unknown>[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        places.push({ parent: v, key: i });
        walk(x);
      });
    } else if (v && typeof v === 'object') {
      objects.push(v as Record<string, unknown>);
      for (const [k, x] of Object.entries(v)) {
        places.push({ parent: v as Record<string, unknown>, key: k });
        walk(x);
      }
    }
  };
  walk(clone);
  if (m.kind === 'extra-key') {
    const o = objects[pick % objects.length]!;
    o[['extra', 'op2', 'path', 'ARCHWAY_ROOT', 'uid'][pick % 5]!] = pick % 2 ? 'x' : true;
    return clone;
  }
  const place = places[pick % places.length];
  if (!place) return m.kind === 'retype' ? m.value : clone;
  const { parent, key } = place;
  if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
  } else if (m.kind === 'retype') {
    (parent as Record<string | number, unknown>)[key] = m.value;
  } else {
    const cur = (parent as Record<string | number, unknown>)[key];
    (parent as Record<string | number, unknown>)[key] = typeof cur === 'string' ? cur + 'a'.repeat(m.len ?? 100) : 'a'.repeat(m.len ?? 100);
  }
  return clone;
}

/** What every refusal must look like. */
export function expectClearError(e: { code?: unknown; message?: unknown } | undefined, where: string): void {
  if (!e) throw new Error(`${where}: no error object`);
  if (typeof e.code !== 'string' || !(ErrorCodes as readonly string[]).includes(e.code)) throw new Error(`${where}: error code ${String(e.code)} is not one of ErrorCodes`);
  if (typeof e.message !== 'string' || e.message.trim().length < 8) throw new Error(`${where}: error message ${JSON.stringify(e.message)} says too little`);
}

export interface InvariantContext {
  /** First bytes of a native program: no accepted rule may match it. */
  hostHeader: Uint8Array;
  /** Operations in the request (after schema parsing). */
  opCount: number;
}

/**
 * The invariant for a request the helper answered (it did not throw): the response is well-formed;
 * if it is ok, every register string it wrote (or would write) re-parses to the catalog rule of its
 * arch, is read the same way by the kernel, and does not match the host's own programs; if not,
 * every failed operation carries a clear error and nothing reports a change.
 * Returns 'accepted' or 'refused'.
 */
export function checkResponse(res: HelperResponse, ctx: InvariantContext): 'accepted' | 'refused' | 'partial' {
  const parsed = HelperResponseSchema.safeParse(res);
  if (!parsed.success) throw new Error(`malformed response: ${parsed.error.issues[0]?.message} in ${JSON.stringify(res).slice(0, 300)}`);
  if (res.results.length !== ctx.opCount) throw new Error(`${ctx.opCount} operations but ${res.results.length} results`);
  for (const r of res.results) {
    if (r.ok && r.op === 'install') {
      if (!r.register) throw new Error(`install ${r.arch} accepted without a register string`);
      const entry = catalogEntry(r.arch ?? '');
      if (!entry) throw new Error(`install accepted for non-catalog arch ${String(r.arch)}`);
      let rule: Rule;
      try {
        rule = parseRegister(r.register);
      } catch (err) {
        throw new Error(`install ${r.arch}: the register string does not re-parse: ${(err as Error).message}`);
      }
      if (rule.name !== entry.handlerName) throw new Error(`install ${r.arch} registers ${rule.name}`);
      if (!sameMatch(rule, catalogRule(entry.cpu, '/x', ''))) throw new Error(`install ${r.arch}: the rule does not select ${r.arch} programs only`);
      if (ruleMatchesHeader(rule, ctx.hostHeader)) throw new Error(`install ${r.arch}: the rule matches the host's own programs`);
      const k = kernelParse(r.register);
      if (!k.ok) throw new Error(`install ${r.arch}: the kernel would refuse ${r.register}: ${k.why}`);
      const want = kernelViewOf(rule);
      const got = kernelRuleView(k.rule);
      if (JSON.stringify(want) !== JSON.stringify(got)) throw new Error(`install ${r.arch}: the kernel reads ${r.register} differently`);
    }
    if (!r.ok) {
      if (r.error) expectClearError(r.error, `${r.op} ${r.arch ?? ''}`);
      else if (!/^not run: /.test(r.message)) throw new Error(`${r.op} ${r.arch ?? ''} failed without an error object: ${r.message}`);
    }
  }
  if (res.ok) {
    if (res.results.some((r) => !r.ok)) throw new Error('response ok but an operation failed');
    return 'accepted';
  }
  if (!res.results.some((r) => r.error)) throw new Error('response not ok but no operation says why');
  const anyChangeDone = !res.dryRun && res.results.some((r) => r.ok && r.changed);
  return anyChangeDone ? 'partial' : 'refused';
}
