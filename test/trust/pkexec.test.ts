/**
 * The real elevation path, tested for real: system bus + polkitd, the project's .policy, the built
 * helper installed at the policy's exec.path (by scripts/install-helper.mjs, with an absolute node
 * in its shebang), a throw-away unprivileged user, and the app's own elevation code (runHelper in
 * electron/engine/elevate.ts, through the built CLI and through a small driver that imports it).
 *
 * pkexec is setuid root in the HOST user namespace, so the helper it starts changes the HOST's
 * binfmt_misc: this suite snapshots it first (mounting it if absent), uses harmless arches (s390x,
 * mips64el: nothing on an x86-64 host runs them natively; when the host already has handlers for
 * them, e.g. after `archway install all`, it moves aside two it can register again byte-identically),
 * and restores exactly what was there — entries, mount, /var/lib/archway, /var/log/archway,
 * /etc/binfmt.d (contents, modes, owners, empty directories) — along with the user, the rules, the
 * policy, the helper and any daemons it started.
 *
 * What polkit caches (no logind session here, see test/polkit/polkit.ts): with a rule returning
 * YES there is no authentication and nothing is cached; with AUTH_ADMIN_KEEP, one successful
 * authentication gives a TEMPORARY authorization to the subject pkexec asked about — pkexec's
 * parent process (pid + start time). The app's main process is that parent for every runHelper()
 * call, so a second request from it inside the window is not a second prompt; another process is
 * asked again. (In a desktop session polkit keys the temporary authorization on the session.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { parseProcEntry, type ProcEntry } from '../../shared/binfmt/entry';
import { buildRegister } from '../../shared/binfmt/register';
import { cpusForRule } from '../../shared/plan/rules';
import { isMounted } from '../../electron/engine/binfmtfs';
import { AuditEntrySchema } from '../../electron/engine/audit';
import { ArchwayRecordSchema } from '../../shared/record';
import { CATALOG, hexToBytes } from '../../shared/arch/catalog';
import { EXIT } from '../../electron/cli/exit-codes';
import { REPO_ROOT, foreignBusybox } from '../fixtures/foreign';
import { requireBuilt } from '../kernel/namespace';
import { bundleForNode, runCleanups } from '../support/node';
import { lockHostBinfmt } from '../docker/binfmt-snapshot';
import { DEFAULT_FLAGS } from '../support/register-strings';
import {
  DEFAULT_HELPER_INSTALL_PATH,
  POLKIT_RULES_DIR,
  addRule,
  createTestUser,
  grantRule,
  runAsUser,
  type InstalledPolicy,
  type PolkitHandle,
  type TestUser,
} from '../polkit/polkit';
import type { Outcome } from './elevate-driver';
import { setUpRealPath, withPasswordPrompts } from '../polkit/real-path';

const ACTION = 'dev.archway.helper.run';
const CLI = join(REPO_ROOT, 'dist/cli/archway.mjs');
const HELPER = DEFAULT_HELPER_INSTALL_PATH;
const BINFMT = '/proc/sys/fs/binfmt_misc';
/**
 * Harmless arches (nothing on an x86-64 host runs them natively). Two are used: first those the
 * host has no handler for; when there are fewer than two (e.g. after `archway install all`), those
 * whose handler this suite can move aside and put back byte-identically (see chooseArches). The
 * host's table is shared with anything else running on this machine (Docker tests register qemu-*
 * handlers too), so this suite only ever touches the handlers it chose.
 */
const CANDIDATES = ['s390x', 'mips64el', 'alpha', 'sparc64', 'm68k', 'sh4', 'hppa', 'xtensa'];
let ARCHES: string[] = [];
/** Host handlers (of ARCHES) this suite moved aside for its run; its clean-up registers them again. */
let MOVED: string[] = [];
let NAMES: string[] = [];
let SYSTEM_PATHS: string[] = [];
const NODE = fs.realpathSync(process.execPath);

// ------------------------------------------------------------------ host state: snapshot + restore

interface HostBinfmt {
  mounted: boolean;
  entries: Record<string, string>;
}
/** The host's binfmt_misc: mounted?, and the entries this suite may touch (NAMES) — or all of them. */
function hostBinfmt(all = false): HostBinfmt {
  const mounted = isMounted(BINFMT);
  const entries: Record<string, string> = {};
  if (mounted) {
    for (const n of fs.readdirSync(BINFMT).sort()) {
      if (n === 'register' || n === 'status' || (!all && !NAMES.includes(n))) continue;
      try {
        entries[n] = fs.readFileSync(join(BINFMT, n), 'utf8');
      } catch {
        /* removed meanwhile by someone else */
      }
    }
  }
  return { mounted, entries };
}
/** Ours only: the entries named NAMES. */
const ours = () => hostBinfmt().entries;

/** A file tree as it was: every directory (empty ones too), file and symlink, with mode and owner. */
type Node = { kind: 'dir'; mode: number; uid: number; gid: number } | { kind: 'file'; data: Buffer; mode: number; uid: number; gid: number } | { kind: 'link'; target: string; uid: number; gid: number };
type Tree = { exists: false } | { exists: true; nodes: Record<string, Node> };
function snapshotPath(p: string): Tree {
  const nodes: Record<string, Node> = {};
  const visit = (q: string, rel: string): boolean => {
    const s = fs.lstatSync(q, { throwIfNoEntry: false });
    if (!s) return false;
    const own = { uid: s.uid, gid: s.gid };
    if (s.isSymbolicLink()) nodes[rel] = { kind: 'link', target: fs.readlinkSync(q), ...own };
    else if (s.isDirectory()) {
      nodes[rel] = { kind: 'dir', mode: s.mode & 0o7777, ...own };
      for (const n of fs.readdirSync(q).sort()) visit(join(q, n), rel ? `${rel}/${n}` : n);
    } else if (s.isFile()) nodes[rel] = { kind: 'file', data: fs.readFileSync(q), mode: s.mode & 0o7777, ...own };
    else throw new Error(`${q}: not a file, directory or symlink; this suite cannot restore it`);
    return true;
  };
  return visit(p, '') ? { exists: true, nodes } : { exists: false };
}
/** Put a tree back exactly: contents, modes (whatever the umask), owners, empty directories, symlinks. */
function restorePath(p: string, t: Tree): void {
  fs.rmSync(p, { recursive: true, force: true });
  if (!t.exists) return;
  const dirs: [string, Node][] = [];
  for (const [rel, n] of Object.entries(t.nodes)) {
    const q = rel ? join(p, rel) : p;
    if (n.kind === 'dir') {
      fs.mkdirSync(q, { recursive: true, mode: 0o700 });
      dirs.push([q, n]);
      continue;
    }
    fs.mkdirSync(join(q, '..'), { recursive: true, mode: 0o700 });
    if (n.kind === 'link') fs.symlinkSync(n.target, q);
    else {
      fs.writeFileSync(q, n.data, { mode: 0o600 });
      fs.chmodSync(q, n.mode);
    }
    fs.lchownSync(q, n.uid, n.gid);
  }
  // Directories last (deepest first), so a read-only or foreign-owned directory is set after its contents.
  for (const [q, n] of dirs.reverse()) {
    fs.chownSync(q, n.uid, n.gid);
    fs.chmodSync(q, (n as { mode: number }).mode);
  }
}
/** Comparable view of the system paths (contents, not Buffers). */
function systemFiles(): Record<string, unknown> {
  return Object.fromEntries(SYSTEM_PATHS.map((p) => [p, JSON.parse(JSON.stringify(snapshotPath(p))) as unknown]));
}

/**
 * Put the suite's handlers back as they were, and unmount binfmt_misc if it was not mounted before
 * — unless something else registered handlers there meanwhile (then it stays, with theirs).
 */
function restoreHostBinfmt(before: HostBinfmt): void {
  if (!isMounted(BINFMT)) {
    if (!before.mounted) return;
    spawnSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT]);
  }
  for (const [n, text] of Object.entries(ours())) if (before.entries[n] !== text) fs.writeFileSync(join(BINFMT, n), '-1');
  for (const [n, text] of Object.entries(before.entries)) {
    if (ours()[n] === text) continue;
    const e = parseProcEntry(n, text);
    fs.writeFileSync(join(BINFMT, 'register'), buildRegister(e.rule));
    if (!e.enabled) fs.writeFileSync(join(BINFMT, n), '0');
  }
  if (!before.mounted && Object.keys(hostBinfmt(true).entries).length === 0) {
    const r = spawnSync('umount', [BINFMT], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`could not unmount the binfmt_misc this suite mounted: ${r.stderr}`);
  }
}

/**
 * Two CANDIDATES to use, and which of their host handlers to move aside for the run. Free ones come
 * first: no entry of the handler's name and none that takes the CPU's programs. Then ones whose
 * only handler is qemu-<cpu> and can be put back byte-identically by restoreHostBinfmt: its entry
 * parses, its interpreter file exists (F opens it when registering), and no other entry matches
 * the same programs (so where it lands in the kernel's list changes nothing).
 */
function chooseArches(table: Record<string, string>): { arches: string[]; moveAside: string[] } {
  const rules = Object.entries(table).map(([n, text]): { name: string; entry?: ProcEntry } => {
    try {
      return { name: n, entry: parseProcEntry(n, text) };
    } catch {
      return { name: n };
    }
  });
  const takers = (cpu: string) => rules.filter((r) => r.entry && cpusForRule(r.entry.rule).some((c) => c === cpu));
  const free: string[] = [];
  const movable: string[] = [];
  const why: string[] = [];
  for (const cpu of CANDIDATES) {
    const name = CATALOG.find((c) => c.cpu === cpu)!.handlerName;
    const own = rules.find((r) => r.name === name);
    const others = takers(cpu).filter((r) => r.name !== name);
    if (!own && others.length === 0) free.push(cpu);
    else if (!own) why.push(`${cpu}: taken by ${others.map((r) => r.name).join(', ')}`);
    else if (!own.entry) why.push(`${name}: its entry does not parse`);
    else if (others.length > 0) why.push(`${name}: ${others.map((r) => r.name).join(', ')} matches the same programs`);
    else if (!fs.existsSync(own.entry.rule.interpreter)) why.push(`${name}: its interpreter ${own.entry.rule.interpreter} is missing, so it could not be registered again`);
    else movable.push(cpu);
  }
  const arches = [...free, ...movable].slice(0, 2);
  if (arches.length < 2) throw new Error(`the host has handlers for ${CANDIDATES.join(', ')} that this suite cannot put back exactly: ${why.join('; ')}`);
  return { arches, moveAside: arches.filter((a) => movable.includes(a)).map((a) => CATALOG.find((c) => c.cpu === a)!.handlerName) };
}

/** A header-only ELF executable of a catalog CPU: with no handler exec fails with ENOEXEC; with one, QEMU starts (and gives up on it). */
function foreignElf(cpu: string, dir: string): string {
  const c = CATALOG.find((x) => x.cpu === cpu)!;
  const h = Buffer.alloc(c.elfClass === 64 ? 64 : 52);
  h.set(hexToBytes(c.magic).subarray(0, 20));
  const le = c.endian === 'little';
  if (le) h.writeUInt32LE(1, 20);
  else h.writeUInt32BE(1, 20);
  const file = join(dir, `foreign-${cpu}`);
  fs.writeFileSync(file, h, { mode: 0o755 });
  fs.chmodSync(file, 0o755);
  return file;
}

// ------------------------------------------------------------------ suite

let polkit: PolkitHandle | undefined;
let policy: InstalledPolicy | undefined;
let user: TestUser | undefined;
let work: string;
let driver: string;
/** The host as found (restored at the end) and as this suite starts from (its chosen handlers moved aside). */
let hostBefore: HostBinfmt;
let hostStart: HostBinfmt;
const filesBefore = new Map<string, Tree>();
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  // This suite changes the host's table (pkexec's helper acts on it): only under the shared lock,
  // held until every clean-up has run (pushed first, so it runs last).
  const unlock = await lockHostBinfmt();
  cleanups.push(unlock);
  const chosen = chooseArches(hostBinfmt(true).entries);
  ARCHES = chosen.arches;
  MOVED = chosen.moveAside;
  NAMES = ARCHES.map((a) => CATALOG.find((c) => c.cpu === a)!.handlerName);
  SYSTEM_PATHS = ['/var/lib/archway', '/var/log/archway', ...NAMES.map((n) => `/etc/binfmt.d/${n}.conf`)];
  hostBefore = hostBinfmt();
  for (const p of SYSTEM_PATHS) filesBefore.set(p, snapshotPath(p));
  // Registered before the move, so a failure half-way still puts everything back.
  cleanups.push(() => restoreHostBinfmt(hostBefore));
  cleanups.push(() => {
    for (const [p, t] of filesBefore) restorePath(p, t);
  });
  // The user's own handlers for the chosen arches step aside for the run (under the lock taken above).
  for (const n of MOVED) fs.writeFileSync(join(BINFMT, n), '-1');
  hostStart = hostBinfmt();
  for (const n of MOVED) expect(hostStart.entries[n], `${n} could not be moved aside`).toBeUndefined();

  ({ work, driver, polkit, policy } = await setUpRealPath('archway-pkexec-', HELPER, cleanups));
  user = await createTestUser();
  cleanups.push(() => user!.remove());
});

afterAll(async () => {
  await runCleanups(cleanups, 'pkexec suite');
  // Everything is back: the host's binfmt_misc (our entries; the mount unless others use it) and Archway's system files.
  expect(ours()).toEqual(hostBefore.entries);
  for (const [p, t] of filesBefore) expect(JSON.parse(JSON.stringify(snapshotPath(p)))).toEqual(JSON.parse(JSON.stringify(t)));
  expect(fs.readdirSync(POLKIT_RULES_DIR).filter((f) => f.includes('archway'))).toEqual([]);
});

const u = () => user!;
const cli = (args: string[], env: Record<string, string> = {}) => runAsUser(u(), [NODE, CLI, ...args], { env, timeoutMs: 60_000 });
const runDriver = async (requests: unknown[]) => {
  const r = await runAsUser(u(), [NODE, driver, 'run', JSON.stringify(requests)], { timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim()) as Outcome[];
};
/**
 * execv() a program as the user — no PATH search and no shell fallback (execvp, and so Node's
 * child_process, hand an ENOEXEC file to /bin/sh): 'ENOEXEC', or 'exit N: stderr'.
 */
const execAsUser = async (program: string) => {
  const py = 'import os, sys\ntry:\n    os.execv(sys.argv[1], [sys.argv[1]])\nexcept OSError as e:\n    print("ENOEXEC" if e.errno == 8 else "errno %d" % e.errno)\n';
  const r = await runAsUser(u(), ['/usr/bin/python3', '-c', py, program]);
  return r.stdout.trim() || `exit ${r.code}: ${r.stderr.trim()}`;
};
const audit = () => {
  try {
    return fs
      .readFileSync('/var/log/archway/audit.log', 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => AuditEntrySchema.parse(JSON.parse(l)));
  } catch {
    return [];
  }
};
const record = () => ArchwayRecordSchema.parse(JSON.parse(fs.readFileSync('/var/lib/archway/state.json', 'utf8')));
const unchanged = () => {
  expect(ours()).toEqual(hostStart.entries);
  expect(systemFiles()).toEqual(Object.fromEntries([...filesBefore].map(([p, t]) => [p, JSON.parse(JSON.stringify(t)) as unknown])));
};

describe('pkexec + polkit + the installed helper, as an unprivileged user', () => {
  it('without a rule the request fails with a clear "not authorized" and nothing changes', async () => {
    const r = await cli(['install', ...ARCHES]);
    // Not authorized is "something Archway needs is unavailable" (exit-codes.ts), not a usage error.
    expect(r.code, r.stderr).toBe(EXIT.unavailable);
    expect(r.stderr).toMatch(/Asking for administrator rights \(pkexec\)/);
    expect(r.stderr).toMatch(/archway: not authorized to run the Archway helper; nothing was changed \(Error executing command as another user: No authentication agent found\.\)/);
    expect(r.stderr).toMatch(/polkit rule must grant dev\.archway\.helper\.run/);
    unchanged();
    // The same through runHelper() directly: a typed not-authorized error, no response.
    const [o] = await runDriver([{ version: 1, ops: [{ op: 'install', arch: ARCHES[0] }] }]);
    expect(o).toMatchObject({ ok: false, error: { code: 'not-authorized' } });
    unchanged();
  });

  it('with a rule that says NO: "Not authorized" from polkit, nothing changes', async () => {
    const deny = await addRule({ user: u().name, actionId: ACTION, result: 'NO' });
    try {
      const r = await cli(['install', ARCHES[0]!]);
      expect(r.code, r.stderr).toBe(EXIT.unavailable);
      expect(r.stderr).toMatch(/not authorized to run the Archway helper; nothing was changed \(Error executing command as another user: Not authorized\)/);
      unchanged();
    } finally {
      await deny.revoke();
    }
  });

  it('the helper run directly by the user refuses to act, whatever the environment says', async () => {
    const evil = join(work, 'evil-root');
    fs.mkdirSync(evil, { mode: 0o777 });
    fs.chmodSync(evil, 0o777);
    const request = JSON.stringify({ version: 1, ops: [{ op: 'install', arch: ARCHES[0], persist: true }] });
    for (const helper of [HELPER, join(REPO_ROOT, 'dist/helper/archway-helper.mjs')]) {
      const r = await runAsUser(u(), [NODE, helper], { input: request, env: { PKEXEC_UID: '0', ARCHWAY_ROOT: evil, ARCHWAY_BINFMT: evil, ARCHWAY_TEST_KILL_AT: 'install:journaled' } });
      expect(r.code, r.stderr).toBe(2);
      const res = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string } };
      expect(res.ok).toBe(false);
      expect(res.error.code).toBe('not-root');
      expect(res.error.message).toMatch(/must run as root/);
    }
    expect(fs.readdirSync(evil)).toEqual([]);
    unchanged();
  });

  it('with a rule granting the action: a batch runs through pkexec, the helper sees PKEXEC_UID, the kernel changes as asked', async () => {
    const rule = await grantRule(u().name, ACTION);
    try {
      // The audit log may hold entries from earlier runs or other tools: only what follows counts.
      const auditStart = audit().length;
      const program = foreignElf(ARCHES[0]!, work);
      expect(await execAsUser(program)).toBe('ENOEXEC');
      const r = await cli(['install', ...ARCHES]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toMatch(/Asking for administrator rights \(pkexec\) to:\n/);
      for (const n of NAMES) expect(r.stderr).toContain(`  - register ${n} → `);
      // The host kernel now runs these programs through QEMU (pkexec's helper acts on the host's binfmt_misc).
      const now = hostBinfmt();
      expect(now.mounted).toBe(true);
      for (const n of NAMES) {
        const e = parseProcEntry(n, now.entries[n]!);
        expect(e.enabled).toBe(true);
        expect(e.rule.flags).toBe(DEFAULT_FLAGS.wrapper);
        expect(e.rule.interpreter).toMatch(/^\/usr\/libexec\/qemu-binfmt\/.*-binfmt-P$/);
      }
      // QEMU (Debian's <cpu>-binfmt-P) now starts for it, and gives up on a header-only program.
      expect(await execAsUser(program)).toMatch(new RegExp(`^exit \\d+: ${ARCHES[0]}-binfmt-P: .*foreign-${ARCHES[0]}: `));
      if (ARCHES.includes('s390x')) {
        const s390x = await foreignBusybox('s390x');
        expect((await runAsUser(u(), [s390x, 'uname', '-m'])).stdout.trim()).toBe('s390x');
      }
      // The caller's uid — from PKEXEC_UID — is in the record and in every audit line.
      const rec = record();
      for (const n of NAMES) expect(rec.handlers[n]?.installedBy).toBe(u().uid);
      const installs = audit().slice(auditStart).filter((e) => e.op === 'install');
      expect(installs.map((e) => e.name).sort()).toEqual([...NAMES].sort());
      for (const e of installs) {
        expect(e.uid).toBe(u().uid);
        expect(e.before).toBeNull();
        expect(e.after).toMatch(/^:qemu-/);
      }
      // Status, read by the same unprivileged user, agrees.
      const st = await cli(['status', '--json']);
      const status = JSON.parse(st.stdout) as { handlers: { name: string; owner: { kind: string } }[] };
      for (const n of NAMES) expect(status.handlers.find((h) => h.name === n)?.owner.kind).toBe('archway');

      // `use` goes through the same pkexec path: the prompt's argv names the emulator
      // (`use s390x emulator=distro`) and the helper accepts it; the handler already runs the
      // distribution's wrapper, so the planner answers "nothing to change" (a refusal of the argv
      // would be a bad-request before any planning).
      const [used] = await runDriver([{ version: 1, ops: [{ op: 'use', arch: ARCHES[0], emulator: { source: 'distro' } }] }]);
      expect(used?.ok, JSON.stringify(used)).toBe(true);
      expect((used?.response as { results: unknown[] }).results[0]).toMatchObject({ op: 'use', ok: true, changed: false });

      // A second request: no prompt, no cache involved (YES means no authentication at all).
      const un = await cli(['uninstall', ...ARCHES]);
      expect(un.code, un.stdout + un.stderr).toBe(0);
      for (const n of NAMES) expect(ours()[n]).toBeUndefined();
      const uninstalls = audit().slice(auditStart).filter((e) => e.op === 'uninstall');
      expect(uninstalls).toHaveLength(2);
      for (const e of uninstalls) {
        expect(e.uid).toBe(u().uid);
        expect(e.before).toMatch(/^:qemu-/);
        expect(e.after).toBeNull();
      }
    } finally {
      await rule.revoke();
    }
    // Revoked: nothing was cached, the next request is refused at once.
    const [o] = await runDriver([{ version: 1, ops: [{ op: 'install', arch: ARCHES[0] }] }]);
    expect(o?.error?.code).toBe('not-authorized');
    expect(ours()[NAMES[0]!]).toBeUndefined();
  });

  it('the environment the caller sets does not reach the root helper (pkexec drops it, and the helper ignores it under pkexec)', async () => {
    const rule = await grantRule(u().name, ACTION);
    const evil = join(work, 'evil-env');
    fs.mkdirSync(evil, { mode: 0o777 });
    fs.chmodSync(evil, 0o777);
    try {
      const r = await runAsUser(u(), ['/usr/bin/pkexec', '--disable-internal-agent', HELPER], {
        input: JSON.stringify({ version: 1, ops: [{ op: 'install', arch: ARCHES[0], persist: true }] }),
        env: { ARCHWAY_ROOT: evil, ARCHWAY_BINFMT: evil, ARCHWAY_TEST_KILL_AT: 'install:journaled', PKEXEC_UID: '0' },
      });
      // Not killed at the test hook, not redirected: the real files, the real kernel, the real caller.
      expect(r.code, r.stderr).toBe(0);
      expect(fs.readdirSync(evil)).toEqual([]);
      expect(record().handlers[NAMES[0]!]?.installedBy).toBe(u().uid);
      expect(fs.readFileSync(`/etc/binfmt.d/${NAMES[0]}.conf`, 'utf8')).toMatch(/^# Managed by Archway/);
      expect(ours()[NAMES[0]!]).toBeDefined();
      const un = await runDriver([{ version: 1, ops: [{ op: 'uninstall', arch: ARCHES[0] }] }]);
      expect(un[0]?.ok).toBe(true);
      expect(fs.existsSync(`/etc/binfmt.d/${NAMES[0]}.conf`)).toBe(false);
    } finally {
      await rule.revoke();
    }
  });

  it('auth_admin_keep: after one real authentication, a second request from the same process is not a second prompt; another process is asked again', async () => {
    // A password for the user, the user as polkit's admin identity for this action, and a rule
    // returning AUTH_ADMIN_KEEP. The driver registers pkttyagent for its own process.
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    const pw = spawnSync('chpasswd', { input: `${u().name}:${password}\n`, encoding: 'utf8' });
    expect(pw.status, pw.stderr).toBe(0);
    const adminRule = join(POLKIT_RULES_DIR, `09-archway-trust-admin-${u().name}.rules`);
    const tmp = `${adminRule}.tmp`;
    fs.writeFileSync(tmp, `polkit.addAdminRule(function (action, subject) {\n  if (action.id === ${JSON.stringify(ACTION)} && subject.user === ${JSON.stringify(u().name)}) return [${JSON.stringify(`unix-user:${u().name}`)}];\n  return null;\n});\n`, { mode: 0o644 });
    fs.renameSync(tmp, adminRule);
    const keep = await addRule({ user: u().name, actionId: ACTION, result: 'AUTH_ADMIN_KEEP' });
    try {
      const install = { version: 1, ops: [{ op: 'install', arch: ARCHES[0] }] };
      const uninstall = { version: 1, ops: [{ op: 'uninstall', arch: ARCHES[0] }] };
      const dry = { version: 1, ops: [{ op: 'install', arch: ARCHES[1] }], dryRun: true };
      const session = await withPasswordPrompts(u(), [NODE, driver, 'agent', JSON.stringify([install, uninstall]), JSON.stringify([dry])], password);
      const result = JSON.parse(session.output.slice(session.output.indexOf('RESULT ') + 7).split('\n')[0]!) as { mine: Outcome[]; other: Outcome[] };
      // One prompt, answered once, for two privileged requests from the same process.
      expect(session.prompts, session.output).toBe(1);
      expect(result.mine.map((o) => o.ok), session.output).toEqual([true, true]);
      // Another process (no agent registered for it, no temporary authorization) is refused.
      expect(result.other[0]).toMatchObject({ ok: false, error: { code: 'not-authorized' } });
      // The two requests really ran as root for this user.
      const lines = audit().filter((e) => e.name === NAMES[0]).slice(-2);
      expect(lines.map((e) => [e.op, e.uid])).toEqual([
        ['install', u().uid],
        ['uninstall', u().uid],
      ]);
      if (polkit?.polkitdLog) {
        const log = fs.readFileSync(polkit.polkitdLog, 'utf8');
        expect(log).toMatch(/TEMPORARY authorization/);
      }
    } finally {
      await keep.revoke();
      fs.rmSync(adminRule, { force: true });
      spawnSync('passwd', ['-d', u().name]);
    }
    expect(ours()[NAMES[0]!]).toBeUndefined();
  });
});
