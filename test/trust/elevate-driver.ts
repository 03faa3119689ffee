/**
 * Runs AS AN UNPRIVILEGED USER (bundled by pkexec.test.ts), to exercise the app's real elevation
 * code — runHelper() from electron/engine/elevate.ts, which starts `pkexec
 * --disable-internal-agent /usr/lib/archway/archway-helper` — the way the long-lived main process
 * does: several requests from one process.
 *
 *   node driver.mjs run '<json: HelperRequest[]>'
 *       runs each request in turn from this process; prints one JSON line of outcomes.
 *   node driver.mjs agent '<json: HelperRequest[]>' '<json: HelperRequest[]>'
 *       starts pkttyagent (polkit's text authentication agent) for THIS process, waits until it is
 *       registered, runs the first list from this process, then the second list from a NEW child
 *       process (another subject); prints one JSON line. Needs a controlling terminal for the
 *       agent's password prompt (the test runs it under script(1) and types the password).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runHelper } from '../../electron/engine/elevate';
import { ArchwayError, type HelperRequest } from '../../shared/helper-protocol';

export interface Outcome {
  ok: boolean;
  exitCode?: number | null;
  response?: unknown;
  error?: { code: string; message: string };
  pid: number;
}

async function runAll(requests: HelperRequest[]): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const r of requests) {
    try {
      const run = await runHelper(r, { mode: 'pkexec', timeoutMs: 60_000 });
      out.push({ ok: run.response.ok, exitCode: run.exitCode, response: run.response, pid: process.pid });
    } catch (err) {
      const e = err instanceof ArchwayError ? { code: err.code, message: err.message } : { code: 'exception', message: String(err) };
      out.push({ ok: false, error: e, pid: process.pid });
    }
  }
  return out;
}

async function startAgent(): Promise<() => void> {
  // --notify-fd: pkttyagent closes that fd once it is registered with polkitd for our pid.
  const agent = spawn('/usr/bin/pkttyagent', ['--process', String(process.pid), '--notify-fd', '3'], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] });
  const notify = agent.stdio[3]!;
  await new Promise<void>((resolve, reject) => {
    notify.on('data', () => undefined);
    notify.on('close', () => resolve());
    notify.on('end', () => resolve());
    agent.on('exit', (code) => reject(new Error(`pkttyagent exited (${code}) before it registered`)));
  });
  return () => agent.kill('SIGTERM');
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'run') {
  process.stdout.write(`${JSON.stringify(await runAll(JSON.parse(a!) as HelperRequest[]))}\n`);
} else if (mode === 'agent') {
  const stop = await startAgent();
  process.stdout.write('AGENT-READY\n');
  const mine = await runAll(JSON.parse(a!) as HelperRequest[]);
  // The same requests from another process: polkit's temporary authorization is for a subject.
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'run', b!], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  await new Promise((r) => child.on('close', r));
  stop();
  process.stdout.write(`RESULT ${JSON.stringify({ mine, other: JSON.parse(text.trim()) as Outcome[], otherPid: child.pid })}\n`);
} else {
  process.stderr.write('usage: driver.mjs run REQUESTS | agent REQUESTS REQUESTS\n');
  process.exit(2);
}
