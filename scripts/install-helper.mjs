#!/usr/bin/env node
// Install the built privileged helper where the polkit policy's exec.path expects it, so a source
// checkout can use the real elevation path (pkexec) without a package:
//
//   npm run build          # or: node scripts/build.mjs cli
//   sudo npm run install-helper            (scripts.install-helper = "node scripts/install-helper.mjs")
//
// What it does, and why:
// - copies dist/helper/archway-helper.mjs to /usr/lib/archway/archway-helper (or --dest PATH),
//   root:root 0755, written atomically (temp file + fsync + rename);
// - replaces the bundle's `#!/usr/bin/env node` with the ABSOLUTE path of the node running this
//   script: pkexec runs the helper with a minimal PATH (and `env` would look node up on it), so the
//   shebang must name the runtime exactly;
// - refuses a node that is not root-owned or is writable by others, and a destination whose folders
//   are not root-owned and closed to others: the helper runs as root, so everything it is made of
//   must be as trustworthy as it is;
// - with --policy it also copies build/polkit/dev.archway.helper.policy (or --policy-source FILE) to
//   /usr/share/polkit-1/actions/ (packages do this; a checkout may not have it yet);
// - --root PREFIX puts both under PREFIX instead of / (tests install into a fake root directory).
// The AppImage's "Install system helper" runs this same program, from a copy outside its FUSE
// mount, in one elevation (electron/engine/system-helper.ts).
// Uninstall: sudo rm /usr/lib/archway/archway-helper /usr/share/polkit-1/actions/dev.archway.helper.policy
import { chmodSync, chownSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_DEST = '/usr/lib/archway/archway-helper';
const POLICY = join(root, 'build/polkit/dev.archway.helper.policy');
const POLICY_DEST = '/usr/share/polkit-1/actions/dev.archway.helper.policy';

function die(msg) {
  process.stderr.write(`install-helper: ${msg}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
let dest = DEFAULT_DEST;
let source = join(root, 'dist/helper/archway-helper.mjs');
let withPolicy = false;
let policySource = POLICY;
let prefix = '/';
let nodePath = process.execPath;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--dest') dest = resolve(args[++i] ?? die('--dest needs a path'));
  else if (a === '--source') source = resolve(args[++i] ?? die('--source needs a path'));
  else if (a === '--node') nodePath = resolve(args[++i] ?? die('--node needs a path'));
  else if (a === '--policy') withPolicy = true;
  else if (a === '--policy-source') policySource = resolve(args[++i] ?? die('--policy-source needs a path'));
  else if (a === '--root') prefix = resolve(args[++i] ?? die('--root needs a path'));
  else if (a === '--help' || a === '-h') {
    process.stdout.write('usage: sudo node scripts/install-helper.mjs [--dest PATH] [--source FILE] [--node PATH] [--policy [--policy-source FILE]] [--root PREFIX]\n');
    process.exit(0);
  } else die(`unknown argument ${a}`);
}

if (process.geteuid?.() !== 0) die('must run as root (sudo npm run install-helper): it installs a program that runs as root');

let bundle;
try {
  bundle = readFileSync(source, 'utf8');
} catch (err) {
  die(`cannot read ${source} (${err.code ?? err.message}); build it first: node scripts/build.mjs cli`);
}
if (!bundle.startsWith('#!')) die(`${source} has no shebang line; is it the helper bundle?`);

// The runtime: canonical, root-owned, not writable by group/others (nor its folders).
nodePath = realpathSync(nodePath);
function checkRootOwnedChain(file, what) {
  for (let p = file; ; p = dirname(p)) {
    const st = lstatSync(p);
    if (st.uid !== 0) die(`${what}: ${p} is owned by uid ${st.uid}, not root`);
    if ((st.mode & 0o022) !== 0 && !(st.isDirectory() && (st.mode & 0o1000) !== 0 && p !== file)) {
      die(`${what}: ${p} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`);
    }
    if (p === '/') break;
  }
}
checkRootOwnedChain(nodePath, 'the node runtime');

const text = `#!${nodePath}\n${bundle.slice(bundle.indexOf('\n') + 1)}`;

function ensureDirs(dir) {
  const chain = [];
  for (let d = dir; ; d = dirname(d)) {
    chain.unshift(d);
    if (d === '/') break;
  }
  for (const d of chain) {
    let st;
    try {
      st = lstatSync(d);
    } catch {
      mkdirSync(d, { mode: 0o755 });
      chownSync(d, 0, 0);
      chmodSync(d, 0o755);
      continue;
    }
    if (!st.isDirectory()) die(`${d} exists and is not a folder`);
    if (st.uid !== 0 || ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0)) {
      die(`${d} must be owned by root and closed to group/others (uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8)})`);
    }
  }
}

function installFile(path, content, mode) {
  ensureDirs(dirname(path));
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.install-tmp`);
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      const buf = Buffer.from(content);
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chownSync(tmp, 0, 0);
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    die(`cannot write ${path}: ${err.message}`);
  }
  const st = statSync(path);
  process.stdout.write(`installed ${path} (root:root ${(st.mode & 0o7777).toString(8)})\n`);
}

let policyText;
if (withPolicy) {
  try {
    policyText = readFileSync(policySource, 'utf8');
  } catch (err) {
    die(`cannot read the polkit policy ${policySource} (${err.code ?? err.message})`);
  }
}
const under = (p) => join(prefix, p);
installFile(under(dest), text, 0o755);
process.stdout.write(`  shebang: #!${nodePath}\n`);
if (withPolicy) installFile(under(POLICY_DEST), policyText, 0o644);
