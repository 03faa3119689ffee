/**
 * The system helper as the desktop app sees it: is the installed one there and does it speak this
 * app's protocol (the handshake), and, from an AppImage, installing or updating it.
 *
 * Handshake: the helper answers every request — even none, even when it refuses to run because
 * the caller is not root — with `{ version: PROTOCOL_VERSION, … }`. So the app runs it unprivileged
 * with an empty request (no password, nothing changes) and reads the version: older than ours is
 * refused and the app offers "Install system helper"; newer means the app is the one to update.
 *
 * Install from an AppImage: pkexec cannot run anything inside the user's FUSE mount (root cannot
 * read another user's FUSE mount), so the installer (scripts/install-helper.mjs, the same program
 * as `sudo npm run install-helper`), the helper bundle and the polkit policy are first copied to a
 * private folder outside it, then that installer runs once, elevated, on the system's Node (the
 * installed helper runs on it too). Risk, said where the user chooses it: the user's own copy of
 * the installer runs as root — the same trust as running the AppImage's code as root.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchwayError, PROTOCOL_VERSION } from '../../shared/errors';
import { INSTALLED_HELPER } from './elevate';

/** Where the AppImage carries the three files (among build/electron-builder.config.mjs extraResources). */
export const HELPER_RESOURCES = {
  installer: 'helper/install-helper.mjs',
  bundle: 'helper/archway-helper.mjs',
  policy: 'helper/dev.archway.helper.policy',
} as const;

/** The runtime the installed helper runs on (its shebang). */
export const SYSTEM_NODE = '/usr/bin/node';
/**
 * install-helper installs the single-file ESM bundle without a .mjs name: Node runs that only from
 * 20.19 on (module syntax detection). The archway package carries a launcher for Node 18.
 */
export const INSTALLER_MIN_NODE: readonly [number, number] = [20, 19];

export type HelperCheckState = 'ok' | 'missing' | 'older' | 'newer' | 'unusable';
export interface HelperCheck {
  state: HelperCheckState;
  /** The protocol version the installed helper reported. */
  version?: number;
  expected: number;
  message: string;
  /** What to do next (the app shows it with its "Install system helper" action). */
  hint?: string;
}

const clean = (s: string) => s.replace(/[\x00-\x08\x0b-\x1f\x7f\x9b]/g, '').slice(0, 400);

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}
function runProgram(argv: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: opts.env ?? { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ status: null, stdout, stderr: stderr + err.message });
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** The handshake: run the installed helper unprivileged with an empty request and read its protocol version. */
export async function checkHelper(helper = INSTALLED_HELPER, timeoutMs = 10_000): Promise<HelperCheck> {
  const expected = PROTOCOL_VERSION;
  const update = 'Install system helper (one administrator password), or upgrade the archway package.';
  if (!existsSync(helper)) {
    return { state: 'missing', expected, message: `the system helper is not installed (${helper})`, hint: update };
  }
  const r = await runProgram([helper], { timeoutMs });
  let version: unknown;
  try {
    version = (JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { version?: unknown }).version;
  } catch {
    /* not a helper answer */
  }
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    return {
      state: 'unusable',
      expected,
      message: `the system helper ${helper} did not answer (exit ${r.status ?? 'killed'})${r.stderr ? `: ${clean(r.stderr.trim())}` : ''}`,
      hint: update,
    };
  }
  if (version < expected) {
    return { state: 'older', version, expected, message: `the system helper speaks protocol ${version}, older than this app's ${expected}: the app will not use it`, hint: `Update it: ${update}` };
  }
  if (version > expected) {
    return { state: 'newer', version, expected, message: `the system helper speaks protocol ${version}, newer than this app's ${expected}`, hint: 'Update Archway (the app) to the version of the installed archway package.' };
  }
  return { state: 'ok', version, expected, message: `the system helper speaks protocol ${version}` };
}

export interface InstallOptions {
  /** The folder holding HELPER_RESOURCES (process.resourcesPath in the AppImage). */
  resourcesDir: string;
  /** 'pkexec' (one password prompt) or 'direct' (already root). */
  mode: 'pkexec' | 'direct';
  /** Install under this prefix instead of / (tests: a fake root directory). */
  root?: string;
  node?: string;
  pkexec?: string;
  timeoutMs?: number;
}
export interface InstallResult {
  ok: boolean;
  output: string;
  check: HelperCheck;
}

/** "Install system helper": copy the installer, bundle and policy out of the FUSE mount, run the installer once, elevated, then shake hands. */
export async function installSystemHelper(opts: InstallOptions): Promise<InstallResult> {
  const node = opts.node ?? SYSTEM_NODE;
  if (!existsSync(node)) {
    throw new ArchwayError('helper-missing', `the system helper runs on the system's Node.js, and ${node} is missing`, 'Install Node.js 18 or newer (apt install nodejs, or dnf install nodejs), or install the archway package.');
  }
  const v = await runProgram([node, '-e', 'process.stdout.write(process.versions.node)'], { timeoutMs: 10_000 });
  const [major = 0, minor = 0] = v.stdout.split('.').map(Number);
  if (major < INSTALLER_MIN_NODE[0] || (major === INSTALLER_MIN_NODE[0] && minor < INSTALLER_MIN_NODE[1])) {
    throw new ArchwayError(
      'helper-missing',
      `${node} is Node.js ${clean(v.stdout) || 'of an unknown version'}; the helper this app installs needs ${INSTALLER_MIN_NODE.join('.')} or newer`,
      'Install the archway package instead (its helper runs on Node.js 18), or a newer nodejs.',
    );
  }
  for (const rel of Object.values(HELPER_RESOURCES)) {
    if (!existsSync(join(opts.resourcesDir, rel))) throw new ArchwayError('helper-missing', `this build of Archway does not carry ${rel}`, 'Install the archway package instead.');
  }
  const copy = mkdtempSync(join(tmpdir(), 'archway-helper-install-'));
  try {
    const at = (k: keyof typeof HELPER_RESOURCES) => join(copy, HELPER_RESOURCES[k].split('/').pop()!);
    for (const k of Object.keys(HELPER_RESOURCES) as (keyof typeof HELPER_RESOURCES)[]) copyFileSync(join(opts.resourcesDir, HELPER_RESOURCES[k]), at(k));
    const installer = [node, at('installer'), '--source', at('bundle'), '--node', node, '--policy', '--policy-source', at('policy'), ...(opts.root ? ['--root', opts.root] : [])];
    const argv = opts.mode === 'pkexec' ? [opts.pkexec ?? '/usr/bin/pkexec', '--disable-internal-agent', ...installer] : installer;
    const r = await runProgram(argv, { timeoutMs: opts.timeoutMs ?? 120_000 });
    const output = clean(`${r.stdout}${r.stderr}`.trim()).replace(/\n{2,}/g, '\n');
    const check = await checkHelper(join(opts.root ?? '/', INSTALLED_HELPER));
    return { ok: r.status === 0 && check.state === 'ok', output, check };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}
