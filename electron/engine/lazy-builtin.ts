/**
 * Node's own modules without an import: an `import` of one is loaded by every CLI command whether
 * it uses it or not (node:os cost `archway status` 0.3 ms), and an ES module import of node:fs
 * builds its facade (fs streams).
 */

/**
 * One of Node's own modules: process.getBuiltinModule (Node ≥ 20.16), else require — every bundle
 * has one (the CLI's CommonJS scripts and loader their own, the ES module bundles their banner's),
 * which a distribution's Node 18 needs.
 */
export const builtin = <T>(name: string): T => (process.getBuiltinModule?.(name) ?? require(name)) as T;

/** builtin(name), loaded when first used instead of at start-up. */
export function lazyBuiltin<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= builtin<T>(name));
}
