#!/usr/bin/env node
// Build everything: the privileged helper and the CLI as single-file esbuild bundles (small,
// auditable, run by plain Node or by Electron as Node), and the desktop app with electron-vite.
// `node scripts/build.mjs cli` builds only the helper and the CLI (no Electron toolchain needed).
import { build } from 'esbuild';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { ESBUILD_COMMON } from './esbuild-common.mjs';
import { fsWithoutFacade, oneHotChunk } from './esbuild-cli-plugins.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2];
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const common = ESBUILD_COMMON;

// Stale code-split chunks from earlier builds must not linger next to the new ones.
rmSync(join(root, 'dist/cli'), { recursive: true, force: true });
rmSync(join(root, 'dist/helper'), { recursive: true, force: true });

await build({
  ...common,
  entryPoints: [join(root, 'electron/helper/main.ts')],
  outfile: join(root, 'dist/helper/archway-helper.mjs'),
  banner: { js: `#!/usr/bin/env node\n${common.banner.js}` },
});
await build({
  ...common,
  entryPoints: { archway: join(root, 'electron/cli/archway.ts') },
  outdir: join(root, 'dist/cli'),
  outExtension: { '.js': '.mjs' },
  // `archway --version` from package.json, without reading a file at start-up.
  define: { __ARCHWAY_VERSION__: JSON.stringify(version) },
  // `archway status` must start nearly as fast as bare node: the Docker half (probe) is a separate
  // chunk loaded only by `archway probe`.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  minify: true,
  // `import … from 'node:fs'` in an ES module makes Node build its ESM facade of fs, which reads
  // every export, lazy getters included: that loads fs streams and fs/promises (≈3 ms per start).
  plugins: [fsWithoutFacade, oneHotChunk(join(root, 'electron/cli/main.ts'))],
});
console.log('built dist/helper/archway-helper.mjs and dist/cli/archway.mjs');

if (only !== 'cli' && existsSync(join(root, 'electron.vite.config.ts'))) {
  const r = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
