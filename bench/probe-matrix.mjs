#!/usr/bin/env node
// Launcher for bench/probe-matrix.ts (tsx is not a dependency; esbuild is): bundles it into
// .cache/bench (inside the repository, so `docker-modem` resolves from node_modules) and runs it.
//   sudo node bench/probe-matrix.mjs [ROUNDS]      (or: sudo npm run bench -- probe)
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.cache', 'bench', 'probe-matrix.bundle.mjs');
mkdirSync(dirname(out), { recursive: true });
await build({ entryPoints: [join(root, 'bench/probe-matrix.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: out, logLevel: 'error' });
await import(pathToFileURL(out).href);
