// The one bundle configuration of the CLI and the root helper, shared by scripts/build.mjs (dist/,
// run from a checkout by the development Node) and scripts/package.mjs (the .deb/.rpm bundles, run
// by the distribution's /usr/bin/node): both get the same start-up build (code splitting, one hot
// chunk, CommonJS scripts run with a code cache, minified for the CLI; one plain file for the
// helper). What differs is passed in: output place, target Node, what stays external, extra
// plugins, defines.
import { build } from 'esbuild';
import { join } from 'node:path';
import { finishCliScripts } from './cli-scripts.mjs';
import { oneHotChunk } from './esbuild-cli-plugins.mjs';

export const ESBUILD_COMMON = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: false,
  logLevel: 'warning',
  legalComments: 'none',
  // ESM bundles that pull in CommonJS dependencies need a real require().
  // ajv-formats-draft2019 (kubernetes-models' validators) requires 'punycode', which resolves to
  // Node's deprecated built-in (a DEP0040 warning on every `archway export kubernetes`): use the npm package.
  alias: { punycode: 'punycode/punycode.js' },
  banner: { js: "import { createRequire as __archwayRequire } from 'node:module'; const require = __archwayRequire(import.meta.url);" },
};

/** Entry points, relative to the repository root. */
export const ENTRIES = {
  helper: 'electron/helper/main.ts',
  cli: 'electron/cli/archway.ts',
  /** The CLI's main module: the anchor of its one hot chunk (esbuild-cli-plugins.mjs oneHotChunk). */
  cliMain: 'electron/cli/main.ts',
};

/**
 * @typedef {object} BundleChoice
 * @property {string} root      the repository root
 * @property {string} target    esbuild target, e.g. 'node20' (dist) or 'node18' (packages)
 * @property {string} version   package.json's version, compiled in as __ARCHWAY_VERSION__
 * @property {string[]} [external]  modules left to node_modules at run time
 * @property {import('esbuild').Plugin[]} [plugins]  plugins besides the start-up ones
 * @property {Partial<import('esbuild').BuildOptions>} [extra]  e.g. { metafile: true, logLevel: 'error' }
 * @property {boolean} [minify]  the CLI minified (default; false for readable profiles)
 */

/**
 * The helper bundle: one file (it is copied around alone: install-helper, the AppImage's resources).
 * @param {BundleChoice & { outfile: string; shebang?: boolean }} c
 */
export function helperBundle(c) {
  return {
    ...ESBUILD_COMMON,
    ...c.extra,
    target: c.target,
    entryPoints: [join(c.root, ENTRIES.helper)],
    outfile: c.outfile,
    external: c.external ?? [],
    define: { __ARCHWAY_VERSION__: JSON.stringify(c.version) },
    // No start-up plugins: the helper starts once per change, and stays as plain as can be.
    plugins: c.plugins ?? [],
    ...(c.shebang ? { banner: { js: `#!/usr/bin/env node\n${ESBUILD_COMMON.banner.js}` } } : {}),
  };
}

/**
 * The CLI bundle: `archway status` must start nearly as fast as bare node, so the Docker half
 * (probe, engines, emulators fetch) and everything a change needs are chunks loaded on demand, and
 * what `status` runs is one hot chunk. ES modules here; buildCli makes them CommonJS scripts.
 * @param {BundleChoice & { outdir: string }} c
 */
export function cliBundle(c) {
  return {
    ...ESBUILD_COMMON,
    ...c.extra,
    target: c.target,
    entryPoints: { archway: join(c.root, ENTRIES.cli) },
    outdir: c.outdir,
    // ES modules at first: scripts/cli-scripts.mjs turns each into a CommonJS script (buildCli),
    // which has a require() of its own (no banner making one from import.meta.url).
    outExtension: { '.js': '.cjs' },
    banner: {},
    // `archway --version` from package.json, without reading a file at start-up.
    define: { __ARCHWAY_VERSION__: JSON.stringify(c.version) },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    minify: c.minify ?? true,
    external: c.external ?? [],
    // No fs facade plugin any more: the chunks become CommonJS scripts, which take node:fs from
    // require (the loader: process.getBuiltinModule), with no ES module facade to build.
    plugins: [oneHotChunk(join(c.root, ENTRIES.cliMain)), ...(c.plugins ?? [])],
  };
}

/**
 * Builds the CLI: cliBundle's chunks, turned into CommonJS scripts, and dist/cli/loader.cjs, the
 * loader that runs them with a code cache (scripts/cli-scripts.mjs, electron/cli/loader.ts).
 * @param {BundleChoice & { outdir: string }} c
 */
export async function buildCli(c) {
  const r = await build(cliBundle({ ...c, extra: { ...c.extra, metafile: true } }));
  await finishCliScripts({ root: c.root, outdir: c.outdir, target: c.target, metafile: r.metafile, minify: c.minify ?? true });
  return r;
}
