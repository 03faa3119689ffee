// The CLI's chunks as CommonJS scripts, and the loader that runs them with a code cache
// (electron/cli/loader.ts). esbuild splits code only in ES module format, so cliBundle
// (esbuild-common.mjs) builds ES modules into .cjs files; this step rewrites each one to CommonJS
// with esbuild's own transform: imports between chunks become require() calls through the loader's
// registry (exports stay live: esbuild exports by getters), `import()` of a chunk becomes a require
// in a promise, and `import.meta.url` the script's own file URL (made when read). Then dist/cli/loader.cjs is the
// loader (and dist/cli/archway.mjs an ES module entry that requires it).
import { build, transform } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ESBUILD_COMMON } from './esbuild-common.mjs';

/** What `import.meta` becomes: an object the loader passes, whose `url` is made only when read. */
const META_VAR = '__archwayMeta';
/** A script is one function expression, called by the loader like Node calls a CommonJS module (electron/cli/loader.ts). */
const SCRIPT_HEAD = `/* Archway CLI script: run by archway.mjs (electron/cli/loader.ts), not a module of its own */(function (exports, require, module, __filename, __dirname, ${META_VAR}) {`;
const SCRIPT_TAIL = '\n})';

/**
 * @param {{ root: string; outdir: string; target: string; metafile: import('esbuild').Metafile; minify: boolean }} c
 *   the cliBundle build's output directory and metafile (paths in it relative to the working directory)
 */
export async function finishCliScripts(c) {
  const outputs = Object.keys(c.metafile.outputs).filter((f) => f.endsWith('.cjs'));
  if (!outputs.some((f) => f.endsWith('archway.cjs'))) throw new Error('cli-scripts: no archway.cjs in the CLI build');
  for (const rel of outputs) {
    const file = join(process.cwd(), rel);
    await toScript(file, c.target, c.minify);
  }
  // The loader, a CommonJS module: `archway` runs it with vm.compileFunction (bin/archway.cjs).
  await build({
    ...ESBUILD_COMMON,
    format: 'cjs',
    banner: {},
    target: c.target,
    entryPoints: [join(c.root, 'electron/cli/loader.ts')],
    outfile: join(c.outdir, 'loader.cjs'),
    minify: c.minify,
  });
  writeFileSync(join(c.outdir, 'archway.mjs'), ESM_ENTRY);
}

/** `node dist/cli/archway.mjs …`: the same CLI from an ES module (tests, scripts); `archway` itself skips this hop. */
const ESM_ENTRY = `// The archway CLI as an ES module entry: runs loader.cjs (electron/cli/loader.ts) as \`archway\` does.
import { createRequire } from 'node:module';
createRequire(import.meta.url)('./loader.cjs');
`;

async function toScript(file, target, minify) {
  const r = await transform(readFileSync(file, 'utf8'), {
    format: 'cjs',
    platform: 'node',
    target,
    minify,
    legalComments: 'none',
    // import('./x.cjs') → Promise.resolve().then(() => require('./x.cjs')): through the loader's registry.
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': `${META_VAR}.url` },
    logLevel: 'silent',
    sourcefile: file,
  });
  if (r.warnings.length) throw new Error(`cli-scripts: ${relative(process.cwd(), file)}: ${r.warnings.map((w) => w.text).join('; ')}`);
  if (/\bimport\.meta\b/.test(r.code)) throw new Error(`cli-scripts: ${file} still uses import.meta`);
  const code = exportsInPlace(r.code, file);
  // The CommonJS wrapper is written here, not added when loading: a second copy of a 130 KB source
  // string at every start is young-generation garbage (a scavenge more per `archway status`).
  writeFileSync(file, `${SCRIPT_HEAD}${code}${SCRIPT_TAIL}`);
}

/**
 * esbuild's CommonJS form defines each export as a getter on one object, then __toCommonJS copies
 * every getter onto a second one (108 in the hot chunk: 0.2–0.3 ms of every command's start-up).
 * The first object, marked as an ES module as the copy is, is the same set of live getters.
 * Checked, not assumed: the call must be the one esbuild's helper makes.
 * @param {string} code
 * @param {string} file
 */
function exportsInPlace(code, file) {
  const call = /module\.exports\s*=\s*([\w$]+)\(([\w$]+)\);/g;
  const calls = [...code.matchAll(call)];
  if (calls.length === 0) return code; // a script that exports nothing
  if (calls.length > 1) throw new Error(`cli-scripts: ${file}: ${calls.length} module.exports assignments`);
  const [whole, helper, target] = calls[0];
  const esc = (/** @type {string} */ s) => s.replace(/\$/g, '\\$');
  // (?<![\w$]): a name boundary that also holds for names starting with $ (\b does not).
  const isToCommonJS = new RegExp(`(?<![\\w$])${esc(helper)}\\s*=\\s*\\(?([\\w$]+)\\)?\\s*=>\\s*[\\w$]+\\([\\w$]+\\(\\{\\},\\s*"__esModule",\\s*\\{\\s*value:\\s*(?:!0|true)\\s*\\}\\),\\s*\\1\\)`);
  if (!isToCommonJS.test(code)) throw new Error(`cli-scripts: ${file}: module.exports = ${helper}(${target}) is not esbuild's __toCommonJS`);
  // Spliced at the match, not String.replace: its replacement patterns would read `$$` in a name as `$`.
  const at = calls[0].index;
  return `${code.slice(0, at)}module.exports=Object.defineProperty(${target},"__esModule",{value:!0});${code.slice(at + whole.length)}`;
}
