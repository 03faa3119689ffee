// esbuild plugin for the CLI bundle (scripts/esbuild-common.mjs): start-up cost, not behaviour.

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
