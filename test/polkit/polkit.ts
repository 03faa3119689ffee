/**
 * Real-polkit harness for Archway's integration tests.
 *
 * Starts the real system bus and polkitd (no systemd needed), installs a
 * polkit action + the program pkexec is allowed to run, creates throw-away
 * users, writes polkit JavaScript rules and runs programs as those users.
 * Nothing is mocked. Every step remembers what it changed, and each handle's
 * cleanup function puts the machine back exactly as it was.
 *
 * Must run as root. All child processes are started with spawn() and argv
 * arrays; no shell is ever involved.
 *
 * Typical use:
 *
 *   const polkit = await startPolkit();
 *   const policy = await installPolicy({ policyFile, helperSource });
 *   const user = await createTestUser();
 *   const rule = await grantRule(user.name, 'dev.archway.helper.run');
 *   const r = await runAsUser(user, ['pkexec', '/usr/lib/archway/archway-helper'], { input: '...' });
 *   await rule.revoke(); await user.remove(); await policy.uninstall(); await polkit.stop();
 *
 * ---------------------------------------------------------------------------
 * What we found on this machine (Debian 12, polkit 122, dbus 1.14, no systemd,
 * no logind). Measured by hand and by polkit-infra.test.ts.
 *
 * Starting the daemons
 *   - `dbus-daemon --system --fork --print-pid` needs /run/dbus to exist. It
 *     prints the daemon's pid and writes /run/dbus/pid. When it is killed,
 *     /run/dbus/pid and /run/dbus/system_bus_socket are LEFT BEHIND, and the
 *     next `dbus-daemon --system` then refuses to start ("The pid file
 *     /run/dbus/pid exists"). stop() deletes both; startPolkit() deletes them
 *     when they are stale (no live dbus-daemon has that pid).
 *   - /usr/lib/polkit-1/polkitd runs in the foreground, switches to the
 *     `polkitd` user and owns org.freedesktop.PolicyKit1 well under 100 ms
 *     after it starts (startPolkit() with both daemons to start: ~90 ms). We
 *     start it without --no-debug and keep its output in a log file (see
 *     PolkitHandle.polkitdLog): it logs every rules reload and every
 *     authentication.
 *
 * pkexec subjects
 *   pkexec asks polkitd about its PARENT process (pid + start time), tagged
 *   with pkexec's real uid. polkit rules see that as `subject.user`. There is no
 *   logind session here, so a rule sees:
 *     [Subject pid=… user='archway-pk-…' seat=null session=null local=false active=false]
 *   Because the subject is never "active", polkit uses the policy's
 *   <allow_any> default (auth_admin), never <allow_active> (auth_admin_keep).
 *
 * Refusals (runAsUser() always starts pkexec in a new session with no
 * controlling terminal, so pkexec can never prompt on the developer's tty):
 *   - no rule, pkexec's own text agent (the default): exit 127, stdout empty,
 *     stderr exactly
 *       "Error creating textual authentication agent: Error opening current controlling terminal for the process (`/dev/tty'): No such device or address\n"
 *   - no rule, `pkexec --disable-internal-agent`: exit 127, stderr exactly
 *       "Error executing command as another user: No authentication agent found.\n"
 *   - a rule returning polkit.Result.NO: exit 127, stderr exactly
 *       "Error executing command as another user: Not authorized\n\nThis incident has been reported.\n"
 *   The constants below hold these strings.
 *   `pkcheck` exits 2 ("challenge") for the no-rule case, 1 for NO and 0 for YES.
 *
 * Rule reloading
 *   polkitd watches /etc/polkit-1/rules.d (inotify) and, whenever something
 *   in it changes, reloads every *.rules file from both rules folders (its log
 *   says "Reloading rules"). You do not need to restart it or send it a signal.
 *   A new, changed or deleted rule took effect at once: in 5 of 5 tries, the
 *   very first pkcheck after the rename/unlink (~20 ms) already saw it.
 *   A plain shell write (`cat > x.rules`) caused TWO reloads (create, then
 *   changes-done), so the first reload could read a half-written file. We
 *   write the file under a name that does not end in `.rules` (polkitd skips
 *   those) and then rename() it into place.
 *   After the write/unlink we still wait until a pkcheck for that user/action
 *   returns the new answer, instead of sleeping for a guessed time.
 *   The same holds for /usr/share/polkit-1/actions: a copied .policy file is
 *   known to `pkaction` almost at once; installPolicy() waits for that too.
 *
 * auth_admin_keep / caching
 *   - When a rule returns polkit.Result.YES there is no authentication and
 *     no temporary authorization. Every pkexec call simply succeeds without a
 *     prompt. The first call and the 2nd, 3rd… behave the same, and revoking
 *     the rule makes the next call fail at once (nothing is cached).
 *   - Without a rule and without an authentication agent, each call fails the
 *     same way. Nothing is cached either, because caching only happens after a
 *     successful interactive authentication.
 *   - Interactive experiment (done by hand, not automated: it needs a pty and a
 *     password). We gave the test user a password, an addAdminRule naming that
 *     user, and ran it under `script` with `pkttyagent --process <shell pid>`:
 *       * Policy defaults (no session -> allow_any = auth_admin): polkitd
 *         logged "gain ONE-SHOT authorization", and the user was prompted
 *         AGAIN for the second pkexec from the same shell.
 *       * Rule returning polkit.Result.AUTH_ADMIN_KEEP: the log said "gain
 *         TEMPORARY authorization … for unix-process:<shell pid>:<start time>".
 *         The 2nd and 3rd pkexec from that same shell ran without a prompt.
 *         With no session, the cached authorization belongs to the PARENT
 *         PROCESS of pkexec (pid + start time). A new parent process gets asked
 *         again. In a real desktop session (logind, subject active) the
 *         cache would belong to the session instead, and polkit keeps it for
 *         about 5 minutes (polkit's own default; we did not measure it). For the app, pkexec should be started directly by the
 *         long-lived main process (not through a fresh shell every time).
 *         Otherwise the cache would not help when there is no session.
 *       * pkexec's BUILT-IN text agent cannot finish an authentication on
 *         polkit 122. There is no PAM error, and then it fails with
 *         "polkit-agent-helper-1: error response to PolicyKit daemon:
 *         GDBus.Error:org.freedesktop.PolicyKit1.Error.Failed: No session for
 *         cookie" / "Not authorized". This is a known upstream bug (the agent
 *         is registered under euid 0; see polkit-org/polkit PR #423). A separate
 *         agent (pkttyagent, or a desktop agent) works.
 *   - pkcheck tells the two defaults apart without any prompt. A "challenge"
 *     answer that would be cached prints the detail line
 *     `polkit\56retains_authorization_after_challenge=1`. checkAuthorization()
 *     reports this as `retainsAfterChallenge`.
 *   - `pkcheck --list-temp` does not work here: "Error getting session: No
 *     session for pid …", exit 1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, openSync, closeSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

// ---------------------------------------------------------------------------
// Constants other tests can assert on
// ---------------------------------------------------------------------------

export const SYSTEM_BUS_SOCKET = '/run/dbus/system_bus_socket';
export const POLKIT_BUS_NAME = 'org.freedesktop.PolicyKit1';
export const POLKIT_ACTIONS_DIR = '/usr/share/polkit-1/actions';
export const POLKIT_RULES_DIR = '/etc/polkit-1/rules.d';
export const POLKITD_PATH = '/usr/lib/polkit-1/polkitd';
export const DEFAULT_HELPER_INSTALL_PATH = '/usr/lib/archway/archway-helper';

/** pkexec's exit code for every refusal (not authorized, no agent, dismissed). */
export const PKEXEC_REFUSED_EXIT_CODE = 127;
/** stderr of a refused `pkexec PROG` when no rule allows it and there is no tty (the internal text agent can't start). */
export const PKEXEC_NO_TTY_MESSAGE =
  "Error creating textual authentication agent: Error opening current controlling terminal for the process (`/dev/tty'): No such device or address\n";
/** stderr of a refused `pkexec --disable-internal-agent PROG` when no rule allows it and no agent is registered. */
export const PKEXEC_NO_AGENT_MESSAGE = 'Error executing command as another user: No authentication agent found.\n';
/** stderr of pkexec when polkit answers "no" outright (e.g. a rule returns polkit.Result.NO). */
export const PKEXEC_NOT_AUTHORIZED_MESSAGE =
  'Error executing command as another user: Not authorized\n\nThis incident has been reported.\n';

// ---------------------------------------------------------------------------
// Process helpers (argv arrays only, never a shell)
// ---------------------------------------------------------------------------

interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

interface ExecOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Start in a new session (setsid): no controlling terminal, own process group. */
  newSession?: boolean;
}

function exec(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(file, [...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        detached: opts.newSession ?? false,
      });
    } catch (err) {
      reject(new Error(`could not start ${file}: ${(err as Error).message}`));
      return;
    }
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => errOut.push(d));
    // The child may exit without reading its stdin; that is not our error.
    child.stdin?.on('error', () => undefined);
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    child.on('exit', (code, signal) => {
      exitCode = code;
      exitSignal = signal;
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(errOut).toString('utf8'),
        timedOut,
      });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child, opts.newSession ?? false);
      // Something that left our process group may still hold stdout open: do not wait for it forever.
      setTimeout(() => finish(exitCode, exitSignal ?? 'SIGKILL'), 2_000).unref();
    }, timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(
        err.code === 'ENOENT'
          ? new Error(`${file} not found (${err.message}). ${installHintFor(file)}`)
          : new Error(`could not run ${file}: ${err.message}`),
      );
    });
    child.on('close', (code, signal) => finish(code, signal));
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

function killTree(child: ChildProcess, ownGroup: boolean): void {
  if (child.pid === undefined) return;
  try {
    if (ownGroup) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // already gone
  }
}

function describeResult(r: ExecResult): string {
  const status = r.timedOut ? 'timed out' : r.code !== null ? `exit ${r.code}` : `signal ${r.signal ?? '?'}`;
  const text = `${r.stderr}${r.stdout}`.trim();
  return text ? `${status}: ${text}` : status;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 10_000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Prerequisites
// ---------------------------------------------------------------------------

const TOOLS: Record<string, { pkg: string; absolute?: string }> = {
  'dbus-daemon': { pkg: 'dbus' },
  'dbus-send': { pkg: 'dbus' },
  polkitd: { pkg: 'polkitd', absolute: POLKITD_PATH },
  pkcheck: { pkg: 'polkitd' },
  pkaction: { pkg: 'polkitd' },
  pkexec: { pkg: 'pkexec' },
  setpriv: { pkg: 'util-linux' },
  useradd: { pkg: 'passwd' },
  userdel: { pkg: 'passwd' },
  groupdel: { pkg: 'passwd' },
  getent: { pkg: 'libc-bin' },
};

const SEARCH_PATH = [
  ...(process.env.PATH ?? '').split(':').filter(Boolean),
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
];

function installHintFor(file: string): string {
  const tool = TOOLS[path.basename(file)];
  return tool ? `Install it with: apt-get install -y ${tool.pkg}` : '';
}

const resolved = new Map<string, string>();

/** Absolute path of a required tool, or a clear "install X" error. */
async function tool(name: keyof typeof TOOLS & string): Promise<string> {
  const cached = resolved.get(name);
  if (cached) return cached;
  const spec = TOOLS[name];
  const candidates = spec?.absolute ? [spec.absolute] : [...new Set(SEARCH_PATH)].map((d) => path.join(d, name));
  for (const c of candidates) {
    try {
      await fs.access(c, fsConstants.X_OK);
      resolved.set(name, c);
      return c;
    } catch {
      // try next
    }
  }
  throw new Error(`${name} not found. ${installHintFor(name)}`);
}

/**
 * Throws one error naming every missing package (and the root requirement),
 * e.g. "apt-get install -y dbus polkitd pkexec".
 */
export async function checkPrerequisites(): Promise<void> {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) {
    problems.push(
      'The polkit test harness must run as root: it starts the system bus and polkitd, writes ' +
        `${POLKIT_RULES_DIR} and ${POLKIT_ACTIONS_DIR}, and adds users. ` +
        'Run e.g. `sudo npx vitest run --project integration test/polkit/`.',
    );
  }
  const missingPkgs = new Set<string>();
  for (const name of Object.keys(TOOLS)) {
    try {
      await tool(name);
    } catch {
      missingPkgs.add(TOOLS[name]!.pkg);
    }
  }
  if (missingPkgs.size > 0) {
    problems.push(
      `Missing tools for the polkit tests. Install them with: apt-get install -y ${[...missingPkgs].join(' ')}`,
    );
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

// ---------------------------------------------------------------------------
// System bus + polkitd
// ---------------------------------------------------------------------------

const BUS_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${SYSTEM_BUS_SOCKET}`,
};

/** True when a system bus answers on /run/dbus/system_bus_socket. */
export async function systemBusIsRunning(): Promise<boolean> {
  const r = await exec(
    await tool('dbus-send'),
    ['--system', '--print-reply', '--reply-timeout=2000', '--dest=org.freedesktop.DBus', '/', 'org.freedesktop.DBus.GetId'],
    { env: BUS_ENV, timeoutMs: 5_000 },
  );
  return r.code === 0;
}

async function nameHasOwner(name: string): Promise<boolean> {
  const r = await exec(
    await tool('dbus-send'),
    [
      '--system',
      '--print-reply',
      '--reply-timeout=2000',
      '--dest=org.freedesktop.DBus',
      '/',
      'org.freedesktop.DBus.NameHasOwner',
      `string:${name}`,
    ],
    { env: BUS_ENV, timeoutMs: 5_000 },
  );
  return r.code === 0 && /boolean true/.test(r.stdout);
}

/** True when the system bus answers and org.freedesktop.PolicyKit1 has an owner. */
export async function polkitIsRunning(): Promise<boolean> {
  return (await systemBusIsRunning()) && (await nameHasOwner(POLKIT_BUS_NAME));
}

/** Process state from /proc/<pid>/stat, or undefined when the pid does not exist. */
async function procState(pid: number): Promise<{ comm: string; state: string; startTime: string } | undefined> {
  let stat: string;
  try {
    stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(open + 1, close);
  const rest = stat.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  return { comm, state: rest[0] ?? '?', startTime: rest[19] ?? '0' };
}

async function isAlive(pid: number, comm?: string): Promise<boolean> {
  const st = await procState(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return comm === undefined || st.comm === comm;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(pid))) return true;
    await sleep(25);
  }
  return !(await isAlive(pid));
}

export interface PolkitHandle {
  /** Whether this call started the system bus (and so stop() will end it). */
  readonly startedBus: boolean;
  /** Whether this call started polkitd (and so stop() will end it). */
  readonly startedPolkitd: boolean;
  /** polkitd's debug output (only when we started it). Each rules reload shows up as "Reloading rules". */
  readonly polkitdLog: string | undefined;
  /** Stops only what this call started. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Makes sure a system bus is listening on /run/dbus/system_bus_socket and that
 * polkitd owns org.freedesktop.PolicyKit1. Starts whatever is missing and
 * remembers it; stop() ends exactly those.
 */
export async function startPolkit(): Promise<PolkitHandle> {
  await checkPrerequisites();

  let busPid: number | undefined;
  let createdRunDbus = false;
  let polkitd: ChildProcess | undefined;
  let polkitdLog: string | undefined;
  let polkitdLogDir: string | undefined;
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const errors: string[] = [];
    if (polkitd?.pid !== undefined && polkitd.exitCode === null && polkitd.signalCode === null) {
      const pid = polkitd.pid;
      const exited = new Promise<void>((r) => polkitd!.once('exit', () => r()));
      polkitd.kill('SIGTERM');
      const ok = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!ok) {
        polkitd.kill('SIGKILL');
        await Promise.race([exited, sleep(2_000)]);
      }
      if (await isAlive(pid)) errors.push(`polkitd (pid ${pid}) did not exit`);
    }
    if (busPid !== undefined) {
      if (await isAlive(busPid, 'dbus-daemon')) {
        process.kill(busPid, 'SIGTERM');
        if (!(await waitForExit(busPid, 5_000))) {
          process.kill(busPid, 'SIGKILL');
          if (!(await waitForExit(busPid, 2_000))) errors.push(`dbus-daemon (pid ${busPid}) did not exit`);
        }
      }
      // dbus-daemon leaves these behind, and they block the next start.
      try {
        const pidFile = (await fs.readFile('/run/dbus/pid', 'utf8')).trim();
        if (pidFile === String(busPid)) await fs.rm('/run/dbus/pid', { force: true });
      } catch {
        // no pid file
      }
      await fs.rm(SYSTEM_BUS_SOCKET, { force: true });
      if (createdRunDbus) await fs.rmdir('/run/dbus').catch(() => undefined);
    }
    if (polkitdLogDir) await fs.rm(polkitdLogDir, { recursive: true, force: true });
    if (errors.length > 0) throw new Error(`stopping polkit: ${errors.join('; ')}`);
  };

  try {
    // 1. System bus.
    if (!(await systemBusIsRunning())) {
      if (!(await exists('/run/dbus'))) {
        await fs.mkdir('/run/dbus', { mode: 0o755 });
        createdRunDbus = true;
      }
      await removeStaleBusFiles();
      const r = await exec(await tool('dbus-daemon'), ['--system', '--fork', '--print-pid'], { timeoutMs: 15_000 });
      const pid = Number.parseInt(r.stdout.trim(), 10);
      if (r.code !== 0 || !Number.isInteger(pid)) {
        throw new Error(
          `could not start the system bus with \`dbus-daemon --system --fork\` (${describeResult(r)}). ` +
            'Check that the dbus package is installed (apt-get install -y dbus) and that /run/dbus is writable.',
        );
      }
      busPid = pid;
      await waitFor(`the system bus to answer on ${SYSTEM_BUS_SOCKET}`, async () =>
        (await systemBusIsRunning()) ? true : undefined,
      );
    }

    // 2. polkitd.
    if (!(await nameHasOwner(POLKIT_BUS_NAME))) {
      polkitdLogDir = await fs.mkdtemp(path.join(os.tmpdir(), 'archway-polkitd-'));
      polkitdLog = path.join(polkitdLogDir, 'polkitd.log');
      const fd = openSync(polkitdLog, 'a', 0o600);
      try {
        polkitd = spawn(await tool('polkitd'), [], {
          stdio: ['ignore', fd, fd],
          detached: true,
          env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', DBUS_SYSTEM_BUS_ADDRESS: BUS_ENV.DBUS_SYSTEM_BUS_ADDRESS },
        });
      } finally {
        closeSync(fd);
      }
      polkitd.on('error', () => undefined);
      polkitd.unref(); // a forgotten stop() must not keep the test worker alive
      const child = polkitd;
      const logFile = polkitdLog;
      await waitFor(`polkitd to own ${POLKIT_BUS_NAME} on the system bus`, async () => {
        if (await nameHasOwner(POLKIT_BUS_NAME)) return true;
        if (child.exitCode !== null || child.signalCode !== null) {
          const log = await fs.readFile(logFile, 'utf8').catch(() => '');
          throw new Error(
            `polkitd exited early (${child.exitCode ?? child.signalCode}). Its output:\n${log.trim()}\n` +
              'Is the polkitd package installed (apt-get install -y polkitd)?',
          );
        }
        return undefined;
      });
    }
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }

  return {
    startedBus: busPid !== undefined,
    startedPolkitd: polkitd !== undefined,
    polkitdLog,
    stop,
  };
}

/** /run/dbus/pid or the socket left behind by a dead dbus-daemon stop the next one from starting. */
async function removeStaleBusFiles(): Promise<void> {
  let pidText: string | undefined;
  try {
    pidText = (await fs.readFile('/run/dbus/pid', 'utf8')).trim();
  } catch {
    pidText = undefined;
  }
  if (pidText !== undefined) {
    const pid = Number.parseInt(pidText, 10);
    if (Number.isInteger(pid) && (await isAlive(pid, 'dbus-daemon'))) {
      throw new Error(
        `a dbus-daemon (pid ${pid}, from /run/dbus/pid) is running but the system bus does not answer on ` +
          `${SYSTEM_BUS_SOCKET}. Stop it (kill ${pid}) or fix it, then run the tests again.`,
      );
    }
    await fs.rm('/run/dbus/pid', { force: true });
  }
  await fs.rm(SYSTEM_BUS_SOCKET, { force: true });
}

// ---------------------------------------------------------------------------
// Policy + helper installation
// ---------------------------------------------------------------------------

type FileBackup =
  | { path: string; existed: false }
  | { path: string; existed: true; content: Buffer; mode: number; uid: number; gid: number };

async function backupFile(p: string): Promise<FileBackup> {
  let st;
  try {
    st = await fs.lstat(p);
  } catch {
    return { path: p, existed: false };
  }
  if (!st.isFile()) throw new Error(`${p} exists but is not a regular file; refusing to replace it`);
  return { path: p, existed: true, content: await fs.readFile(p), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** Writes a file atomically (temp file in the same folder + rename) with the given owner and mode. */
async function writeFileAtomic(
  dest: string,
  content: Buffer | string,
  { mode, uid, gid }: { mode: number; uid: number; gid: number },
): Promise<void> {
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.archway-tmp-${randomBytes(4).toString('hex')}`);
  try {
    await fs.writeFile(tmp, content, { mode });
    await fs.chown(tmp, uid, gid);
    await fs.chmod(tmp, mode); // writeFile's mode is filtered by the umask
    await fs.rename(tmp, dest);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

async function restoreFile(b: FileBackup): Promise<void> {
  if (b.existed) await writeFileAtomic(b.path, b.content, { mode: b.mode, uid: b.uid, gid: b.gid });
  else await fs.rm(b.path, { force: true });
}

/** Creates missing parent folders (root:root 0755). Returns the ones it created, outermost first. */
async function ensureRootDirs(dir: string): Promise<string[]> {
  const chain: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    chain.unshift(d);
    if (d === path.dirname(d)) break;
  }
  const created: string[] = [];
  for (const d of chain) {
    let st;
    try {
      st = await fs.lstat(d);
    } catch {
      st = undefined;
    }
    if (st) {
      if (!st.isDirectory()) throw new Error(`${d} exists but is not a folder`);
      if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
        throw new Error(
          `${d} must be owned by root and not writable by group/others (it is uid ${st.uid}, mode ` +
            `${(st.mode & 0o7777).toString(8)}); a privileged helper below it would not be safe`,
        );
      }
      continue;
    }
    await fs.mkdir(d, { mode: 0o755 });
    await fs.chown(d, 0, 0);
    await fs.chmod(d, 0o755);
    created.push(d);
  }
  return created;
}

/** Action ids declared in a .policy file. */
export function policyActionIds(xml: string): string[] {
  return [...xml.matchAll(/<action\s+id\s*=\s*"([^"]+)"/g)].map((m) => m[1]!);
}

/** Values of org.freedesktop.policykit.exec.path annotations in a .policy file. */
export function policyExecPaths(xml: string): string[] {
  return [
    ...xml.matchAll(/<annotate\s+key\s*=\s*"org\.freedesktop\.policykit\.exec\.path"\s*>\s*([^<]*?)\s*<\/annotate>/g),
  ].map((m) => m[1]!);
}

async function pkactionKnows(actionId: string): Promise<boolean> {
  const r = await exec(await tool('pkaction'), ['--action-id', actionId], { env: BUS_ENV, timeoutMs: 10_000 });
  return r.code === 0;
}

export interface InstalledPolicy {
  readonly policyPath: string;
  readonly helperPath: string;
  readonly actionIds: readonly string[];
  /** Puts back whatever was at both paths before (or removes them), and removes folders we created. */
  uninstall(): Promise<void>;
}

/**
 * Copies `policyFile` to /usr/share/polkit-1/actions/ and `helperSource` to the
 * policy's exec.path (root:root 0755; missing parent folders are created
 * root:root 0755). Waits until polkitd knows the action(s), if polkitd is running.
 */
export async function installPolicy(opts: {
  policyFile: string;
  helperSource: string;
  helperInstallPath?: string;
}): Promise<InstalledPolicy> {
  await checkPrerequisites();
  const helperPath = path.resolve(opts.helperInstallPath ?? DEFAULT_HELPER_INSTALL_PATH);
  const xml = await fs.readFile(opts.policyFile, 'utf8').catch((err: Error) => {
    throw new Error(`cannot read policy file ${opts.policyFile}: ${err.message}`);
  });
  const actionIds = policyActionIds(xml);
  if (actionIds.length === 0) throw new Error(`${opts.policyFile} declares no <action id="…">`);
  const execPaths = policyExecPaths(xml);
  if (!execPaths.includes(helperPath)) {
    throw new Error(
      `${opts.policyFile} has no org.freedesktop.policykit.exec.path annotation for ${helperPath} ` +
        `(found: ${execPaths.length ? execPaths.join(', ') : 'none'}); pkexec would not use this action for it`,
    );
  }
  const helperSrc = await fs.stat(opts.helperSource).catch((err: Error) => {
    throw new Error(`cannot read helper program ${opts.helperSource}: ${err.message}`);
  });
  if (!helperSrc.isFile()) throw new Error(`helper program ${opts.helperSource} is not a regular file`);

  const policyPath = path.join(POLKIT_ACTIONS_DIR, path.basename(opts.policyFile));
  if (!(await exists(POLKIT_ACTIONS_DIR))) {
    throw new Error(`${POLKIT_ACTIONS_DIR} does not exist. Install polkit with: apt-get install -y polkitd pkexec`);
  }

  const policyBackup = await backupFile(policyPath);
  const helperBackup = await backupFile(helperPath);
  let createdDirs: string[] = [];
  let done = false;

  const uninstall = async (): Promise<void> => {
    if (done) return;
    done = true;
    await restoreFile(helperBackup);
    for (const d of [...createdDirs].reverse()) {
      await fs.rmdir(d).catch(() => undefined); // leave it if someone else put files there
    }
    await restoreFile(policyBackup);
    if (await polkitIsRunning()) {
      for (const id of actionIds) {
        const restored = policyBackup.existed && policyActionIds(policyBackup.content.toString('utf8')).includes(id);
        if (restored) {
          // Best effort: the old file may be one polkitd cannot load (bad XML, unreadable mode).
          await waitFor(`polkitd to reload action ${id}`, async () => ((await pkactionKnows(id)) ? true : undefined), {
            timeoutMs: 2_000,
          }).catch(() => undefined);
        } else {
          await waitFor(`polkitd to forget action ${id}`, async () => ((await pkactionKnows(id)) ? undefined : true));
        }
      }
    }
  };

  try {
    createdDirs = await ensureRootDirs(path.dirname(helperPath));
    await writeFileAtomic(helperPath, await fs.readFile(opts.helperSource), { mode: 0o755, uid: 0, gid: 0 });
    await writeFileAtomic(policyPath, xml, { mode: 0o644, uid: 0, gid: 0 });
    if (await polkitIsRunning()) {
      for (const id of actionIds) {
        await waitFor(`polkitd to load action ${id} from ${policyPath}`, async () =>
          (await pkactionKnows(id)) ? true : undefined,
        ).catch((err: Error) => {
          throw new Error(
            `${err.message}. polkitd ignores .policy files it cannot parse; check ${opts.policyFile} with ` +
              '`xmllint --valid --noout FILE` (apt-get install -y libxml2-utils), e.g. for "--" inside a comment.',
          );
        });
      }
    }
  } catch (err) {
    await uninstall().catch(() => undefined);
    throw err;
  }
  return { policyPath, helperPath, actionIds, uninstall };
}

// ---------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

async function lookupUser(nameOrUid: string | number): Promise<PasswdEntry | undefined> {
  const r = await exec(await tool('getent'), ['passwd', String(nameOrUid)]);
  if (r.code !== 0) return undefined;
  const f = r.stdout.trim().split(':');
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (f.length < 7 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error(`unexpected getent passwd output: ${r.stdout}`);
  }
  return { name: f[0]!, uid, gid, home: f[5]! };
}

async function groupExists(name: string): Promise<boolean> {
  return (await exec(await tool('getent'), ['group', name])).code === 0;
}

const USER_NAME_RE = /^[a-z_][a-z0-9_-]{0,30}$/;

export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Deletes the user and its group. Safe to call twice. */
  remove(): Promise<void>;
}

/**
 * Adds an ordinary (uid >= 1000) user with its own group, no home folder and
 * no login shell. The name must not exist yet. The default is a random
 * `archway-pk-xxxxxx`.
 */
export async function createTestUser(name?: string): Promise<TestUser> {
  await checkPrerequisites();
  const userName = name ?? `archway-pk-${randomBytes(3).toString('hex')}`;
  if (!USER_NAME_RE.test(userName)) {
    throw new Error(`invalid user name ${JSON.stringify(userName)} (use lower-case letters, digits, - and _)`);
  }
  if (await lookupUser(userName)) {
    throw new Error(`user ${userName} already exists; pick another name or delete it with \`userdel ${userName}\``);
  }
  const hadGroup = await groupExists(userName);
  const r = await exec(await tool('useradd'), [
    '--no-create-home',
    '--home-dir',
    '/nonexistent',
    '--shell',
    '/usr/sbin/nologin',
    '--comment',
    'Archway polkit integration test user',
    ...(hadGroup ? ['--gid', userName] : ['--user-group']),
    userName,
  ]);
  if (r.code !== 0) throw new Error(`useradd ${userName} failed (${describeResult(r)})`);
  const entry = await lookupUser(userName);
  if (!entry) throw new Error(`useradd ${userName} succeeded but getent cannot find the user`);

  let removed = false;
  return {
    name: entry.name,
    uid: entry.uid,
    gid: entry.gid,
    async remove() {
      if (removed) return;
      removed = true;
      if (await lookupUser(userName)) {
        const d = await exec(await tool('userdel'), [userName]);
        if (d.code !== 0) {
          throw new Error(
            `userdel ${userName} failed (${describeResult(d)}). ` +
              (d.code === 8 ? `Processes of uid ${entry.uid} are still running; end them first.` : ''),
          );
        }
      }
      if (!hadGroup && (await groupExists(userName))) {
        const g = await exec(await tool('groupdel'), [userName]);
        if (g.code !== 0) throw new Error(`groupdel ${userName} failed (${describeResult(g)})`);
      }
    },
  };
}

// ---------------------------------------------------------------------------
// Authorization checks + rules
// ---------------------------------------------------------------------------

export type AuthorizationAnswer = 'authorized' | 'not-authorized' | 'challenge';

export interface AuthorizationCheck {
  answer: AuthorizationAnswer;
  /** For 'challenge': polkit would cache a successful authentication (auth_*_keep). */
  retainsAfterChallenge: boolean;
}

/**
 * Asks polkitd (through `pkcheck`, no prompt) what it would answer when pkexec
 * run by `user` asks for `actionId`. The subject is the same kind pkexec uses:
 * its parent process (here: this Node process) tagged with the user's uid.
 */
export async function checkAuthorization(user: string | number, actionId: string): Promise<AuthorizationCheck> {
  const entry = await lookupUser(user);
  if (!entry) throw new Error(`no such user: ${user}`);
  const self = await procState(process.pid);
  if (!self) throw new Error('cannot read /proc/self/stat');
  const r = await exec(
    await tool('pkcheck'),
    ['--action-id', actionId, '--process', `${process.pid},${self.startTime},${entry.uid}`],
    { env: { ...BUS_ENV, LANG: 'C.UTF-8' }, timeoutMs: 10_000 },
  );
  const retainsAfterChallenge = /retains_authorization_after_challenge=1/.test(r.stdout);
  switch (r.code) {
    case 0:
      return { answer: 'authorized', retainsAfterChallenge };
    case 1:
      return { answer: 'not-authorized', retainsAfterChallenge };
    case 2:
      return { answer: 'challenge', retainsAfterChallenge };
    default:
      throw new Error(
        `pkcheck for ${actionId} as ${entry.name} failed (${describeResult(r)}). ` +
          'Is polkit running (startPolkit()) and is the action installed (installPolicy())?',
      );
  }
}

/** polkit.Result values a rule can return. */
export type PolkitResult = 'YES' | 'NO' | 'AUTH_SELF' | 'AUTH_SELF_KEEP' | 'AUTH_ADMIN' | 'AUTH_ADMIN_KEEP';

function expectedCheck(result: PolkitResult): AuthorizationCheck {
  switch (result) {
    case 'YES':
      return { answer: 'authorized', retainsAfterChallenge: false };
    case 'NO':
      return { answer: 'not-authorized', retainsAfterChallenge: false };
    case 'AUTH_SELF':
    case 'AUTH_ADMIN':
      return { answer: 'challenge', retainsAfterChallenge: false };
    case 'AUTH_SELF_KEEP':
    case 'AUTH_ADMIN_KEEP':
      return { answer: 'challenge', retainsAfterChallenge: true };
  }
}

const sameCheck = (a: AuthorizationCheck, b: AuthorizationCheck): boolean =>
  a.answer === b.answer && (a.answer !== 'challenge' || a.retainsAfterChallenge === b.retainsAfterChallenge);

const ACTION_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface InstalledRule {
  readonly file: string;
  /** Deletes the rules file and waits until polkitd answers as it did before. Safe to call twice. */
  revoke(): Promise<void>;
}

/**
 * Writes /etc/polkit-1/rules.d/<priority>-archway-test-<user>-<action>.rules,
 * which returns polkit.Result.<result> for `actionId` when `subject.user === user`.
 * polkitd reloads the folder itself (inotify). We wait until pkcheck shows the
 * new answer. If the answer does not change (e.g. AUTH_ADMIN when the default
 * is already auth_admin), we cannot see the reload, so we just wait `settleMs`.
 */
export async function addRule(opts: {
  user: string;
  actionId: string;
  result: PolkitResult;
  /** File name prefix; polkitd runs rules files in lexical order. Default "10". */
  priority?: string;
  settleMs?: number;
}): Promise<InstalledRule> {
  await checkPrerequisites();
  const { user, actionId, result } = opts;
  const priority = opts.priority ?? '10';
  if (!USER_NAME_RE.test(user)) throw new Error(`invalid user name ${JSON.stringify(user)}`);
  if (!ACTION_ID_RE.test(actionId)) throw new Error(`invalid action id ${JSON.stringify(actionId)}`);
  if (!/^[0-9]{1,3}$/.test(priority)) throw new Error(`priority must be 1-3 digits, got ${JSON.stringify(priority)}`);
  if (!(await exists(POLKIT_RULES_DIR))) {
    throw new Error(`${POLKIT_RULES_DIR} does not exist. Install polkit with: apt-get install -y polkitd`);
  }
  if (!(await polkitIsRunning())) throw new Error('polkitd is not running; call startPolkit() first');

  const file = path.join(POLKIT_RULES_DIR, `${priority}-archway-test-${user}-${actionId}.rules`);
  if (await exists(file)) throw new Error(`${file} already exists; refusing to overwrite it`);

  const before = await checkAuthorization(user, actionId);
  const want = expectedCheck(result);
  const source =
    `// Written by Archway's polkit test harness (test/polkit/polkit.ts); safe to delete.\n` +
    `polkit.addRule(function (action, subject) {\n` +
    `  if (action.id === ${JSON.stringify(actionId)} && subject.user === ${JSON.stringify(user)}) {\n` +
    `    return polkit.Result.${result};\n` +
    `  }\n` +
    `});\n`;
  // The temp name does not end in ".rules", so polkitd ignores it until the rename.
  await writeFileAtomic(file, source, { mode: 0o644, uid: 0, gid: 0 });

  const settle = async (target: AuthorizationCheck, what: string): Promise<void> => {
    if (sameCheck(before, want)) {
      await sleep(opts.settleMs ?? 500);
      return;
    }
    await waitFor(what, async () => (sameCheck(await checkAuthorization(user, actionId), target) ? true : undefined));
  };

  try {
    await settle(want, `polkitd to pick up ${file} (pkcheck for ${user} to say ${want.answer})`);
  } catch (err) {
    await fs.rm(file, { force: true });
    throw err;
  }

  let revoked = false;
  return {
    file,
    async revoke() {
      if (revoked) return;
      revoked = true;
      await fs.rm(file, { force: true });
      if (await polkitIsRunning()) {
        await settle(before, `polkitd to drop ${file} (pkcheck for ${user} to say ${before.answer} again)`);
      }
    },
  };
}

/** Lets `user` run `actionId` without authentication (a rule returning polkit.Result.YES). */
export async function grantRule(user: string, actionId: string): Promise<{ readonly file: string; revoke(): Promise<void> }> {
  return addRule({ user, actionId, result: 'YES' });
}

// ---------------------------------------------------------------------------
// Running programs as a user
// ---------------------------------------------------------------------------

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

/**
 * Runs `argv` as `user` (real+effective uid/gid and supplementary groups, via
 * `setpriv --reuid --regid --init-groups`), with `input` on stdin.
 * The child gets:
 *   - a fresh session with no controlling terminal (pkexec can never prompt
 *     on the developer's tty);
 *   - a small clean environment (PATH, HOME, USER, LOGNAME, LANG=C.UTF-8)
 *     plus `env`;
 *   - cwd "/".
 * On timeout (default 30 s) the whole process group is killed, and `code` is null.
 */
export async function runAsUser(
  user: string | number | { name: string },
  argv: string[],
  opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  if (argv.length === 0) throw new Error('runAsUser: argv must not be empty');
  const key = typeof user === 'object' ? user.name : user;
  const entry = await lookupUser(key);
  if (!entry) throw new Error(`runAsUser: no such user ${key}`);
  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: entry.home,
    USER: entry.name,
    LOGNAME: entry.name,
    LANG: 'C.UTF-8',
    ...opts.env,
  };
  const r = await exec(
    await tool('setpriv'),
    ['--reuid', String(entry.uid), '--regid', String(entry.gid), '--init-groups', '--', ...argv],
    { input: opts.input, env, cwd: '/', timeoutMs: opts.timeoutMs ?? 30_000, newSession: true },
  );
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, signal: r.signal, timedOut: r.timedOut };
}
