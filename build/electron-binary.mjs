// Where the Electron binary for `npm start` and the _electron tests is, or why there is none.
// Never `require('electron')`: that starts a download (GitHub) when the binary is missing.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ELECTRON_PACKAGE = join(root, 'node_modules', 'electron');

/** Node versions Electron 45's installer supports (it is only needed to download the binary). */
export const INSTALLER_NODE = '22.12.0';

/** @returns {{ ok: true, path: string } | { ok: false, reason: string }} */
export function electronBinary(env = process.env) {
  let rel = 'electron';
  try {
    rel = readFileSync(join(ELECTRON_PACKAGE, 'path.txt'), 'utf8').trim() || 'electron';
  } catch {
    /* path.txt is written by Electron's install script */
  }
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const p = join(env.ELECTRON_OVERRIDE_DIST_PATH, rel);
    return existsSync(p) ? { ok: true, path: p } : { ok: false, reason: `ELECTRON_OVERRIDE_DIST_PATH is set, but ${p} does not exist` };
  }
  if (!existsSync(join(ELECTRON_PACKAGE, 'package.json'))) {
    return { ok: false, reason: 'the electron package is not installed (run `npm install`)' };
  }
  const p = join(ELECTRON_PACKAGE, 'dist', rel);
  if (!existsSync(p)) {
    return {
      ok: false,
      reason:
        `Electron's binary is missing (${p}): npm installed the electron package without running its install script, which downloads the binary from GitHub`,
    };
  }
  return { ok: true, path: p };
}

export function electronHelp(reason) {
  const [major, minor] = process.versions.node.split('.').map(Number);
  const oldNode = major < 22 || (major === 22 && minor < 12);
  return [
    `archway: cannot start the desktop app: ${reason}.`,
    '',
    'To get the binary, either:',
    `  - run Electron's installer, \`node node_modules/electron/install.js\`: it needs Node >= ${INSTALLER_NODE}${oldNode ? ` (this is Node ${process.versions.node})` : ''} and access to github.com, or`,
    '  - point ELECTRON_OVERRIDE_DIST_PATH at a directory holding an Electron 45 build (the `electron` executable).',
    '',
    'Without it, everything else works: the CLI (`node bin/archway.cjs status`), the unit tests and the Chromium end-to-end tests.',
  ].join('\n');
}
