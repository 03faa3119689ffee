#!/usr/bin/env node
// `npm start`: build everything (helper, CLI, main, preload, renderer), then launch the desktop
// app with Electron. Fails with a clear message, before building, when Electron's binary is not
// there (npm here runs no install scripts, so it is never downloaded).
//   --no-build   launch what is already in out/ and dist/
//   any other arguments are passed to Electron.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronBinary, electronHelp } from '../build/electron-binary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const noBuild = args.includes('--no-build');
const passThrough = args.filter((a) => a !== '--no-build');

const bin = electronBinary();
if (!bin.ok) {
  process.stderr.write(`${electronHelp(bin.reason)}\n`);
  process.exit(1);
}

if (process.getuid?.() === 0 && process.env.ARCHWAY_ALLOW_ROOT !== '1') {
  process.stderr.write(
    'archway: not starting the desktop app as root: Chromium would need --no-sandbox, which turns off the renderer sandbox.\n' +
      'Start it as your normal user: changes go through the privileged helper (pkexec asks for a password for each batch of changes).\n' +
      'To run it as root anyway (a throw-away VM or container), set ARCHWAY_ALLOW_ROOT=1.\n',
  );
  process.exit(1);
}

if (!noBuild) {
  const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (!existsSync(join(root, 'out/main/index.js'))) {
  process.stderr.write('archway: out/main/index.js is missing: run `npm run build` (or `npm start` without --no-build).\n');
  process.exit(1);
}

const extra = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
const env = { ...process.env };
// This variable would make Electron act as plain Node instead of the app.
delete env.ELECTRON_RUN_AS_NODE;
const child = spawn(bin.path, [root, ...extra, ...passThrough], { cwd: root, stdio: 'inherit', env });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
