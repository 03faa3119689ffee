#!/usr/bin/env node
// `archway` from a checkout: run the built CLI (dist/cli/archway.mjs, which keeps the code cache:
// electron/cli/loader.ts). Nothing else is loaded here: every import is start-up time of every command.
const fs = process.getBuiltinModule?.('node:fs') ?? (await import('node:fs')).default;
const cli = new URL('../dist/cli/archway.mjs', import.meta.url);
if (!fs.existsSync(cli)) {
  process.stderr.write('archway: the CLI is not built yet. Run `npm run build` in the Archway checkout first.\n');
  process.exit(2);
}
await import(cli.href);
