#!/usr/bin/env node
// `archway` from a checkout or package: run the built CLI bundle.
// Builtins come from process.getBuiltinModule where Node has it: an ES `import … from 'node:fs'`
// would make Node build fs's ESM facade, which loads fs streams this start-up never uses.
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const fs = process.getBuiltinModule?.('node:fs') ?? (await import('node:fs'));
const module = process.getBuiltinModule?.('node:module') ?? (await import('node:module')).default;

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'archway.mjs');
if (!fs.existsSync(cli)) {
  process.stderr.write('archway: the CLI is not built yet. Run `npm run build` in the Archway checkout first.\n');
  process.exit(2);
}

/**
 * Where Node ≥ 22.1 may keep compiled code between runs (`archway status` starts faster from the
 * second run): $XDG_CACHE_HOME/archway/node-compile-cache (default ~/.cache/…), and only when that
 * directory and its parents up to the cache home belong to this user alone. Node's default,
 * /tmp/node-compile-cache, is shared: whoever creates it first owns it, so other users get no
 * cache, and root (`sudo archway install …`) would load code cache another user could have written.
 * NODE_COMPILE_CACHE, when set, is Node's own choice and left to it.
 */
function compileCacheDir() {
  const base = process.env.XDG_CACHE_HOME || (process.env.HOME ? join(process.env.HOME, '.cache') : '');
  if (!isAbsolute(base)) return undefined;
  const dir = join(base, 'archway', 'node-compile-cache');
  const uid = process.geteuid?.();
  const mine = (d) => {
    const st = fs.lstatSync(d);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0;
  };
  try {
    // Nothing is created in someone else's home (root with a user's HOME creates no root-owned folders there).
    if (!mine(fs.existsSync(base) ? base : dirname(base))) return undefined;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return [dir, dirname(dir), base].every(mine) ? dir : undefined;
  } catch {
    return undefined; // read-only or foreign home: run without a cache
  }
}

if (module.enableCompileCache) {
  if (process.env.NODE_COMPILE_CACHE) module.enableCompileCache();
  else {
    const dir = compileCacheDir();
    if (dir) module.enableCompileCache(dir);
  }
}
await import(pathToFileURL(cli).href);
