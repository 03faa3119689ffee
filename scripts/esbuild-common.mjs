// esbuild options shared by scripts/build.mjs (dist/, run from a checkout by the development Node)
// and scripts/package.mjs (the .deb/.rpm bundles, run by the distribution's /usr/bin/node).
export const ESBUILD_COMMON = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: false,
  logLevel: 'warning',
  legalComments: 'none',
  // ESM bundles that pull in CommonJS dependencies need a real require().
  // ajv-formats-draft2019 (kubernetes-models' validators) requires 'punycode', which resolves to
  // Node's deprecated built-in (a DEP0040 warning on every `archway export kubernetes`): use the npm package.
  alias: { punycode: 'punycode/punycode.js' },
  banner: { js: "import { createRequire as __archwayRequire } from 'node:module'; const require = __archwayRequire(import.meta.url);" },
};

/** Entry points, relative to the repository root. */
export const ENTRIES = {
  helper: 'electron/helper/main.ts',
  cli: 'electron/cli/archway.ts',
};
