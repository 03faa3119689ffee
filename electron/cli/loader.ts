/**
 * dist/cli/loader.cjs: loads the CLI's code and keeps a code cache of it between runs.
 *
 * A CommonJS module, run by `archway` (bin/archway.cjs, the packages' /usr/bin/archway) with
 * vm.compileFunction: no module resolution at all (an ES module entry importing an ES module loader
 * cost every command ≈1.5 ms of resolving, realpath and module jobs). `node dist/cli/archway.mjs`
 * (an ES module that requires this file) runs the same CLI.
 *
 * The CLI is built as code-split chunks (scripts/esbuild-common.mjs cliBundle) that scripts/cli-scripts.mjs
 * turns into CommonJS scripts (dist/cli/archway.cjs, dist/cli/chunks/*.cjs). This loader runs them
 * with `vm.Script` and V8's cached data, written after the command has run, so the cache also holds
 * the bytecode of every function the command ran. Node's own compile cache writes its cache right
 * after compiling a module, when only its top level is compiled: each `archway status` still parsed
 * and compiled every function it called (≈ 9 ms of a ≈ 25 ms start, bench/run.mjs status).
 *
 * The cache lives where only the running user can write: $XDG_CACHE_HOME/archway/code-cache (default
 * ~/.cache/…), used only where nobody else can write or swap it (code-cache.ts codeCacheDir,
 * readPrivateFile). Root with another user's HOME (sudo -E) uses none and creates nothing there:
 * V8's cached data is code, and root must never run code another user could write.
 * One cache file per installation folder, script, command and long options (what `status --json`
 * runs differs from what `probe` runs) and Node version, named also by the script file's identity
 * (device, inode, size, change time), so a rebuilt or upgraded file never meets old code; V8 also
 * rejects data from another V8 version or flags. Files of scripts gone since are swept at a write.
 * ARCHWAY_CODE_CACHE=0 turns it off; ARCHWAY_CODE_CACHE=debug says on stderr what was used.
 */
import type * as FsT from 'node:fs';
import type * as ModuleT from 'node:module';
import type * as PathT from 'node:path';
import type * as VmT from 'node:vm';
import { childPath } from '../../shared/child-path';
import { builtin } from '../engine/lazy-builtin';
import { cacheFileName, codeCacheDir, commandKey, readPrivateFile } from './code-cache';

const fs = builtin<typeof FsT>('node:fs');
const path = builtin<typeof PathT>('node:path');
const vm = builtin<typeof VmT>('node:vm');
const nodeModule = builtin<typeof ModuleT>('node:module');

const pathUrl = (file: string): string => builtin<typeof import('node:url')>('node:url').pathToFileURL(file).href;

interface Loaded {
  exports: unknown;
}

interface Pending {
  script: VmT.Script;
  cacheFile: string;
  prefix: string;
  /** The script's folder (its cache files start with this folder's key). */
  dir: string;
}

/** A script's require of another (`./chunks/chunk-X.cjs`): joined as is when it has no dot segment, else path.resolve. */
const scriptPath = (dir: string, spec: string): string => (spec.startsWith('./') && !spec.includes('/.') ? dir + spec.slice(1) : path.resolve(dir, spec));

/**
 * A CommonJS loader for the CLI's scripts: `require('./chunk.cjs')` between them goes through this
 * registry (one instance of each module), anything else to Node's require.
 */
export function scriptLoader(options: { cacheDir?: string; command: string; debug?: (line: string) => void }): (file: string) => unknown {
  const modules = new Map<string, Loaded>();
  const toWrite: Pending[] = [];
  const { cacheDir, command, debug } = options;

  const load = (file: string): unknown => {
    const known = modules.get(file);
    if (known) return known.exports;
    const mod: Loaded = { exports: {} };
    modules.set(file, mod);
    const st = fs.statSync(file);
    const dir = path.dirname(file);
    const source = fs.readFileSync(file, 'utf8');
    // Named <folder>~<script>~<command>~<node>~<file identity> (cacheFileName): older data of this
    // script, command and Node is replaced when written; another Node's or installation's is left alone.
    const name = cacheFileName({ dir, script: path.basename(file), command, node: `${process.version}-${process.arch}`, identity: `${st.dev}-${st.ino}-${st.size}-${Math.trunc(st.ctimeMs)}` });
    const prefix = name.slice(0, name.lastIndexOf('~') + 1);
    const cacheFile = cacheDir ? childPath(cacheDir, name) : '';
    const cachedData = cacheFile ? readPrivateFile(cacheFile, process.geteuid!()) : undefined;
    const started = debug ? performance.now() : 0;
    // The file is one function expression, (function (exports, require, module, __filename, __dirname,
    // __archwayMeta) {…}) (scripts/cli-scripts.mjs writes the wrapper).
    const script = new vm.Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
    const compiled = debug ? performance.now() : 0;
    debug?.(`${path.basename(file)}: ${!cachedData ? 'no cached data' : script.cachedDataRejected ? 'cached data rejected' : 'cached data used'} (${(compiled - started).toFixed(2)} ms)`);
    if (cacheFile && (!cachedData || script.cachedDataRejected)) toWrite.push({ script, cacheFile, prefix, dir });
    // Node's require for anything outside the scripts, made only when first needed.
    let plainRequire: NodeJS.Require | undefined;
    const plain = (): NodeJS.Require => (plainRequire ??= nodeModule.createRequire(file));
    const req = Object.assign(
      (spec: string) =>
        spec.startsWith('./') || spec.startsWith('../')
          ? load(scriptPath(dir, spec))
          : // Node's own modules without the CommonJS loader's resolution and hooks (≈ 1 ms per start).
            ((spec.startsWith('node:') ? process.getBuiltinModule?.(spec) : undefined) ?? plain()(spec)),
      { resolve: (spec: string, o?: { paths?: string[] }) => plain().resolve(spec, o) },
    );
    let fileUrl: string | undefined;
    const meta = {
      get url() {
        return (fileUrl ??= pathUrl(file));
      },
    };
    (script.runInThisContext() as (...a: unknown[]) => void).call(mod.exports, mod.exports, req, mod, file, dir, meta);
    debug?.(`${path.basename(file)}: top level run in ${(performance.now() - compiled).toFixed(2)} ms`);
    return mod.exports;
  };

  if (debug) process.once('exit', () => debug('exit'));
  if (cacheDir) {
    // Written when the command is done, so the data holds the bytecode of every function it ran.
    process.once('exit', () => {
      for (const p of toWrite) writeCache(cacheDir, p, debug);
    });
  }
  return load;
}

/**
 * Writes one cache file (private, atomically) and removes, of this installation's folder, the older
 * ones of the same script, command and Node, and those of scripts that are no longer there (a
 * rebuild or an upgrade names its chunks anew): the folder does not grow with every version.
 */
function writeCache(cacheDir: string, p: Pending, debug?: (line: string) => void): void {
  try {
    const tmp = `${p.cacheFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, p.script.createCachedData(), { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, p.cacheFile);
    const folder = p.prefix.slice(0, p.prefix.indexOf('~') + 1);
    for (const f of fs.readdirSync(cacheDir)) {
      if (f.endsWith('.tmp') || !f.startsWith(folder) || path.join(cacheDir, f) === p.cacheFile) continue;
      const script = f.split('~')[1] ?? '';
      if (f.startsWith(p.prefix) || !script || !fs.existsSync(path.join(p.dir, script))) fs.rmSync(path.join(cacheDir, f), { force: true });
    }
    debug?.(`wrote ${path.basename(p.cacheFile)}`);
  } catch (err) {
    debug?.(`not written: ${(err as Error).message}`); // a full disk or a race with another run: next time
  }
}

const mode = process.env.ARCHWAY_CODE_CACHE;
// Written with write(2): process.stderr would load Node's stream stack and skew what is measured.
const debug = mode === 'debug' ? (line: string) => void fs.writeSync(2, `archway code cache: [${performance.now().toFixed(1)} ms] ${line}\n`) : undefined;
const cacheDir = mode === '0' ? undefined : codeCacheDir();
const entry = childPath(__dirname, 'archway.cjs');
scriptLoader({ ...(cacheDir ? { cacheDir } : {}), command: commandKey(process.argv.slice(2)), ...(debug ? { debug } : {}) })(entry);
