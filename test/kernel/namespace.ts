/**
 * A private binfmt_misc instance for hermetic kernel tests (Linux ≥ 6.7): a user namespace (root
 * mapped to root) with its own mount namespace and a fresh binfmt_misc mount. Commands run inside
 * it with nsenter, as argv arrays. Handlers registered here affect only processes in this
 * namespace; the host's table is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface PrivateBinfmt {
  pid: number;
  run(argv: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult>;
  /** Every entry's text, keyed by name, plus the status file: compare before/after. */
  snapshot(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export function runArgv(argv: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * `ids`: how many uids and gids the namespace maps (0..ids-1 to the host's 0..ids-1). The default
 * maps root alone; more ids let a test run a truly unprivileged user (e.g. uid 1000, through
 * setpriv) inside the private instance. The map is written from here (root in the initial
 * namespace may map any range; newuidmap would refuse ranges /etc/subuid does not grant).
 */
export async function privateBinfmt(opts: { ids?: number } = {}): Promise<PrivateBinfmt> {
  if (process.getuid?.() !== 0) throw new Error('kernel tests need root (they create user namespaces and mount binfmt_misc)');
  const ids = opts.ids ?? 1;
  const holder: ChildProcess = spawn(
    'unshare',
    ids > 1 ? ['--user', '--mount', '--propagation', 'private', 'sleep', 'infinity'] : ['--user', '--map-root-user', '--mount', '--propagation', 'private', 'sleep', 'infinity'],
    { stdio: 'ignore' },
  );
  const pid = holder.pid!;
  // Wait until the namespace exists (the child has exec'd sleep inside it).
  for (let i = 0; i < 200; i++) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.startsWith('sleep')) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  if (ids > 1) {
    writeFileSync(`/proc/${pid}/uid_map`, `0 0 ${ids}\n`);
    writeFileSync(`/proc/${pid}/gid_map`, `0 0 ${ids}\n`);
  }
  const enter = (argv: string[]) => ['nsenter', '-t', String(pid), '-U', '-m', '--', ...argv];
  const mount = await runArgv(enter(['mount', '-t', 'binfmt_misc', 'binfmt_misc', '/proc/sys/fs/binfmt_misc']));
  if (mount.code !== 0) {
    holder.kill('SIGKILL');
    throw new Error(
      `cannot mount a private binfmt_misc (needs Linux ≥ 6.7): ${mount.stderr.trim()}`,
    );
  }
  const api: PrivateBinfmt = {
    pid,
    run: (argv, opts = {}) => runArgv(enter(argv), opts),
    snapshot: async () => {
      const r = await runArgv(enter([process.execPath, '-e', SNAPSHOT_SCRIPT]));
      if (r.code !== 0) throw new Error(`snapshot failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as Record<string, string>;
    },
    close: async () => {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    },
  };
  return api;
}

const SNAPSHOT_SCRIPT = `
const fs = require('fs'); const d = '/proc/sys/fs/binfmt_misc'; const out = {};
for (const n of fs.readdirSync(d).sort()) if (n !== 'register') out[n] = fs.readFileSync(d + '/' + n, 'utf8');
process.stdout.write(JSON.stringify(out));
`;

export function requireBuilt(root: string): void {
  for (const f of ['dist/cli/archway.mjs', 'dist/helper/archway-helper.mjs']) {
    if (!existsSync(`${root}/${f}`)) throw new Error(`${f} is missing: run \`npm run build\` (npm test does it for you)`);
  }
}

/**
 * execv() a program inside the namespace — no PATH search and no shell fallback (execvp, nsenter
 * and Node's child_process hand an ENOEXEC file to /bin/sh, which hides the kernel's answer).
 * Resolves to the exec's errno name ('ENOEXEC' when no enabled handler matches), or the program's
 * own result when it ran.
 */
export async function execDirect(ns: PrivateBinfmt, argv: string[]): Promise<{ errno?: string } & RunResult> {
  const py = 'import errno, os, sys\ntry:\n    os.execv(sys.argv[1], sys.argv[1:])\nexcept OSError as e:\n    print("EXEC-FAILED " + errno.errorcode.get(e.errno, str(e.errno)))\n    sys.exit(127)\n';
  const r = await ns.run(['/usr/bin/python3', '-c', py, ...argv]);
  const m = /^EXEC-FAILED (\S+)$/m.exec(r.stdout);
  return m ? { ...r, errno: m[1] } : r;
}

/** The kernel refused to execute the program: ENOEXEC ("exec format error"), not a crash under QEMU, not a missing file. */
export async function expectExecFormatError(ns: PrivateBinfmt, argv: string[]): Promise<void> {
  const r = await execDirect(ns, argv);
  expect(r.errno, `expected ENOEXEC; exit ${r.code}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`).toBe('ENOEXEC');
}
