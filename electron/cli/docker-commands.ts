/**
 * The CLI's Docker-side commands, loaded only when used:
 *  - `archway emulators fetch <arch…|all> [--image REPO:TAG@sha256:…]`: copy static QEMU emulators
 *    out of a pinned tonistiigi/binfmt image through the engine and install them, with provenance,
 *    into Archway's root-owned store (one helper run for the batch);
 *  - `--backend engine` for install/uninstall/enable/disable: for someone with the Docker socket but
 *    no sudo, the same validated register strings written through a privileged container.
 */
import type { Intent } from '../../shared/actions';
import { connect, describeEngine, type Connection } from '../engine/docker/endpoint';
import { EngineError } from '../engine/docker/errors';
import { prepareEmulatorFetch } from '../engine/docker/fetch';
import { BINFMT_IMAGE, type PinnedImage } from '../engine/docker/pins';
import { controlThroughEngine, registerThroughEngine, type RegistrarImage } from '../engine/docker/register';
import type { Engine } from '../engine';
import type { Io } from './main';

/** `repo:tag@sha256:…` → a pin. A digest is required: emulators run for every foreign program. */
export function parsePin(ref: string): PinnedImage {
  const m = /^(.+):([^:/@]+)@(sha256:[0-9a-f]{64})$/.exec(ref);
  if (!m) throw new EngineError('invalid-request', `--image ${ref}: give REPO:TAG@sha256:DIGEST (a digest pins the exact emulators)`);
  return { repo: m[1]!, tag: m[2]!, digest: m[3]!, emulatorDir: '/usr/bin' };
}

async function connected(io: Io): Promise<Connection> {
  const conn = await connect();
  io.stderr(`engine: ${describeEngine(conn.info)}\n`);
  return conn;
}

export async function fetchEmulators(args: string[], opts: { image?: string; json: boolean }, io: Io, engine: Engine): Promise<number> {
  const conn = await connected(io);
  const pin = opts.image ? parsePin(opts.image) : BINFMT_IMAGE;
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
  const { emulators, request } = prepared;
  try {
    const preview = await engine.preview(request);
    if (!preview.ok) {
      if (opts.json) io.stdout(`${JSON.stringify(preview)}\n`);
      else for (const r of preview.results) io.stderr(`✗ ${r.message}${r.error?.hint ? `\n  → ${r.error.hint}` : ''}\n`);
      return 2;
    }
    const run = await engine.apply(request);
    if (opts.json) io.stdout(`${JSON.stringify(run.response)}\n`);
    else {
      for (const r of run.response.results) io.stdout(`${r.ok ? '✓' : '✗'} ${r.message}\n`);
      if (run.response.ok) io.stdout(`Use them: archway install ${emulators.map((e) => e.cpu).join(' ')} --source store\n`);
    }
    return run.response.ok ? 0 : 1;
  } finally {
    await prepared.dispose();
  }
}

/**
 * Apply an intent through the engine instead of the helper. The helper's own dry run validates it
 * first (the same checks, the same register strings); the engine then writes exactly those strings.
 * Without root on the host Archway keeps no ownership record and writes no boot-time file.
 */
export async function applyThroughEngine(intent: Intent, opts: { registrar?: string; json: boolean }, io: Io, engine: Engine): Promise<number> {
  if (intent.persist || intent.action === 'persist-on' || intent.action === 'persist-off' || intent.action === 'mount') {
    throw new EngineError(
      'invalid-request',
      `--backend engine cannot ${intent.action === 'mount' ? 'mount binfmt_misc' : 'keep handlers after reboot'}: that writes files on the host as root`,
      'Use the helper (the default backend), which asks for administrator rights.',
    );
  }
  const plan = await engine.plan(intent);
  if (!plan.request || !plan.preview) {
    io.stdout('Nothing to do.\n');
    return 0;
  }
  if (!plan.preview.ok) {
    for (const r of plan.preview.results) io.stderr(`✗ ${r.message}${r.error?.hint ? `\n  → ${r.error.hint}` : ''}\n`);
    io.stderr('Nothing was changed.\n');
    return 2;
  }
  const conn = await connected(io);
  const registrar: RegistrarImage | undefined = opts.registrar ? { image: { ref: opts.registrar, platform: `linux/${conn.info.arch}` } } : undefined;
  const session = registrar ? { registrar } : {};
  const lines: { ok: boolean; message: string }[] = [];
  if (intent.action === 'install') {
    const rules = plan.preview.results.filter((r) => r.op === 'install' && r.register).map((r) => ({ register: r.register! }));
    const out = await registerThroughEngine(conn, rules, { ...session, replace: intent.takeOver === true });
    for (const o of out) lines.push({ ok: true, message: `${o.message} (through ${conn.info.name})` });
  } else {
    const names = plan.preview.results.filter((r) => r.changed && r.name).map((r) => r.name!);
    const value = intent.action === 'uninstall' ? '-1' : intent.action === 'enable' ? '1' : '0';
    for (const o of await controlThroughEngine(conn, names, value, session)) {
      lines.push({ ok: true, message: `${o.message} (through ${conn.info.name})` });
    }
  }
  if (opts.json) io.stdout(`${JSON.stringify({ ok: true, backend: 'engine', engine: conn.info.endpoint, results: lines })}\n`);
  else for (const l of lines) io.stdout(`${l.ok ? '✓' : '✗'} ${l.message}\n`);
  return 0;
}
