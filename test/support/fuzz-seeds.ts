// Regression seeds written by the fuzzers themselves: when fast-check finds a counterexample, it is
// appended to the spec's seed file (replayed on every later run) before the test fails, so a failure
// in CI or on a busy machine can be replayed and is not lost with the log.
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';

export interface SeedRecord {
  input: unknown;
  note: string;
  [key: string]: unknown;
}

/**
 * Append seeds to a JSON-array seed file, skipping inputs already in it. Returns how many were added.
 * The file's own text is kept as it is: each new entry goes on its own line before the closing "]".
 */
export function recordSeeds(file: string | URL, seeds: SeedRecord[]): number {
  const text = readFileSync(file, 'utf8');
  const list = JSON.parse(text) as SeedRecord[];
  const known = new Set(list.map((s) => JSON.stringify(s.input)));
  const fresh: SeedRecord[] = [];
  for (const s of seeds) {
    const key = JSON.stringify(s.input);
    if (known.has(key)) continue;
    known.add(key);
    fresh.push(s);
  }
  if (fresh.length === 0) return 0;
  const end = text.lastIndexOf(']');
  const head = text.slice(0, end).trimEnd();
  const indent = /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ';
  const lines = fresh.map((s) => `${indent}${JSON.stringify(s)}`).join(',\n');
  writeFileSync(file, `${head}${list.length > 0 ? ',' : ''}\n${lines}\n${text.slice(end)}`);
  JSON.parse(readFileSync(file, 'utf8')); // still one JSON array
  return fresh.length;
}

const shorten = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}…` : s);

export interface SeedFile<Ts> {
  file: string | URL;
  /** Which property failed, for the note. */
  what: string;
  /** The seed file's "input" for a counterexample (default: its first value). */
  toInput?: (counterexample: Ts) => unknown;
  /** More fields for the seed entry (e.g. what the replay expects). */
  extra?: (counterexample: Ts) => Record<string, unknown>;
}

/**
 * fc.assert, except that a counterexample is first written to the seed file (with the fast-check
 * seed and path that found it), then the test fails with fast-check's own report.
 */
export async function assertRecordingSeeds<Ts extends [unknown, ...unknown[]]>(
  property: fc.IRawProperty<Ts>,
  params: fc.Parameters<Ts>,
  seeds: SeedFile<Ts>,
): Promise<void> {
  const details = await fc.check(property, params);
  if (!details.failed) return;
  let where = '';
  if (details.counterexample) {
    const ce = details.counterexample;
    const added = recordSeeds(seeds.file, [
      {
        input: seeds.toInput ? seeds.toInput(ce) : ce[0],
        note: `fast-check seed ${details.seed}${details.counterexamplePath ? `, path ${shorten(details.counterexamplePath)}` : ''}: ${seeds.what} (written by the fuzzer; not fixed yet)`,
        ...(seeds.extra?.(ce) ?? {}),
      },
    ]);
    const file = typeof seeds.file === 'string' ? seeds.file : seeds.file.pathname;
    where = added > 0 ? `\nThe counterexample was added to ${file}: commit it with the fix.` : `\nThe counterexample is already in ${file}.`;
  }
  throw new Error(`${fc.defaultReportMessage(details) ?? 'property failed'}${where}`);
}
