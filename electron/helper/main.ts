/**
 * archway-helper: the only part of Archway that runs as root. One JSON request on stdin, one JSON
 * response on stdout, exit 0 (all done), 1 (some operation failed), 2 (request refused, nothing
 * changed). It runs no shell and no program except mount(8) by absolute path.
 *
 * Under pkexec the environment is not trusted: ARCHWAY_ROOT / ARCHWAY_BINFMT / ARCHWAY_TEST_KILL_AT
 * are honoured only when the caller is already root (no PKEXEC_UID).
 */
import { ArchwayError, MAX_REQUEST_BYTES, PROTOCOL_VERSION, type HelperResponse } from '../../shared/helper-protocol';
import { pathsFromEnv } from '../engine/paths';
import { serveRequest } from './serve';
import { parseRequest } from './ops';
import { argvMatches, requestArgv } from '../../shared/request-argv';

async function readStdin(limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) throw new ArchwayError('bad-request', `request is larger than ${MAX_REQUEST_BYTES} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function respond(res: HelperResponse, code: number): never {
  process.stdout.write(`${JSON.stringify(res)}\n`);
  process.exit(code);
}

function refuse(err: unknown): never {
  const e = err instanceof ArchwayError ? err : new ArchwayError('helper-failed', (err as Error)?.message ?? String(err));
  respond({ version: PROTOCOL_VERSION, ok: false, dryRun: false, results: [], error: e.toJSON() }, 2);
}

async function main(): Promise<void> {
  process.umask(0o022);
  const underPkexec = process.env.PKEXEC_UID !== undefined;
  if (typeof process.geteuid === 'function' && process.geteuid() !== 0) {
    refuse(
      new ArchwayError('not-root', 'archway-helper must run as root; it changes the kernel\'s binfmt_misc table', 'Archway starts it through pkexec; from a shell use sudo.'),
    );
  }
  // PKEXEC_UID must be a plain decimal uid: Number() would read '' as 0 (root), ' 7' as 7, '0x10' as 16.
  const rawUid = process.env.PKEXEC_UID ?? '';
  if (underPkexec && (!/^\d{1,10}$/.test(rawUid) || Number(rawUid) > 0xfffffffe)) refuse(new ArchwayError('bad-request', `PKEXEC_UID ${JSON.stringify(rawUid.slice(0, 20))} is not a uid`));
  const callerUid = underPkexec ? Number(rawUid) : (process.getuid?.() ?? 0);
  let input: string;
  try {
    input = await readStdin(MAX_REQUEST_BYTES);
  } catch (err) {
    refuse(err);
  }
  // The words after the helper's path are what the password prompt showed (elevate.ts puts them
  // there, pkexec passes them to polkitd as $(command_line)): they must name this very request.
  const shown = process.argv.slice(2);
  if (shown.length > 0) {
    let req;
    try {
      req = parseRequest(input);
    } catch (err) {
      refuse(err);
    }
    if (!argvMatches(shown, req)) {
      refuse(new ArchwayError('bad-request', `the request on stdin (${requestArgv(req).join(' ')}) is not the one the command line named (${shown.join(' ').slice(0, 300)}); nothing was changed`));
    }
  }
  const trustEnv = !underPkexec;
  const served = await serveRequest(input, {
    paths: pathsFromEnv(process.env, trustEnv),
    callerUid,
    ...(trustEnv && process.env.ARCHWAY_TEST_KILL_AT ? { killAt: process.env.ARCHWAY_TEST_KILL_AT } : {}),
  });
  respond(served.response, served.exitCode);
}

main().catch(refuse);
