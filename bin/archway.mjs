#!/usr/bin/env node
// `archway` from a checkout or package: run the built CLI bundle.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'archway.mjs');
if (!existsSync(cli)) {
  process.stderr.write('archway: the CLI is not built yet. Run `npm run build` in the Archway checkout first.\n');
  process.exit(2);
}
// Node ≥ 22.1 keeps compiled code between runs: `archway status` starts faster from the second run.
module.enableCompileCache?.();
await import(pathToFileURL(cli).href);
