#!/usr/bin/env node
// `npm test`: everything a fresh Debian/Ubuntu machine needs to run every test, then every test.
//  1. as root, installs the Debian packages the integration tests use (only what is missing);
//  2. typechecks and builds (helper, CLI, desktop app);
//  3. starts dockerd for the run when it is not running (and stops it afterwards);
//  4. runs the unit and integration projects and prints one closing line: "N passed, N failed, N skipped".
// `npm test -- unit` runs only the unit project (no root, no services).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, openSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2];
const isRoot = process.getuid?.() === 0;
const log = (s) => process.stdout.write(`\n[archway test] ${s}\n`);

// Debian packages: what each is for.
const PACKAGES = {
  'qemu-user-static': 'static QEMU emulators and their /usr/lib/binfmt.d rules (kernel tests, catalog check)',
  'docker.io': 'dockerd for probe and test-run tests',
  'docker-registry': 'a local registry serving multi-arch manifest lists',
  chromium: 'end-to-end tests of the renderer',
  dbus: 'the system bus polkit needs',
  polkitd: 'polkit authority for the real pkexec path',
  pkexec: 'the elevation path the desktop app uses',
  'libxml2-utils': 'xmllint, to validate the polkit policy',
  'util-linux': 'unshare, nsenter, mount, setpriv',
  'desktop-file-utils': 'desktop-file-validate for the .desktop entry',
  podman: "a second real engine: Podman's Docker-compatible API (test/docker/podman*.test.ts)",
  uidmap: 'newuidmap/newgidmap for the rootless Podman in test/docker/endpoint-rootless.test.ts',
  tmux: 'real terminals for the CLI completion tests',
  zsh: 'zsh completion tests',
  fish: 'fish completion tests',
  mandoc: 'mandoc -T lint for the man page',
  debootstrap: 'a throw-away Debian 12 root to install the archway .deb in (test/packaging)',
  lintian: 'checks the archway .deb',
  rpm: 'rpmbuild and rpm -qlp for the archway .rpm',
  appstream: 'appstreamcli validate for the desktop metainfo',
  'librsvg2-bin': 'rsvg-convert, renders the icon SVG to the hicolor PNGs',
};

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  return r.status ?? 1;
}

function installPackages() {
  const missing = Object.keys(PACKAGES).filter((p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout?.includes('install ok installed') !== true);
  if (missing.length === 0) return;
  if (!isRoot) {
    log(`missing Debian packages: ${missing.join(', ')} — run as root (or: sudo apt-get install ${missing.join(' ')})`);
    return;
  }
  log(`installing ${missing.map((m) => `${m} (${PACKAGES[m]})`).join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (run('apt-get', ['update', '-q'], { env }) !== 0) throw new Error('apt-get update failed');
  if (run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env }) !== 0) throw new Error('apt-get install failed');
}

function ping(socket) {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

async function startDockerd() {
  const socket = '/var/run/docker.sock';
  if (await ping(socket)) return undefined;
  if (!isRoot || !existsSync('/usr/sbin/dockerd')) return undefined;
  mkdirSync(join(root, 'test-artifacts'), { recursive: true });
  const out = openSync(join(root, 'test-artifacts', 'dockerd.log'), 'a');
  log('starting dockerd for this run (log: test-artifacts/dockerd.log)');
  const child = spawn('/usr/sbin/dockerd', ['--host', `unix://${socket}`], { stdio: ['ignore', out, out], detached: true });
  for (let i = 0; i < 120; i++) {
    if (await ping(socket)) return child;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('dockerd did not start; see test-artifacts/dockerd.log');
}

async function stopDockerd(child) {
  if (!child) return;
  log('stopping the dockerd this run started');
  child.kill('SIGTERM');
  await new Promise((r) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      r();
    }, 20_000);
    child.once('exit', () => {
      clearTimeout(t);
      r();
    });
  });
}

function vitest(project, report) {
  return run(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`]);
}

function counts(report) {
  try {
    const j = JSON.parse(readFileSync(report, 'utf8'));
    return { passed: j.numPassedTests ?? 0, failed: j.numFailedTests ?? 0, skipped: (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0), suitesFailed: j.numFailedTestSuites ?? 0 };
  } catch {
    return { passed: 0, failed: 0, skipped: 0, suitesFailed: 1 };
  }
}

async function main() {
  const artifacts = join(root, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  const total = { passed: 0, failed: 0, skipped: 0 };
  let broken = false;
  const add = (c) => {
    total.passed += c.passed;
    total.failed += c.failed;
    total.skipped += c.skipped;
    if (c.suitesFailed > 0 && c.failed === 0) broken = true;
  };
  if (only !== 'unit') installPackages();
  log('typecheck');
  if (run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit']) !== 0) broken = true;
  if (run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'shared/tsconfig.json', '--noEmit']) !== 0) {
    log('shared/ must stay pure (no Node, no DOM types)');
    broken = true;
  }
  log('build');
  if (run(process.execPath, [join(root, 'scripts/build.mjs'), only === 'unit' ? 'cli' : 'all']) !== 0) throw new Error('build failed');
  log('unit tests');
  vitest('unit', join(artifacts, 'unit.json'));
  add(counts(join(artifacts, 'unit.json')));
  if (only !== 'unit') {
    if (!isRoot) {
      log('integration tests need root (user namespaces with binfmt_misc, dockerd, polkit): NOT run. Run `sudo npm test` to run them.');
    } else {
      const dockerd = await startDockerd();
      try {
        log('integration tests (real kernel, dockerd, polkit, Chromium)');
        vitest('integration', join(artifacts, 'integration.json'));
        add(counts(join(artifacts, 'integration.json')));
      } finally {
        await stopDockerd(dockerd);
      }
    }
  }
  process.stdout.write(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
  if (broken) process.stdout.write('(typecheck failed or a test file could not run: see above)\n');
  process.exit(total.failed > 0 || broken ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`[archway test] ${err.stack ?? err}\n`);
  process.exit(1);
});
