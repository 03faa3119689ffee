#!/usr/bin/env node
// Write archway(1) — roff generated from the CLI's command spec (electron/cli/spec.ts), the same
// source as `archway --help` — to dist/man/archway.1 (or the path given). Packages install it.
// The date is the last commit's (stable across rebuilds), else today.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'dist/man/archway.1'));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const git = spawnSync('git', ['log', '-1', '--format=%cs'], { cwd: root, encoding: 'utf8' });
const date = git.status === 0 && git.stdout.trim() ? git.stdout.trim() : new Date().toISOString().slice(0, 10);

const bundle = join(tmpdir(), `archway-man-${process.pid}.mjs`);
await build({
  entryPoints: [join(root, 'electron/cli/man.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'esm',
  logLevel: 'warning',
  define: { __ARCHWAY_VERSION__: JSON.stringify(version) },
});
const { manPage } = await import(pathToFileURL(bundle).href);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, manPage(version, date));
console.log(`wrote ${out}`);
