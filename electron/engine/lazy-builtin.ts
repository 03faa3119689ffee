/**
 * A Node builtin loaded when first used instead of at start-up: an `import` of one is loaded by
 * every CLI command whether it uses it or not (node:os cost `archway status` 0.3 ms).
 */
import { createRequire } from 'node:module';

export function lazyBuiltin<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= (process.getBuiltinModule?.(name) ?? createRequire(import.meta.url)(name)) as T);
}
