// esbuild plugins for the CLI bundle (scripts/build.mjs): start-up cost, not behaviour.
//
// 1. `node:fs` for the CLI bundle without Node's ESM facade.
//
// When an ES module imports a builtin, Node builds a facade that reads every export of the CommonJS
// module once, lazy getters included: for fs that loads fs streams (and stream, buffer list, …) and
// fs/promises, ≈3 ms of every `archway status` that uses neither. This plugin gives the bundle a
// small module instead that takes fs from process.getBuiltinModule (Node ≥ 20.16; else createRequire)
// and re-exports its functions and `constants`. The lazy ones (ReadStream, WriteStream, promises, …) are
// left out on purpose: importing one by name is a build error ("No matching export"); a lazy
// function (Node 20's opendir/opendirSync) is wrapped so that it is still only loaded when called.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const IDENT = /^[A-Za-z_$][\w$]*$/;

function facadeFree(name) {
  const mod = require(name);
  // Without process.getBuiltinModule (Node < 20.16, e.g. Debian 12's Node 18 running the package's
  // bundles) the module comes from createRequire: a bare require("node:fs") here would be resolved
  // by esbuild through this very plugin, and the module would import itself (every export undefined).
  const lines = [
    "import { createRequire as __facadeRequire } from 'node:module';",
    `const m = typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule(${JSON.stringify(name)}) : __facadeRequire(import.meta.url)(${JSON.stringify(name)});`,
    'export default m;',
  ];
  for (const key of Object.keys(mod)) {
    if (!IDENT.test(key) || key === 'default') continue;
    const d = Object.getOwnPropertyDescriptor(mod, key);
    // Functions and `constants` only: reading the old top-level constants (F_OK…) warns on Node 24.
    if (!d.get) {
      if (typeof d.value === 'function' || key === 'constants') lines.push(`export const ${key} = m.${key};`);
    } else if (typeof mod[key] === 'function' && /^[a-z]/.test(key)) lines.push(`export const ${key} = (...a) => m.${key}(...a);`);
  }
  return lines.join('\n');
}

export const fsWithoutFacade = {
  name: 'fs-without-facade',
  setup(b) {
    b.onResolve({ filter: /^(node:)?fs$/ }, () => ({ path: 'node:fs', namespace: 'facade-free' }));
    b.onLoad({ filter: /.*/, namespace: 'facade-free' }, (a) => ({ contents: facadeFree(a.path), loader: 'js', resolveDir: process.cwd() }));
  },
};

/**
 * One chunk for the hot path. esbuild puts each module in a chunk named by the set of entry points
 * that reach it, and every `import()` target is an entry point: the modules `archway status` needs
 * were spread over a dozen chunks (each one more file to resolve, read and link at start-up) by
 * which lazily loaded commands happen to share them. This plugin makes every lazily imported module
 * also import `anchor` (the CLI's main module, loaded before any import() runs, so nothing more is
 * evaluated): then everything main reaches is reached by every entry point, and lands in one chunk.
 */
export function oneHotChunk(anchor) {
  return {
    name: 'one-hot-chunk',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (a) => {
        if (a.kind !== 'dynamic-import' || a.pluginData?.oneHotChunk) return undefined;
        const r = await b.resolve(a.path, { kind: a.kind, importer: a.importer, resolveDir: a.resolveDir, pluginData: { oneHotChunk: true } });
        if (r.errors.length || r.external) return r.errors.length ? { errors: r.errors } : { path: r.path, external: true };
        return { path: r.path, namespace: 'one-hot-chunk' };
      });
      b.onLoad({ filter: /.*/, namespace: 'one-hot-chunk' }, (a) => ({
        contents: `import ${JSON.stringify(anchor)};\nexport * from ${JSON.stringify(a.path)};\n`,
        loader: 'js',
        resolveDir: process.cwd(),
      }));
    },
  };
}
