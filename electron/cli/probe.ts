/**
 * `archway probe --platform P[,P…] --image IMAGE [--json] [--timeout S] [--concurrency N]
 *  [--pull missing|always|never] [-- CMD…]` — prove, per platform, that an image really runs.
 * Exit 0 only when every probe is ok; 1 when some is not; 2 on usage errors; 3 when the engine
 * cannot be used at all.
 */
import { platformRecord, PlatformError, type ProbeEvent, type ProbeResult } from '../../shared/probe';
import { connect, describeContainerEngine, type Connection } from '../container/endpoint';
import { ContainerEngineError } from '../container/errors';
import { defaultImageCacheFile, fileImageCache, type PullPolicy } from '../container/images';
import { probeMatrix } from '../container/probe';
import { reapLeftovers } from '../container/reap';
import { EXIT } from './exit-codes';
import { ArgsUsageError as UsageError, checkPlatformArg, pullPolicy, walkArgs } from './own-args';

export interface ProbeIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Cancels the run (Ctrl-C). When absent, SIGINT is handled here. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Use this connection instead of connecting (tests, the desktop app). */
  connection?: Connection;
}

export const PROBE_USAGE = `Usage: archway probe --platform P[,P…] --image IMAGE [options] [-- CMD…]

Runs CMD (default: uname -m) in a container of each platform and says whether it really ran there.
  --platform P[,P…]   linux/arm64, linux/arm/v7, s390x… (repeatable)
  --image IMAGE       the image to test; its platforms are listed first
  --timeout S         seconds each container may run (default 60)
  --concurrency N     probes at once (default: number of platforms, at most 8)
  --pull POLICY       missing (default), always, never
  --json              print one JSON document with every result
Exit status: 0 when every probe is ok, 1 otherwise, 2 for usage errors, 3 when the engine is unusable.
`;

interface Args {
  platforms: string[];
  image: string;
  json: boolean;
  timeoutMs?: number;
  concurrency?: number;
  pull: PullPolicy;
  command?: string[];
  help: boolean;
}

export function parseProbeArgs(argv: readonly string[]): Args {
  const a: Args = { platforms: [], image: '', json: false, pull: 'missing', help: false };
  const rest = walkArgs(argv, (flag, take, word) => {
    switch (flag) {
      case '--platform':
      case '--platforms':
        a.platforms.push(...take().split(',').map((s) => s.trim()).filter(Boolean));
        break;
      case '--image':
        a.image = take();
        break;
      case '--json':
        a.json = true;
        break;
      case '--timeout': {
        const s = Number(take());
        if (!Number.isFinite(s) || s <= 0 || s > 24 * 3600) throw new UsageError('--timeout takes seconds, e.g. --timeout 30');
        a.timeoutMs = Math.round(s * 1000);
        break;
      }
      case '--concurrency': {
        const n = Number(take());
        if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError('--concurrency takes a whole number from 1 to 64');
        a.concurrency = n;
        break;
      }
      case '--pull':
        a.pull = pullPolicy(take());
        break;
      case '-h':
      case '--help':
        a.help = true;
        break;
      default:
        throw new UsageError(`unknown option "${word}" (a command to run goes after --)`);
    }
  });
  if (rest) a.command = rest;
  if (a.help) return a;
  if (!a.image) throw new UsageError('--image is required');
  if (a.platforms.length === 0) throw new UsageError('--platform is required, e.g. --platform linux/arm64,linux/s390x');
  for (const p of a.platforms) checkPlatformArg(p);
  if (a.command && a.command.length === 0) throw new UsageError('nothing after --: give a command or leave -- out');
  return a;
}

function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s + ' '.repeat(n - s.length);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

export function formatTable(results: readonly ProbeResult[]): string {
  const rows = results.map((r) => [r.platform, r.status, r.observed ?? (r.exitCode !== null ? `exit ${r.exitCode}` : '—'), seconds(r.durationMs), r.fix ?? '']);
  const head = ['PLATFORM', 'STATUS', 'RESULT', 'TIME', 'FIX'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)) + 1);
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]!))).join(' ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

function liveLine(e: ProbeEvent, w: number, lastPull: Map<string, number>): string | undefined {
  switch (e.type) {
    case 'platforms':
      return e.platforms.length > 0
        ? `${e.image} offers ${e.platforms.join(', ')}${e.source === 'local' ? ' (local copy; the registry did not answer)' : ''}`
        : `${e.image}: the registry lists no platforms for it`;
    case 'pull': {
      const p = e.progress;
      if (p.layersTotal === 0) return undefined; // nothing to download: the engine has every layer
      const step = Math.floor(p.percent / 25);
      if (lastPull.get(e.platform) === step && p.percent < 100) return undefined;
      lastPull.set(e.platform, step);
      const mb = p.bytesTotal > 0 ? `, ${(p.bytesDone / 1e6).toFixed(1)}/${(p.bytesTotal / 1e6).toFixed(1)} MB` : '';
      return `${pad(e.platform, w)} pulling ${Math.round(p.percent)}% (${p.layersDone}/${p.layersTotal} layers${mb})`;
    }
    case 'output': {
      const lines = e.text.replace(/\n$/, '').split('\n');
      return lines.map((l) => `${pad(e.platform, w)} ${e.stream === 'stderr' ? '!' : '|'} ${l}`).join('\n');
    }
    case 'output-limited':
      return `${pad(e.platform, w)} … (${e.stream} continues; only its last bytes are kept)`;
    case 'result': {
      const r = e.result;
      return `${pad(r.platform, w)} ${r.status === 'ok' ? '✓' : '✗'} ${r.status}: ${r.message.replace(`${r.platform}: `, '')}${r.fix ? `\n${' '.repeat(w + 1)}  → ${r.fix}` : ''}`;
    }
    default:
      return undefined;
  }
}

/** Implements `archway probe …`; returns the exit code. */
export async function runProbeCommand(argv: string[], io: ProbeIo): Promise<number> {
  let args: Args;
  try {
    args = parseProbeArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`archway probe: ${err.message}\n\n${PROBE_USAGE}`);
      return EXIT.usage;
    }
    throw err;
  }
  if (args.help) {
    io.stdout(PROBE_USAGE);
    return EXIT.ok;
  }

  const ac = new AbortController();
  const onSigint = () => ac.abort();
  if (io.signal) {
    if (io.signal.aborted) ac.abort();
    else io.signal.addEventListener('abort', onSigint, { once: true });
  } else {
    process.once('SIGINT', onSigint);
  }
  // A connection this command opened is closed when it returns: no idle socket outlives the work.
  let opened: Connection | undefined;
  try {
    let conn: Connection;
    try {
      conn = io.connection ?? (opened = await connect({ ...(io.env ? { env: io.env } : {}), signal: ac.signal }));
    } catch (err) {
      if (err instanceof ContainerEngineError) {
        if (args.json) io.stdout(`${JSON.stringify({ ok: false, error: err.toJSON() })}\n`);
        io.stderr(`archway probe: ${err.message}${err.hint ? `\n  → ${err.hint}` : ''}\n`);
        return EXIT.unavailable;
      }
      throw err;
    }
    if (!args.json) io.stdout(`Engine: ${describeContainerEngine(conn.info)}\n`);
    const reaped = await reapLeftovers(conn, { signal: ac.signal }).catch(() => undefined);
    if (reaped && reaped.removed.length > 0 && !args.json) io.stdout(`Removed ${reaped.removed.length} leftover probe container(s) from an earlier run.\n`);

    const platforms = args.platforms.map((p) => platformRecord(p).platform);
    const w = Math.max(...platforms.map((p) => p.length)) + 1;
    const lastPull = new Map<string, number>();
    let offered: { platforms: string[]; source: string } | undefined;
    const results = await probeMatrix(
      {
        conn,
        image: args.image,
        platforms,
        pull: args.pull,
        imageCache: fileImageCache(defaultImageCacheFile(io.env ?? process.env)),
        ...(args.command ? { command: args.command } : {}),
        ...(args.timeoutMs !== undefined ? { timeoutMs: args.timeoutMs } : {}),
        ...(args.concurrency !== undefined ? { concurrency: args.concurrency } : {}),
      },
      (e) => {
        if (e.type === 'platforms') offered = { platforms: e.platforms, source: e.source };
        if (args.json) return;
        const line = liveLine(e, w, lastPull);
        if (line) io.stdout(`${line}\n`);
      },
      ac.signal,
    );
    const ok = results.every((r) => r.status === 'ok');
    if (args.json) {
      io.stdout(`${JSON.stringify({ ok, engine: conn.info, image: args.image, offered: offered ?? null, results }, null, 2)}\n`);
    } else {
      io.stdout(`\n${formatTable(results)}\n`);
      const bad = results.filter((r) => r.status !== 'ok').length;
      io.stdout(ok ? `All ${results.length} platform(s) ok.\n` : `${bad} of ${results.length} platform(s) not ok.\n`);
    }
    return ok ? EXIT.ok : EXIT.failed;
  } catch (err) {
    if (err instanceof PlatformError) {
      io.stderr(`archway probe: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof ContainerEngineError) {
      io.stderr(`archway probe: ${err.message}${err.hint ? `\n  → ${err.hint}` : ''}\n`);
      return EXIT.unavailable;
    }
    throw err;
  } finally {
    opened?.close();
    if (io.signal) io.signal.removeEventListener('abort', onSigint);
    else process.removeListener('SIGINT', onSigint);
  }
}

