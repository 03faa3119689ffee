/**
 * The CLI's Docker-side commands, loaded only when used:
 *  - `archway emulators fetch <arch…|all> [--image REPO:TAG@sha256:…]`: copy static QEMU emulators
 *    out of a pinned tonistiigi/binfmt image through the engine and install them, with provenance,
 *    into Archway's root-owned store (one helper run for the batch);
 *  - `--backend engine` for install/uninstall/enable/disable: for someone with the Docker socket but
 *    no sudo, the same validated register strings written through a privileged container.
 */
import type { Intent } from '../../shared/actions';
import { connect, describeContainerEngine, type Connection } from '../container/endpoint';
import { ContainerEngineError } from '../container/errors';
import { prepareEmulatorFetch } from '../container/fetch';
import { BINFMT_IMAGE, parseImageRef, PinError, pullRoute, type PinnedImage } from '../container/pins';
import { controlThroughContainerEngine, registerThroughContainerEngine, type RegistrarImage } from '../container/register';
import type { Engine } from '../engine';
import { EXIT, exitForErrorCode } from './exit-codes';
import type { Io } from './main';
import type { Out } from './respond';

/** `--image`: REPO:TAG@sha256:… or MIRROR/REPO@sha256:… → a pin (pins.ts parseImageRef decides). */
export function parsePin(ref: string): PinnedImage {
  try {
    return parseImageRef(ref);
  } catch (err) {
    if (err instanceof PinError) throw new ContainerEngineError('invalid-request', err.message);
    throw err;
  }
}

/**
 * Run `work` on a fresh connection, closed when it is done. An engine that cannot be reached (or
 * speaks no API version Archway can use) is EXIT.unavailable, as in `archway probe`.
 */
async function withConnection(io: Io, json: boolean, work: (conn: Connection) => Promise<number>): Promise<number> {
  let conn: Connection;
  try {
    conn = await connect();
  } catch (err) {
    if (!(err instanceof ContainerEngineError)) throw err;
    if (json) io.stdout(`${JSON.stringify({ ok: false, error: err.toJSON() })}\n`);
    io.stderr(`archway: ${err.message}${err.hint ? `\n  → ${err.hint}` : ''}\n`);
    return EXIT.unavailable;
  }
  try {
    io.stderr(`engine: ${describeContainerEngine(conn.info)}\n`);
    return await work(conn);
  } finally {
    conn.close();
  }
}

export async function fetchEmulators(args: string[], opts: { image?: string; json: boolean; dryRun?: boolean }, io: Out, engine: Engine): Promise<number> {
  return withConnection(io, opts.json, (conn) => fetchWith(conn, args, opts, io, engine));
}

async function fetchWith(conn: Connection, args: string[], opts: { image?: string; json: boolean; dryRun?: boolean }, io: Out, engine: Engine): Promise<number> {
  const pin = opts.image ? parsePin(opts.image) : BINFMT_IMAGE;
  if (!opts.json) io.stderr(`${pullRoute(pin, conn.info.registryMirrors).words}\n`);
  let lastPercent = -1;
  const prepared = await prepareEmulatorFetch(conn, {
    archs: args,
    image: pin,
    onEvent: (e) => {
      if (opts.json) return;
      if (e.type === 'pull' && Math.floor(e.progress.percent / 10) !== lastPercent) {
        lastPercent = Math.floor(e.progress.percent / 10);
        io.stderr(`pulling ${e.image}: ${Math.round(e.progress.percent)}%\n`);
      } else if (e.type === 'extracted') io.stderr(`extracted qemu-${e.cpu} (${e.size} bytes${e.qemuVersion ? `, reported QEMU ${e.qemuVersion}` : ''}; not run)\n`);
    },
  });
  try {
    const { storeExtracted } = await import('./emulators');
    return await storeExtracted(engine, prepared.request, prepared.emulators, { json: opts.json, ...(opts.dryRun ? { dryRun: true } : {}) }, io);
  } finally {
    await prepared.dispose();
  }
}

/**
 * Apply an intent through the engine instead of the helper. The helper's own dry run validates it
 * first (the same checks, the same register strings); the engine then writes exactly those strings.
 * Without root on the host Archway keeps no ownership record and writes no boot-time file.
 */
export async function applyThroughContainerEngine(intent: Intent, opts: { registrar?: string; json: boolean }, io: Io, engine: Engine): Promise<number> {
  if (intent.persist || intent.action === 'persist-on' || intent.action === 'persist-off' || intent.action === 'mount') {
    throw new ContainerEngineError(
      'invalid-request',
      `--backend engine cannot ${intent.action === 'mount' ? 'mount binfmt_misc' : 'keep handlers after reboot'}: that writes files on the host as root`,
      'Use the helper (the default backend), which asks for administrator rights.',
    );
  }
  const plan = await engine.plan(intent);
  if (!plan.request || !plan.preview) {
    io.stdout('Nothing to do.\n');
    return EXIT.ok;
  }
  if (!plan.preview.ok) {
    for (const r of plan.preview.results) io.stderr(`✗ ${r.message}${r.error?.hint ? `\n  → ${r.error.hint}` : ''}\n`);
    io.stderr('Nothing was changed.\n');
    return exitForErrorCode(plan.preview.error?.code ?? plan.preview.results.find((r) => r.error)?.error?.code, EXIT.usage);
  }
  return withConnection(io, opts.json, (conn) => changeWith(conn, intent, plan.preview!, opts, io));
}

async function changeWith(conn: Connection, intent: Intent, preview: NonNullable<Awaited<ReturnType<Engine['plan']>>['preview']>, opts: { registrar?: string; json: boolean }, io: Io): Promise<number> {
  const registrar: RegistrarImage | undefined = opts.registrar ? { image: { ref: opts.registrar, platform: `linux/${conn.info.arch}` } } : undefined;
  const session = registrar ? { registrar } : {};
  const lines: { ok: boolean; message: string }[] = [];
  if (intent.action === 'install') {
    const rules = preview.results.filter((r) => r.op === 'install' && r.register).map((r) => ({ register: r.register! }));
    const out = await registerThroughContainerEngine(conn, rules, { ...session, replace: intent.takeOver === true });
    for (const o of out) lines.push({ ok: true, message: `${o.message} (through ${conn.info.name})` });
  } else {
    const names = preview.results.filter((r) => r.changed && r.name).map((r) => r.name!);
    const value = intent.action === 'uninstall' ? '-1' : intent.action === 'enable' ? '1' : '0';
    for (const o of await controlThroughContainerEngine(conn, names, value, session)) {
      lines.push({ ok: true, message: `${o.message} (through ${conn.info.name})` });
    }
  }
  if (opts.json) io.stdout(`${JSON.stringify({ ok: true, backend: 'engine', engine: conn.info.endpoint, results: lines })}\n`);
  else for (const l of lines) io.stdout(`${l.ok ? '✓' : '✗'} ${l.message}\n`);
  return EXIT.ok;
}
