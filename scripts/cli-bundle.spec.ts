// What `archway status` loads at start-up, read from the real CLI build's metafile (scripts/esbuild-common.mjs
// cliBundle): the entry, the chunks it imports statically, and the chunk of `import('./rootless')` that
// plain `archway status` runs (electron/cli/main.ts) with its static imports. Nothing there may pull in
// a schema library or Node's stream/process stacks: each one costs every `archway status` milliseconds
// (bench/run.mjs status; zod alone ≈ 7 ms when shared/plan/use.ts took ArchwayError from helper-protocol).
import { build, type Metafile } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs build script without types
import { cliBundle } from './esbuild-common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let meta: Metafile;
const out = mkdtempSync(join(tmpdir(), 'archway-cli-bundle-'));

beforeAll(async () => {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const r = await build({ ...cliBundle({ root, target: 'node20', version, outdir: out, extra: { metafile: true, logLevel: 'error' } }), write: false });
  meta = r.metafile!;
}, 60_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Output files loaded before `status` reads anything: the closure of static imports from the entry and the rootless chunk. */
function statusClosure(): { files: Set<string>; builtins: Set<string> } {
  const outputs = Object.entries(meta.outputs);
  const byEntry = (re: RegExp) => outputs.find(([, o]) => o.entryPoint !== undefined && re.test(o.entryPoint))?.[0];
  const starts = [byEntry(/electron\/cli\/archway\.ts$/), byEntry(/electron\/cli\/rootless\.ts$/)];
  expect(starts.every(Boolean), 'the entry and the rootless chunk are found in the metafile').toBe(true);
  const files = new Set<string>();
  const builtins = new Set<string>();
  const todo = [...(starts as string[])];
  while (todo.length) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    for (const i of meta.outputs[f]!.imports) {
      if (i.kind !== 'import-statement') continue;
      if (i.external) builtins.add(i.path.replace(/^node:/, ''));
      else todo.push(i.path);
    }
  }
  return { files, builtins };
}

describe('the modules `archway status` loads', () => {
  it('include no schema library (zod)', () => {
    const { files } = statusClosure();
    const zod = [...files].flatMap((f) => Object.keys(meta.outputs[f]!.inputs).filter((i) => i.includes('node_modules/zod')).map((i) => `${f}: ${i}`));
    expect(zod).toEqual([]);
  });

  it('import none of Node’s process, stream, network or zlib modules statically', () => {
    const { builtins } = statusClosure();
    expect([...builtins].filter((b) => ['child_process', 'stream', 'net', 'tty', 'zlib', 'http', 'https', 'crypto', 'fs/promises'].includes(b))).toEqual([]);
  });
});
