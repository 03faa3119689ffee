/**
 * Property-based tests of the privileged helper's request validation, in-process and fake-free:
 * the real Helper class, the real trust checks on real files, the real emulators of this machine,
 * in dry-run mode against an ARCHWAY_ROOT-style temporary tree and a binfmt_misc path that is not
 * mounted (so nothing can change). test/trust/helper-fuzz.test.ts runs the same generators through
 * real (not dry) runs inside a private binfmt_misc and checks the kernel table too.
 *
 * Invariant, for thousands of inputs (random bytes and JSON, near-valid requests with one thing
 * changed, schema-valid requests with hostile values):
 *   either the request is accepted, and every register string re-parses to its arch's catalog rule
 *   and the kernel (model) reads it the same way; or it is refused with an error code from the
 *   protocol's closed list and words that say what is wrong — never an exception of another kind,
 *   never a malformed response, and (dry run) never a file written.
 *
 * Regression seeds: request.fuzz-seeds.json, replayed on every run (see the register codec spec
 * for the format; "expect" is "accepted" or "refused").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ArchwayError, HelperRequestSchema, MAX_REQUEST_BYTES } from '../../shared/helper-protocol';
import { archwayPaths, type ArchwayPaths } from '../engine/paths';
import { hostFacts } from '../engine/host';
import { Helper, parseRequest } from './ops';
import { assertRecordingSeeds } from '../../test/support/fuzz-seeds';
import { arbitraries, checkResponse, expectClearError, makeFuzzFiles, type FuzzFiles } from '../../test/trust/requests';

interface Seed {
  input: unknown;
  note: string;
  /** Absent in a seed the fuzzer wrote itself: the replay then checks only that no invariant breaks. */
  expect?: 'accepted' | 'refused';
  /** Replace "$GOOD_ELF" etc. in the input with the generated files. */
}
const SEEDS_FILE = new URL('./request.fuzz-seeds.json', import.meta.url);
const SEEDS = JSON.parse(readFileSync(SEEDS_FILE, 'utf8')) as Seed[];

const RUNS = Number(process.env.ARCHWAY_FUZZ_RUNS ?? 0) || undefined;
const runs = (n: number) => ({ numRuns: RUNS ?? n });
const TIMEOUT = RUNS ? 600_000 : 30_000;

let root: string;
let paths: ArchwayPaths;
let files: FuzzFiles;
let arb: ReturnType<typeof arbitraries>;

function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = statSync(p, { throwIfNoEntry: false });
      out.push(`${p}:${st?.size}:${st?.mtimeMs}`);
      if (st?.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'archway-fuzz-'));
  files = makeFuzzFiles(join(root, 'bin'));
  // An ARCHWAY_ROOT tree with no record yet, and a binfmt_misc path where nothing is mounted.
  paths = archwayPaths(join(root, 'sys'), join(root, 'not-mounted-binfmt'));
  arb = arbitraries(files);
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const host = () => hostFacts();

/** One input through the helper as the Engine's preview does (dry run). */
async function once(input: unknown): Promise<'accepted' | 'refused'> {
  const helper = new Helper({ paths, host: host(), callerUid: 1000 });
  let res;
  try {
    res = await helper.run(input, { dryRun: true });
  } catch (err) {
    if (!(err instanceof ArchwayError)) throw new Error(`Helper.run threw ${String(err)} (not an ArchwayError) for ${JSON.stringify(input)?.slice(0, 200)}`);
    expect(err.code).toBe('bad-request');
    expectClearError(err.toJSON(), 'request');
    return 'refused';
  }
  const req = parseRequest(input);
  const verdict = checkResponse(res, { hostHeader: host().header, opCount: req.ops.length });
  expect(res.dryRun).toBe(true);
  if (verdict === 'partial') throw new Error('a dry run reported a change');
  return verdict;
}

/** The reverse of substitute, for a seed the fuzzer writes: generated file paths back to their $NAMES. */
function placeholders(v: unknown): unknown {
  if (v === undefined) return null;
  const s = JSON.stringify(v).replaceAll(files.goodElf, '$GOOD_ELF').replaceAll(files.textFile, '$TEXT_FILE').replaceAll(files.link, '$LINK');
  return JSON.parse(s) as unknown;
}
const seedFile = (what: string) => ({ file: SEEDS_FILE, what, toInput: ([input]: [unknown, ...unknown[]]) => placeholders(input) });

function substitute(v: unknown): unknown {
  const s = JSON.stringify(v)
    .replaceAll('$GOOD_ELF', files.goodElf)
    .replaceAll('$TEXT_FILE', files.textFile)
    .replaceAll('$LINK', files.link);
  return JSON.parse(s) as unknown;
}

describe('helper request validation (fast-check, in-process dry runs)', () => {
  it(
    'junk (random bytes, JSON, values) is refused as bad-request with words, or parses to a valid request',
    async () => {
      await assertRecordingSeeds(
        fc.asyncProperty(arb.junk, async (input) => {
          let req;
          try {
            req = parseRequest(input);
          } catch (err) {
            if (!(err instanceof ArchwayError)) throw err;
            expect(err.code).toBe('bad-request');
            expectClearError(err.toJSON(), 'parseRequest');
            return;
          }
          // If junk parsed, it must be a real request (the strict schema agrees with itself).
          expect(HelperRequestSchema.safeParse(req).success).toBe(true);
          await once(input);
        }),
        runs(3000),
        seedFile('junk broke a request invariant'),
      );
    },
    TIMEOUT,
  );

  it(
    'near-valid requests (one key removed, added, retyped or oversized) are accepted consistently or refused clearly',
    async () => {
      const seen = { accepted: 0, refused: 0 };
      await assertRecordingSeeds(
        fc.asyncProperty(arb.nearValid, fc.boolean(), async (input, asString) => {
          seen[await once(asString ? JSON.stringify(input) : input)]++;
        }),
        runs(3000),
        { ...seedFile('a near-valid request broke a request invariant'), toInput: ([input, asString]) => placeholders(asString ? JSON.stringify(input) : input) },
      );
      expect(seen.refused).toBeGreaterThan(100);
    },
    TIMEOUT,
  );

  it(
    'schema-valid requests with hostile values: every accepted register string is its arch\'s catalog rule; every refusal is coded',
    async () => {
      const seen = { accepted: 0, refused: 0 };
      await assertRecordingSeeds(
        fc.asyncProperty(arb.request(), async (req) => {
          seen[await once(req)]++;
        }),
        runs(4000),
        seedFile('a schema-valid request broke a request invariant'),
      );
      // Both sides must be reached for the property to mean anything.
      expect(seen.accepted).toBeGreaterThan(100);
      expect(seen.refused).toBeGreaterThan(100);
    },
    TIMEOUT,
  );

  it('oversized requests: more than 64 operations or 64 KiB are refused before anything is planned', async () => {
    await assertRecordingSeeds(
      fc.asyncProperty(arb.manyOps, async (req) => {
        const v = await once(req);
        if (req.ops.length > 64) expect(v).toBe('refused');
      }),
      runs(20),
      seedFile('an oversized request was not refused'),
    );
    const big = JSON.stringify({ version: 1, ops: [{ op: 'mount' }], pad: 'x' }).replace('"x"', `"${'x'.repeat(MAX_REQUEST_BYTES)}"`);
    expect(() => parseRequest(big)).toThrow(/larger than 65536 bytes/);
  });

  it('a dry run never writes a file', () => {
    // Everything above ran against `paths`; the tree under it must still be empty.
    expect(tree(root).filter((p) => p.startsWith(paths.root))).toEqual([]);
  });
});

describe('helper request regression seeds (request.fuzz-seeds.json)', () => {
  for (const seed of SEEDS) {
    it(`${seed.note} → ${seed.expect ?? 'no invariant broken'}`, async () => {
      const verdict = await once(substitute(seed.input));
      if (seed.expect) expect(verdict).toBe(seed.expect);
    });
  }
});
