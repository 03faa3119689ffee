#!/usr/bin/env node
// `npm run package`: build every package this machine can build, and say which it could not and why.
//
//   node scripts/package.mjs [deb] [rpm] [desktop]     (default: all of them)
//
// - archway (headless) .deb and .rpm: the CLI and the root helper as bundled JavaScript run by the
//   distribution's own Node (/usr/bin/node; Debian 12 and Ubuntu 24.04 ship 18, so the bundles
//   target node18 and have no externals), the polkit policy, man page, shell completions, a
//   logrotate rule and maintainer scripts. Built with dpkg-deb (--root-owner-group) and rpmbuild
//   from one staged tree (dist/packages/headless/root), so both list the same files.
// - archway-desktop (.deb, .rpm, AppImage): electron-builder with build/electron-builder.config.mjs;
//   needs an Electron binary, which this machine may not have.
//
// Writes dist/packages/archway_<version>-1_all.deb, dist/packages/archway-<version>-1.noarch.rpm and
// dist/packages/headless/manifest.json (the file list, modes and where man page and completions
// came from), which the packaging tests read.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli, helperBundle } from './esbuild-common.mjs';
import { electronBinary } from '../build/electron-binary.mjs';
import { DEB_VERSION, HEADLESS } from '../build/linux/headless/package-info.mjs';
import { metainfoXml, METAINFO_BUILT } from '../build/linux/metainfo.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = (...p) => join(root, ...p);

const OUT = at('dist/packages');
const WORK = join(OUT, 'headless');
const STAGE = join(WORK, 'root');

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
const have = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;

/** Reproducible timestamps: the last commit's time (SOURCE_DATE_EPOCH wins when set). */
function sourceDateEpoch() {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  const r = spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? Number(r.stdout.trim()) : Math.floor(Date.now() / 1000);
}

const staged = (p) => join(STAGE, p);
function put(dest, content, mode = 0o644) {
  mkdirSync(dirname(staged(dest)), { recursive: true });
  writeFileSync(staged(dest), content);
  chmodSync(staged(dest), mode);
}
function gz(text) {
  return sh('gzip', ['-9n', '-c'], { input: Buffer.from(text), encoding: 'buffer' });
}

/**
 * A launcher: plain ES5 CommonJS, so that an older Node gets far enough to say what to install
 * instead of failing on newer syntax; then `run`: the CLI's loader (CLI_RUN), or the helper's ESM
 * bundle (load.cjs holds the import(), which very old Node cannot even parse).
 */
function launcher(what, run) {
  return `#!/usr/bin/node
// ${what} (installed by the archway package; built by scripts/package.mjs).
// Plain ES5 CommonJS on purpose: an older Node must get far enough to say what to install.
'use strict';
var MIN_NODE = ${HEADLESS.minNode};
if (parseInt(process.versions.node, 10) < MIN_NODE) {
  process.stderr.write('archway: needs Node.js ' + MIN_NODE + ' or newer, but ' + process.execPath + ' is ' + process.version + '.\\n' +
    '  -> Install a newer nodejs: apt install nodejs (Debian 12 or later, Ubuntu 24.04 or later), or dnf install nodejs (Fedora).\\n');
  process.exit(3);
}
${run}
`;
}

/** A launcher's last line for an ES module bundle (the helper): load.cjs import()s it. */
const importBundle = (bundle) => `require('${HEADLESS.libDir}/load.cjs')('${bundle}');`;

/**
 * The CLI launcher's last lines: the CLI's loader (a CommonJS module, electron/cli/loader.ts) compiled
 * with vm.compileFunction, as bin/archway.cjs does from a checkout: no module resolution on the way
 * to every command (≈1.5 ms of each start as an import() of an ES module).
 */
const CLI_RUN = `var loader = '${HEADLESS.libDir}/cli/loader.cjs';
require('vm')
  .compileFunction(require('fs').readFileSync(loader, 'utf8'), ['exports', 'require', 'module', '__filename', '__dirname'], { filename: loader })
  .call(exports, exports, require, module, loader, '${HEADLESS.libDir}/cli');`;

const LOADER = `'use strict';
// Loads one of Archway's ESM bundles for a launcher (/usr/bin/archway, ${HEADLESS.helper}).
var url = require('url');
module.exports = function load(file) {
  import(url.pathToFileURL(file).href).catch(function (err) {
    process.stderr.write('archway: cannot load ' + file + ': ' + ((err && err.stack) || err) + '\\n');
    process.exitCode = 1;
  });
};
`;

/**
 * Native addons (`.node` files) cannot be bundled for the distribution's Node: one required by a
 * dependency becomes a module that throws, so a library that loads it inside try/catch takes its
 * pure-JavaScript path (none of today's bundled dependencies needs one).
 */
const noNativeAddons = {
  name: 'no-native-addons',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (a) => ({ path: a.path, namespace: 'native-addon' }));
    b.onLoad({ filter: /.*/, namespace: 'native-addon' }, (a) => ({ contents: `throw new Error(${JSON.stringify(`native addon ${a.path} is not in Archway's package`)});`, loader: 'js' }));
  },
};

/**
 * The bundles, for node18, with every dependency inside (no node_modules on the target): the same
 * bundle configuration as the development build (scripts/esbuild-common.mjs: code splitting, the
 * one hot chunk, the scripts run with the code cache), so `archway status` starts as fast from the package.
 */
async function bundles() {
  const common = {
    root,
    target: `node${HEADLESS.minNode}`,
    // The Kubernetes API client needs Node 22 (undici): `archway kube` says it is not in this package;
    // `archway export kubernetes` (kubernetes-models' validators) is bundled and works on Node 18.
    // package.json's version, compiled in (the CLI's --version reads __ARCHWAY_VERSION__ when defined).
    version: HEADLESS.version,
    external: ['@kubernetes/client-node'],
    plugins: [noNativeAddons],
    extra: { metafile: true, logLevel: 'error' },
  };
  const helper = await build(helperBundle({ ...common, outfile: staged(`${HEADLESS.libDir}/helper/archway-helper.mjs`) }));
  const cli = await buildCli({ ...common, outdir: staged(`${HEADLESS.libDir}/cli`) });
  put(`${HEADLESS.libDir}/load.cjs`, LOADER);
  put(HEADLESS.cli, launcher('The archway command', CLI_RUN), 0o755);
  put(HEADLESS.helper, launcher("Archway's privileged helper, run by pkexec (polkit action dev.archway.helper.run) or by root", importBundle(`${HEADLESS.libDir}/helper/archway-helper.mjs`)), 0o755);
  const inputs = [...Object.keys(helper.metafile.inputs), ...Object.keys(cli.metafile.inputs)];
  return [...new Set(inputs.filter((i) => i.includes('node_modules/')).map((i) => i.replace(/^.*node_modules\/((?:@[^/]+\/)?[^/]+).*$/, '$1')))].sort();
}

/** Run the staged CLI with this machine's Node (the launcher's /usr/bin/node may be older or absent here). */
function runStagedCli(args) {
  return spawnSync(process.execPath, [staged(`${HEADLESS.libDir}/cli/archway.mjs`), ...args], { encoding: 'utf8' });
}

/** The man page, from the same command spec as --help (scripts/man.mjs). */
function manPage() {
  const out = join(WORK, 'archway.1');
  const r = spawnSync(process.execPath, [at('scripts/man.mjs'), out], { cwd: root, encoding: 'utf8' });
  if (r.status === 0 && existsSync(out)) return { text: readFileSync(out, 'utf8'), source: 'scripts/man.mjs' };
  throw new Error(`scripts/man.mjs exited ${r.status}:\n${r.stderr}${r.stdout}`);
}

/** A shell's completion script, from `archway completion <shell>` (the same spec). */
function completion(shell) {
  const r = runStagedCli(['completion', shell]);
  if (r.status === 0 && r.stdout.trim()) return { text: r.stdout, source: `archway completion ${shell}` };
  throw new Error(`archway completion ${shell} exited ${r.status}:\n${r.stderr}`);
}

/** A bundled npm package's license (package.json `license`, or the older `licenses` array). */
function licenseOf(name) {
  const p = JSON.parse(readFileSync(at('node_modules', name, 'package.json'), 'utf8'));
  return typeof p.license === 'string' ? p.license : (p.license?.type ?? p.licenses?.[0]?.type ?? 'UNKNOWN');
}
/** Copyright lines from a bundled package's own license file. */
function noticesOf(name) {
  const dir = at('node_modules', name);
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
  if (!file) return [];
  return readFileSync(join(dir, file), 'utf8').split('\n').map((l) => l.trim()).filter((l) => /^copyright\b/i.test(l) && !/notice|holders? and contributors/i.test(l));
}
const LICENSES = at('build/linux/headless/licenses');
/** Debian policy: licenses in /usr/share/common-licenses are referred to, not repeated. */
const COMMON_LICENSES = { 'Apache-2.0': 'Apache-2.0' };
function licenseParagraph(lic) {
  if (COMMON_LICENSES[lic]) return `License: ${lic}\n On Debian systems, the full text of this license is in\n /usr/share/common-licenses/${COMMON_LICENSES[lic]}.\n`;
  const file = join(LICENSES, `${lic}.txt`);
  if (!existsSync(file)) throw new Error(`a bundled package is under ${lic}: add its text as build/linux/headless/licenses/${lic}.txt`);
  const text = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => (l.trim() ? ` ${l}` : ' .')).join('\n');
  return `License: ${lic}\n${text}\n`;
}
/** debian/copyright (machine-readable format): Archway, and every npm package esbuild bundled. */
function copyright(bundled) {
  const byLicense = new Map();
  const notices = new Set();
  for (const name of bundled) {
    const lic = licenseOf(name);
    byLicense.set(lic, [...(byLicense.get(lic) ?? []), name]);
    for (const n of noticesOf(name)) notices.add(n);
  }
  const licenses = [...new Set(['MIT', ...byLicense.keys()])];
  return [
    `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Archway
Source: the Archway repository (packaged by scripts/package.mjs)

Files: *
Copyright: Archway contributors
License: MIT
`,
    `Files: ${HEADLESS.libDir.slice(1)}/*
Copyright: Archway contributors
${[...notices].sort().map((n) => ` ${n}`).join('\n')}
License: ${licenses.join(' and ')}
Comment: esbuild bundled these npm packages into the JavaScript under ${HEADLESS.libDir}:
${[...byLicense].map(([lic, names]) => ` ${lic}: ${names.join(', ')}`).join('\n')}
`,
    ...licenses.map(licenseParagraph),
  ].join('\n');
}

function debianChangelog(epoch) {
  const date = new Date(epoch * 1000).toUTCString().replace('GMT', '+0000');
  return `${HEADLESS.name} (${DEB_VERSION}) unstable; urgency=medium

  * Built from the Archway repository by scripts/package.mjs. The upstream
    changes are in /usr/share/doc/archway/changelog.gz.

 -- ${HEADLESS.maintainer}  ${date.replace(/^(\w+), (\d) /, '$1, 0$2 ')}
`;
}

/** Every regular file and symlink in the staged tree, with its mode. */
function listStage(dir = STAGE) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listStage(p));
    else out.push({ path: `/${relative(STAGE, p)}`, mode: statSync(p).mode & 0o7777 });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

function maintainerScripts() {
  const lib = readFileSync(at('build/linux/headless/maintainer.sh'), 'utf8');
  return {
    prerm: `#!/bin/sh
set -e
${lib}
case "$1" in
	remove) archway_removal_notice ;;
esac
exit 0
`,
    postrm: `#!/bin/sh
set -e
${lib}
case "$1" in
	purge) archway_purge_state ;;
esac
exit 0
`,
    lib,
  };
}

async function stageHeadless() {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(STAGE, { recursive: true });
  const epoch = sourceDateEpoch();
  const bundled = await bundles();

  const v = runStagedCli(['--version']);
  if (v.status !== 0 || v.stdout.trim() !== `archway ${HEADLESS.version}`) {
    throw new Error(`the bundled CLI says ${JSON.stringify(v.stdout.trim())} (exit ${v.status}), package.json says ${HEADLESS.version}: ${v.stderr}`);
  }

  put(HEADLESS.policy, readFileSync(at('build/polkit/dev.archway.helper.policy')));
  put(HEADLESS.logrotate, readFileSync(at('build/linux/headless/logrotate')));
  const man = manPage();
  put(HEADLESS.man, gz(man.text));
  const sources = { man: man.source };
  for (const [shell, dest] of Object.entries(HEADLESS.completions)) {
    const c = completion(shell);
    put(dest, c.text);
    sources[shell] = c.source;
  }
  put(`${HEADLESS.doc}/copyright`, copyright(bundled));
  put('/usr/share/lintian/overrides/archway', readFileSync(at('build/linux/headless/lintian-overrides')));
  put(`${HEADLESS.doc}/changelog.Debian.gz`, gz(debianChangelog(epoch)));
  put(`${HEADLESS.doc}/changelog.gz`, gz(readFileSync(at('CHANGELOG.md'), 'utf8')));

  const files = listStage();
  const manifest = { name: HEADLESS.name, version: HEADLESS.version, debVersion: DEB_VERSION, files, sources, bundled, epoch };
  writeFileSync(join(WORK, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function buildDeb(manifest) {
  const debRoot = join(WORK, 'deb');
  rmSync(debRoot, { recursive: true, force: true });
  sh('cp', ['-a', STAGE, debRoot]);
  mkdirSync(join(debRoot, 'DEBIAN'));
  const kib = Number(sh('du', ['-sk', '--apparent-size', STAGE]).split('\t')[0]);
  const control = [
    `Package: ${HEADLESS.name}`,
    `Version: ${DEB_VERSION}`,
    'Architecture: all',
    `Maintainer: ${HEADLESS.maintainer}`,
    `Installed-Size: ${kib}`,
    `Depends: nodejs (>= ${HEADLESS.minNode})`,
    // pkexec: how a non-root user gets the helper run (it brings polkitd, which reads the policy).
    'Recommends: qemu-user-static, pkexec',
    'Section: admin',
    'Priority: optional',
    `Description: ${HEADLESS.summary}`,
    ...HEADLESS.description.map((l) => (l ? ` ${l}` : ' .')),
  ].join('\n');
  const scripts = maintainerScripts();
  const D = (f) => join(debRoot, 'DEBIAN', f);
  writeFileSync(D('control'), `${control}\n`);
  writeFileSync(D('conffiles'), `${HEADLESS.logrotate}\n`);
  writeFileSync(D('prerm'), scripts.prerm, { mode: 0o755 });
  writeFileSync(D('postrm'), scripts.postrm, { mode: 0o755 });
  const sums = manifest.files.map((f) => `${sh('md5sum', [staged(f.path)]).split(' ')[0]}  ${f.path.slice(1)}`);
  writeFileSync(D('md5sums'), `${sums.join('\n')}\n`);
  for (const f of ['control', 'conffiles', 'md5sums']) chmodSync(D(f), 0o644);
  sh('chmod', ['-R', 'go-w', debRoot]);
  const deb = join(OUT, `${HEADLESS.name}_${DEB_VERSION}_all.deb`);
  sh('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', debRoot, deb], { env: { ...process.env, SOURCE_DATE_EPOCH: String(manifest.epoch) } });
  return deb;
}

function buildRpm(manifest) {
  const top = join(WORK, 'rpmbuild');
  rmSync(top, { recursive: true, force: true });
  for (const d of ['BUILD', 'RPMS', 'SOURCES', 'SPECS', 'SRPMS', 'BUILDROOT']) mkdirSync(join(top, d), { recursive: true });
  const scripts = maintainerScripts();
  const dirs = new Set();
  for (const f of manifest.files) {
    for (let d = dirname(f.path); d.startsWith(`${HEADLESS.libDir}`) || d === HEADLESS.doc; d = dirname(d)) dirs.add(d);
  }
  const fileLines = [
    ...[...dirs].sort().map((d) => `%dir %attr(0755,root,root) ${d}`),
    ...manifest.files.map((f) => {
      const attr = `%attr(${f.mode.toString(8).padStart(4, '0')},root,root)`;
      if (f.path === HEADLESS.logrotate) return `%config(noreplace) ${attr} ${f.path}`;
      if (f.path.startsWith(`${HEADLESS.doc}/`)) return `%doc ${attr} ${f.path}`;
      return `${attr} ${f.path}`;
    }),
  ];
  const spec = `Name: ${HEADLESS.name}
Version: ${HEADLESS.version}
Release: ${HEADLESS.revision}
Summary: ${HEADLESS.summary}
License: MIT
BuildArch: noarch
Requires: nodejs >= ${HEADLESS.minNode}
Recommends: qemu-user-static
Recommends: polkit
AutoReqProv: no
%define _build_id_links none
%define __os_install_post %{nil}

%description
${HEADLESS.description.join('\n')}

%install
cp -a ${STAGE}/. %{buildroot}/

%preun
${scripts.lib}
# $1 is 0 when the package is being erased (not upgraded). RPM has no purge: state stays.
if [ "$1" -eq 0 ]; then
	archway_removal_notice
	echo "archway: to also remove Archway's own state afterwards: rm -rf $ARCHWAY_STATE_DIR $ARCHWAY_LOG_DIR"
fi

%files
${fileLines.join('\n')}
`;
  const specFile = join(top, 'SPECS', 'archway.spec');
  writeFileSync(specFile, spec);
  sh('rpmbuild', ['-bb', '--nodeps', '--define', `_topdir ${top}`, '--define', `use_source_date_epoch_as_buildtime 1`, '--define', 'clamp_mtime_to_source_date_epoch 1', specFile], {
    env: { ...process.env, SOURCE_DATE_EPOCH: String(manifest.epoch) },
  });
  const name = `${HEADLESS.name}-${HEADLESS.version}-${HEADLESS.revision}.noarch.rpm`;
  copyFileSync(join(top, 'RPMS', 'noarch', name), join(OUT, name));
  return join(OUT, name);
}

async function main() {
  const want = new Set(process.argv.slice(2));
  const all = want.size === 0;
  const built = [];
  const notBuilt = [];
  mkdirSync(OUT, { recursive: true });
  let manifest;
  if (all || want.has('deb') || want.has('rpm')) manifest = await stageHeadless();
  if (all || want.has('deb')) {
    if (have('dpkg-deb')) built.push(buildDeb(manifest));
    else notBuilt.push('archway .deb because dpkg-deb is not installed (apt install dpkg)');
  }
  if (all || want.has('rpm')) {
    if (have('rpmbuild')) built.push(buildRpm(manifest));
    else notBuilt.push('archway .rpm because rpmbuild is not installed (apt install rpm)');
  }
  if (all || want.has('desktop')) {
    // The desktop package's metainfo, with package.json's version (electron-builder installs it).
    mkdirSync(dirname(METAINFO_BUILT), { recursive: true });
    writeFileSync(METAINFO_BUILT, metainfoXml({ version: HEADLESS.version, date: new Date(sourceDateEpoch() * 1000).toISOString().slice(0, 10) }));
    const e = electronBinary();
    if (!e.ok) {
      notBuilt.push(`archway-desktop .deb/.rpm/AppImage because there is no Electron binary: ${e.reason} (see README, "The desktop app"); its metainfo is in ${relative(root, METAINFO_BUILT)}`);
    } else {
      const r = spawnSync(process.execPath, [at('node_modules/electron-builder/cli.js'), '--config', at('build/electron-builder.config.mjs'), '--linux'], { cwd: root, stdio: 'inherit', env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: dirname(e.path) } });
      if (r.status === 0) built.push('archway-desktop (dist/packages: AppImage, .deb, .rpm)');
      else notBuilt.push(`archway-desktop because electron-builder exited ${r.status}`);
    }
  }
  const rel = (p) => (p.startsWith(root) ? relative(root, p) : p);
  process.stdout.write(`built: ${built.map(rel).join(', ') || 'nothing'}\n`);
  process.stdout.write(`not built: ${notBuilt.join('; ') || 'nothing'}\n`);
  if (built.length === 0) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
