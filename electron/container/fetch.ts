/**
 * "Fetch emulators", the glue both faces share (the CLI's `archway emulators fetch` and the
 * desktop app's plan → apply): resolve the names, extract the emulators from the pinned image into
 * a private temporary directory (emulators.ts), and build the ONE helper request of `store-add` ops
 * that installs them with their provenance. The caller previews/applies the request through the
 * engine and must call `dispose()` afterwards (it removes the temporary directory).
 */
import { rm } from 'node:fs/promises';
import { resolveArchs } from '../../shared/arch/resolve';
import { PROTOCOL_VERSION, type HelperRequest } from '../../shared/helper-protocol';
import { extractEmulators, sourceableCpus, type EmulatorEvent, type EmulatorTarget, type ExtractedEmulator } from './emulator-image';
import { importEmulators, type ImportKind } from './image-archive';
import { BINFMT_IMAGE, pullRoute, type PinnedImage } from './pins';

export interface PreparedFetch {
  /** The private temporary directory holding the extracted emulators. */
  dir: string;
  emulators: ExtractedEmulator[];
  /** store-add for each emulator, in one batch (one elevation). */
  request: HelperRequest;
  pin: PinnedImage;
  /** Where the engine pulled it from, in words (its registry-mirrors for docker.io, or the registry named). */
  route: string;
  /** Remove the temporary directory (idempotent; never throws). */
  dispose(): Promise<void>;
}

export interface PrepareFetchOptions {
  /** Names Archway resolves (`arm64`, `linux/s390x`…) or `all` (every fetchable CPU for this host). */
  archs: readonly string[];
  image?: PinnedImage;
  signal?: AbortSignal;
  onEvent?: (e: EmulatorEvent) => void;
  tmpRoot?: string;
}

/** `all` → every CPU the image is expected to hold for this host; otherwise the resolved CPUs. */
export function fetchCpus(names: readonly string[], hostMachine: string): string[] {
  return names.some((a) => a.toLowerCase() === 'all') ? sourceableCpus(hostMachine) : resolveArchs(names).map((e) => e.cpu);
}

/** The helper request that stores extracted emulators: each names the sha256 the plan shows (the helper stores nothing else), with the provenance as reported. */
export function storeAddRequest(emulators: readonly ExtractedEmulator[]): HelperRequest {
  return {
    version: PROTOCOL_VERSION,
    ops: emulators.map((e) => ({ op: 'store-add' as const, arch: e.cpu, file: e.file, sha256: e.sha256, provenance: e.provenance })),
  };
}

export async function prepareEmulatorFetch(t: EmulatorTarget, opts: PrepareFetchOptions): Promise<PreparedFetch> {
  const pin = opts.image ?? BINFMT_IMAGE;
  const cpus = fetchCpus(opts.archs, t.info.hostMachine);
  const { dir, emulators } = await extractEmulators(t, {
    cpus,
    image: pin,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.tmpRoot ? { tmpRoot: opts.tmpRoot } : {}),
  });
  let disposed: Promise<void> | undefined;
  return {
    dir,
    emulators,
    request: storeAddRequest(emulators),
    pin,
    route: pullRoute(pin, t.info.registryMirrors).words,
    dispose: () => (disposed ??= rm(dir, { recursive: true, force: true }).catch(() => undefined)),
  };
}

export interface PreparedImport {
  dir: string;
  kind: ImportKind;
  /** What the archive says it is (reported): its tag / ref name, and the manifest digest when known. */
  image?: string;
  digest?: string;
  emulators: ExtractedEmulator[];
  /** The same store-add batch as a fetch (one elevation). */
  request: HelperRequest;
  dispose(): Promise<void>;
}

/**
 * `archway emulators import PATH`: the emulators of a saved image or a directory, through the same
 * acceptance step and the same store-add request as a fetch — with no engine.
 */
export async function prepareEmulatorImport(file: string, opts: { archs?: readonly string[]; tmpRoot?: string; hostMachine?: string } = {}): Promise<PreparedImport> {
  const got = await importEmulators(file, opts);
  let disposed: Promise<void> | undefined;
  return {
    ...got,
    request: storeAddRequest(got.emulators),
    dispose: () => (disposed ??= rm(got.dir, { recursive: true, force: true }).catch(() => undefined)),
  };
}
