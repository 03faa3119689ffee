#!/usr/bin/env node
// `archway` from a checkout: runs the built CLI's loader (dist/cli/loader.cjs, which keeps the code
// cache: electron/cli/loader.ts). CommonJS, and the loader compiled here with vm.compileFunction
// instead of require()d or import()ed: module resolution (stat, realpath, module jobs) cost every
// command ≈1.5 ms as an ES module entry importing an ES module loader. Nothing else is loaded here.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
// (__dirname is a real path: no path.join, whose first calls cost start-up)
const root = path.dirname(__dirname);
const cli = `${root === '/' ? '' : root}/dist/cli`;
const loader = `${cli}/loader.cjs`;
let source;
try {
  source = fs.readFileSync(loader, 'utf8');
} catch {
  process.stderr.write('archway: the CLI is not built yet. Run `npm run build` in the Archway checkout first.\n');
  process.exit(2);
}
require('node:vm')
  .compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: loader })
  .call(exports, exports, require, module, loader, cli);
