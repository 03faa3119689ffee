/**
 * Run the privileged helper: directly when we are root already, otherwise through pkexec with
 * Archway's polkit action (the policy's exec.path names the installed helper). argv arrays only.
 */
import { spawn } from 'node:child_process';
import { requestArgv } from '../../shared/request-argv';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { ArchwayError, HelperResponseSchema, type HelperRequest, type HelperResponse } from '../../shared/helper-protocol';

/** Where packages install the helper; the polkit policy's exec.path names exactly this file. */
export const INSTALLED_HELPER = '/usr/lib/archway/archway-helper';
export const POLKIT_ACTION = 'dev.archway.helper.run';

import { elevationMode, type ElevationMode } from './elevation-mode';
export type { ElevationMode };

export interface ElevateOptions {
  mode?: ElevationMode;
  /** The helper program for direct mode (default: the built bundle next to this code, else the installed one). */
  helperPath?: string;
  /** The program pkexec runs (default INSTALLED_HELPER). */
  pkexecHelper?: string;
  /** Extra environment for direct mode (tests: ARCHWAY_ROOT, ARCHWAY_BINFMT). pkexec drops it anyway. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** The helper bundle built next to the running code (dist/helper/archway-helper.mjs). */
export function bundledHelper(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, '../helper/archway-helper.mjs'), // dist/cli -> dist/helper
    join(here, '../../helper/archway-helper.mjs'), // dist/cli/chunks -> dist/helper
    join(here, '../../dist/helper/archway-helper.mjs'), // out/main or electron/engine -> dist/helper
    join(here, '../../../dist/helper/archway-helper.mjs'),
  ];
  return candidates.find((c) => existsSync(c));
}

export { elevationMode };

function helperArgv(opts: ElevateOptions, request: HelperRequest): { argv: string[]; env: NodeJS.ProcessEnv } {
  const mode = elevationMode(opts);
  if (mode === 'direct') {
    const helper = opts.helperPath ?? bundledHelper() ?? INSTALLED_HELPER;
    if (!existsSync(helper)) {
      throw new ArchwayError('helper-missing', `the privileged helper is missing (${helper})`, 'Build it with `npm run build`, or install the Archway package.');
    }
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
    // A packaged install's helper is a launcher program of its own: run it as it is.
    if (!/\.(m?js|cjs)$/.test(helper)) return { argv: [helper], env };
    // A bundle runs with this same runtime (Electron acts as plain Node with ELECTRON_RUN_AS_NODE).
    if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
    return { argv: [process.execPath, helper], env };
  }
  const helper = opts.pkexecHelper ?? INSTALLED_HELPER;
  if (!existsSync(helper)) {
    throw new ArchwayError(
      'helper-missing',
      `the privileged helper is not installed at ${helper}`,
      'Install Archway\'s package (it ships the helper and its polkit policy), run `sudo npm run install-helper` from a source checkout, or run the command with sudo.',
    );
  }
  const pkexec = ['/usr/bin/pkexec', '/bin/pkexec'].find((p) => existsSync(p));
  if (!pkexec) {
    throw new ArchwayError('helper-missing', 'pkexec is not installed', 'Install polkit (Debian/Ubuntu: apt-get install pkexec), or run the command with sudo.');
  }
  // The request in words after the helper's path: pkexec hands this command line to polkitd, whose
  // prompt shows it (the policy's message says $(command_line)); the helper refuses a request on
  // stdin that these words do not name.
  return { argv: [pkexec, '--disable-internal-agent', helper, ...requestArgv(request)], env: process.env };
}

export interface HelperRun {
  response: HelperResponse;
  exitCode: number | null;
  stderr: string;
}

export async function runHelper(request: HelperRequest, opts: ElevateOptions = {}): Promise<HelperRun> {
  const mode = elevationMode(opts);
  const { argv, env } = helperArgv(opts, request);
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    if (stdout.length < 4 * 1024 * 1024) stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 64 * 1024) stderr += d;
  });
  child.stdin.on('error', () => {
    /* the helper may exit before reading (refused); its answer says why */
  });
  child.stdin.end(JSON.stringify(request));
  const timeout = opts.timeoutMs ?? 5 * 60_000;
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new ArchwayError('helper-failed', `the helper did not answer within ${Math.round(timeout / 1000)} s`));
    }, timeout);
    child.on('error', (err) => {
      clearTimeout(t);
      reject(new ArchwayError('helper-failed', `could not start ${argv[0]}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
  const line = stdout.trim().split('\n').pop() ?? '';
  if (line) {
    try {
      return { response: HelperResponseSchema.parse(JSON.parse(line)), exitCode, stderr };
    } catch {
      /* fall through to the exit-code diagnosis */
    }
  }
  if (mode === 'pkexec' && (exitCode === 126 || exitCode === 127)) {
    throw new ArchwayError(
      'not-authorized',
      exitCode === 126 ? 'authentication was dismissed; nothing was changed' : `not authorized to run the Archway helper; nothing was changed${stderr.trim() ? ` (${stderr.trim().split('\n')[0]})` : ''}`,
      'An administrator must authenticate, or a polkit rule must grant dev.archway.helper.run. From a shell, sudo works too.',
    );
  }
  throw new ArchwayError('helper-failed', `the helper exited with code ${exitCode} without an answer${stderr.trim() ? `: ${stderr.trim().slice(0, 500)}` : ''}`);
}
