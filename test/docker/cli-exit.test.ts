// Every CLI command ends as soon as its work is done: the gap between the last byte a command
// writes and the process's exit is measured for the commands that talk to the container engine
// (a pending timer, keep-alive socket or agent would show here as seconds). The CLI exits by itself
// once a command's work is done (electron/cli/archway.ts), which would hide such a leftover: these
// runs leave the end to Node (ARCHWAY_EXIT=natural), so what is measured is what is left behind.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../fixtures/foreign';
import type { DockerdHandle } from './dockerd';
import { dockerdWithNativeImage, X86_64_HOST } from './env';

const CLI = path.join(REPO_ROOT, 'dist/cli/archway.mjs');
const NATIVE = 'archway-test/exit:amd64';
/** Well under a second: what is left after the last output is process teardown only. */
const MAX_GAP_MS = 400;

interface Timed {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the last byte on stdout or stderr to the exit. */
  gapMs: number;
}

function runTimed(args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let last = performance.now();
    child.stdout.setEncoding('utf8').on('data', (d: string) => ((stdout += d), (last = performance.now())));
    child.stderr.setEncoding('utf8').on('data', (d: string) => ((stderr += d), (last = performance.now())));
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    // 'exit' (not 'close'): the moment the process ended, before its pipes are drained.
    child.on('exit', (code) => {
      const gapMs = performance.now() - last;
      clearTimeout(kill);
      child.on('close', () => resolve({ code, stdout, stderr, gapMs }));
    });
  });
}

describe.runIf(X86_64_HOST)('CLI processes end promptly after their last output', () => {
  let dockerd: DockerdHandle;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'archway-exit-'));
  const env = (): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, ARCHWAY_EXIT: 'natural', DOCKER_HOST: `unix://${dockerd.socket}`, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_CACHE_HOME: path.join(home, '.cache') };
    delete e.DOCKER_CONTEXT;
    delete e.DOCKER_API_VERSION;
    return e;
  };

  let dispose: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    expect(fs.existsSync(CLI), 'run `npm run build` first').toBe(true);
    ({ dockerd, dispose } = await dockerdWithNativeImage(NATIVE));
  });

  afterAll(async () => {
    await dispose?.();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('archway probe (one platform, a container really runs)', async () => {
    const r = await runTimed(['probe', '--platform', 'linux/amd64', '--image', NATIVE, '--pull', 'never'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/All 1 platform\(s\) ok/);
    expect(r.gapMs, `exit came ${Math.round(r.gapMs)} ms after the last output`).toBeLessThan(MAX_GAP_MS);
  });

  it('archway probe --json, and a probe that fails', async () => {
    const ok = await runTimed(['probe', '--platform', 'linux/amd64', '--image', NATIVE, '--pull', 'never', '--json'], env());
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.gapMs).toBeLessThan(MAX_GAP_MS);
    const failed = await runTimed(['probe', '--platform', 'linux/amd64', '--image', NATIVE, '--pull', 'never', '--', 'false'], env());
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.gapMs).toBeLessThan(MAX_GAP_MS);
  });

  it('archway engines, and a probe whose engine does not answer', async () => {
    const list = await runTimed(['engines'], env());
    expect(list.code, list.stderr).toBe(0);
    expect(list.gapMs).toBeLessThan(MAX_GAP_MS);
    const none = await runTimed(['probe', '--platform', 'linux/amd64', '--image', NATIVE], { ...env(), DOCKER_HOST: `unix://${path.join(home, 'no-engine.sock')}` });
    expect(none.code).toBe(3);
    expect(none.gapMs).toBeLessThan(MAX_GAP_MS);
  });
});
