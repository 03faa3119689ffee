#!/usr/bin/env node
// Build everything: the privileged helper and the CLI as single-file esbuild bundles (small,
// auditable, run by plain Node or by Electron as Node), and the desktop app with electron-vite.
// `node scripts/build.mjs cli` builds only the helper and the CLI (no Electron toolchain needed).
import { build } from 'esbuild';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { buildCli, helperBundle } from './esbuild-common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2];
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// Stale code-split chunks from earlier builds must not linger next to the new ones.
rmSync(join(root, 'dist/cli'), { recursive: true, force: true });
rmSync(join(root, 'dist/helper'), { recursive: true, force: true });

// One bundle configuration with the packages (scripts/esbuild-common.mjs); here: this Node.
const here = { root, target: 'node20', version };
// The helper never talks to Docker: keep it small.
await build(helperBundle({ ...here, outfile: join(root, 'dist/helper/archway-helper.mjs'), shebang: true }));
await buildCli({ ...here, outdir: join(root, 'dist/cli') });
console.log('built dist/helper/archway-helper.mjs and the CLI (dist/cli: loader.cjs, archway.cjs, chunks)');

if (only !== 'cli' && existsSync(join(root, 'electron.vite.config.ts'))) {
  const r = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
