/**
 * `archway watch` against the real kernel, in a private binfmt_misc instance: the real CLI bundle
 * prints the handler events (appeared, then vanished when the entry is removed as a flush removes
 * it) and, with --fail-on-vanish, exits non-zero within one poll interval; SIGTERM and a closed
 * stdout end it promptly with nothing left running.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO_ROOT } from '../fixtures/foreign';
import { privateBinfmt, requireBuilt, type PrivateBinfmt } from './namespace';

const CLI = join(REPO_ROOT, 'dist/cli/archway.mjs');

let ns: PrivateBinfmt;
let root: string;

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  ns = await privateBinfmt();
  root = mkdtempSync(join(tmpdir(), 'archway-root-'));
});

// A failing test must not leave a watcher running.
const started = new Set<ChildProcessWithoutNullStreams>();
afterEach(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  started.clear();
});

afterAll(async () => {
  await ns?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const env = () => ({ ...process.env, ARCHWAY_ROOT: root });
const archway = (args: string[]) => ns.run([process.execPath, CLI, ...args], { env: env() });
const removeEntry = (name: string) => ns.run(['/bin/sh', '-c', `echo -1 > /proc/sys/fs/binfmt_misc/${name}`]);

interface Watcher {
  child: ChildProcessWithoutNullStreams;
  lines: Record<string, unknown>[];
  stderr: () => string;
  /** Resolves when stdout has a line matching `pred` (rejects after `ms`). */
  line(pred: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit (rejects after `ms`). */
  exited(ms?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Starts `archway watch ARGS` inside the namespace and resolves once it has taken its baseline reading. */
async function startWatch(args: string[]): Promise<Watcher> {
  const child = spawn('nsenter', ['-t', String(ns.pid), '-U', '-m', '--', process.execPath, CLI, 'watch', ...args], { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
  started.add(child);
  const lines: Record<string, unknown>[] = [];
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = () => waiters.forEach((w) => w());
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(out.slice(0, i)) as Record<string, unknown>);
      out = out.slice(i + 1);
    }
    poke();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    poke();
  });
  let exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  child.on('exit', (code, signal) => {
    exit = { code, signal, at: Date.now() };
    poke();
  });
  const until = <T>(get: () => T | undefined, ms: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const v = get();
        if (v !== undefined) {
          done();
          resolve(v);
        }
      };
      const t = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; stdout lines ${JSON.stringify(lines)}, stderr ${JSON.stringify(err)}`));
      }, ms);
      const done = () => {
        clearTimeout(t);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const w: Watcher = {
    child,
    lines,
    stderr: () => err,
    line: (pred, ms = 15_000) => until(() => lines.find(pred), ms, 'a JSON line'),
    exited: (ms = 15_000) => until(() => exit, ms, 'the exit'),
  };
  await until(() => (/archway watch: watching/.test(err) ? true : exit ? true : undefined), 15_000, 'the baseline reading');
  expect(exit, err).toBeUndefined();
  return w;
}

describe('archway watch against a private binfmt_misc', () => {
  it('--fail-on-vanish: appeared, then vanished when the entry is removed; exits 1 within about one interval', async () => {
    const w = await startWatch(['--fail-on-vanish', '--interval', '1']);
    const r = await archway(['install', 'arm64']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const appeared = await w.line((l) => l.event === 'appeared');
    expect(appeared).toMatchObject({ event: 'appeared', name: 'qemu-aarch64', arch: 'aarch64', owner: 'archway', enabled: true, notable: false });
    expect(Object.keys(appeared).slice(0, 4)).toEqual(['time', 'event', 'name', 'arch']);
    expect(Number.isNaN(Date.parse(appeared.time as string))).toBe(false);
    expect(w.child.exitCode).toBeNull();

    const removedAt = Date.now();
    expect((await removeEntry('qemu-aarch64')).code).toBe(0);
    const exit = await w.exited();
    const elapsed = exit.at - removedAt;
    expect(exit.code, w.stderr()).toBe(1);
    expect(w.lines.map((l) => [l.event, l.name])).toEqual([
      ['appeared', 'qemu-aarch64'],
      ['vanished', 'qemu-aarch64'],
    ]);
    // notable: what the desktop app notifies about (shared/notifications.ts, the same decision).
    expect(w.lines[1]).toMatchObject({ arch: 'aarch64', persist: false, register: expect.stringContaining(':qemu-aarch64:M:'), notable: true });
    // One interval (1 s) plus one reading and the process's exit; generous for a shared 2-core machine.
    console.log(`watch: exit ${elapsed} ms after the entry was removed (interval 1000 ms)`);
    expect(elapsed).toBeLessThan(2_500);
  });

  it('SIGTERM ends it at once with exit 0 (no timer left running, even with a one-hour interval)', async () => {
    const w = await startWatch(['--interval', '3600']);
    const sentAt = Date.now();
    w.child.kill('SIGTERM');
    const exit = await w.exited(10_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - sentAt).toBeLessThan(2_000);
  });

  it('a closed stdout (EPIPE) ends it at the next event with exit 0', async () => {
    const w = await startWatch(['--interval', '0.5']);
    w.child.stdout.destroy();
    const r = await archway(['install', 's390x']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const exit = await w.exited(10_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
  });
});
