/**
 * Emulators without an engine (`archway emulators import PATH`): read a saved tonistiigi/binfmt image
 * — a `docker save` archive (manifest.json), an OCI image layout (index.json + oci-layout, as a tar or a
 * directory) — or a plain directory of static `qemu-*` programs, and hand each emulator to the same
 * acceptance step as a fetch (emulator-image.ts acceptEmulator: size cap, static ELF program for this
 * host, version read from the bytes, private copy) and then to the same helper store-add request
 * (fetch.ts storeAddRequest). Layers are read with the same tar reader (tar.ts) and the same link walk
 * (imageFile) as a fetch. Nothing is run; no engine is contacted. The provenance is what the archive
 * says (its RepoTags / ref-name annotation and manifest digest), recorded as reported.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { kernelMachine } from '../engine/host';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CATALOG, catalogEntry, nativeCpus, type Cpu } from '../../shared/arch/catalog';
import { resolveArchs } from '../../shared/arch/resolve';
import { ContainerEngineError } from './errors';
import { acceptEmulator, hostElf, imageFile, MAX_EMULATOR_BYTES, privateTempDir, type ExtractedEmulator, type ImageFileLookup } from './emulator-image';
import { readTar, TarError, type TarEntry } from './tar';

/** Biggest archive (or layer, uncompressed) an import reads into memory. */
export const MAX_ARCHIVE_BYTES = 1 << 30;
/** Where tonistiigi/binfmt keeps its emulators. */
const EMULATOR_DIR = '/usr/bin';

export type ImportKind = 'docker-save' | 'oci-layout' | 'directory';

export interface ImportedSet {
  kind: ImportKind;
  /** Reported: the image reference the archive names, and the manifest digest when it is known. */
  image?: string;
  digest?: string;
  dir: string;
  emulators: ExtractedEmulator[];
}

const bad = (message: string, hint?: string) => new ContainerEngineError('invalid-request', message, hint);

/** A path as reported provenance: printable ASCII, at most 256 characters (the helper's limit). */
export function reportedPath(p: string): string {
  const ascii = p.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 256 ? `…${ascii.slice(-255)}` : ascii;
}

/** The files of a tar or a directory, by relative path. */
interface Source {
  has(rel: string): Promise<boolean>;
  read(rel: string, max: number): Promise<Uint8Array>;
}

function tarSource(entries: TarEntry[]): Source {
  const byPath = new Map(entries.map((e) => [e.path.replace(/^\.\//, ''), e]));
  return {
    has: async (rel) => byPath.get(rel)?.type === 'file',
    read: async (rel, max) => {
      const e = byPath.get(rel);
      if (!e || e.type !== 'file') throw bad(`the archive has no ${rel}`);
      if (e.data.length > max) throw bad(`${rel} in the archive is larger than ${max} bytes`);
      return e.data;
    },
  };
}

function dirSource(root: string): Source {
  const full = (rel: string) => {
    const p = path.resolve(root, rel);
    if (!p.startsWith(`${root}/`)) throw bad(`${rel} points outside ${root}`);
    return p;
  };
  return {
    has: async (rel) => (await fs.lstat(full(rel)).catch(() => undefined))?.isFile() ?? false,
    read: async (rel, max) => {
      const st = await fs.lstat(full(rel)).catch(() => undefined);
      if (!st?.isFile()) throw bad(`${rel} is not a regular file in ${root}`);
      if (st.size > max) throw bad(`${rel} is ${st.size} bytes; an import reads at most ${max}`);
      return fs.readFile(full(rel));
    },
  };
}

const json = (bytes: Uint8Array, what: string): unknown => {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw bad(`${what} is not JSON: ${(err as Error).message}`);
  }
};

const blobPath = (digest: unknown): string => {
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw bad(`the archive names a blob by "${String(digest).slice(0, 80)}", not sha256:HEX`);
  return `blobs/sha256/${digest.slice(7)}`;
};

/** A blob read and checked against its name (content-addressed: a changed blob is refused). */
async function readBlob(src: Source, digest: unknown, max: number): Promise<Uint8Array> {
  const rel = blobPath(digest);
  const data = await src.read(rel, max);
  const got = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  if (got !== digest) throw bad(`blob ${rel} has ${got}, not the digest its name says`, 'The archive is damaged or was changed: save the image again.');
  return data;
}

/** A layer's tar entries (gzip-compressed layers are inflated, with the same cap). */
function layerEntries(data: Uint8Array, what: string): TarEntry[] {
  let tar = data;
  if (data[0] === 0x1f && data[1] === 0x8b) {
    try {
      tar = gunzipSync(data, { maxOutputLength: MAX_ARCHIVE_BYTES });
    } catch (err) {
      throw bad(`${what} cannot be inflated: ${(err as Error).message}`);
    }
  }
  try {
    return readTar(tar);
  } catch (err) {
    if (err instanceof TarError) throw bad(`${what} is not a tar archive: ${err.message}`);
    throw err;
  }
}

/** The image's files after applying its layers in order (OCI whiteouts remove what lower layers had). */
function overlay(layers: TarEntry[][]): ImageFileLookup {
  const files = new Map<string, TarEntry>();
  const norm = (p: string) => path.posix.resolve('/', p);
  for (const entries of layers) {
    for (const e of entries) {
      const p = norm(e.path);
      const base = path.posix.basename(p);
      const dir = path.posix.dirname(p);
      if (base === '.wh..wh..opq') {
        for (const k of [...files.keys()]) if (k.startsWith(`${dir === '/' ? '' : dir}/`)) files.delete(k);
        continue;
      }
      if (base.startsWith('.wh.')) {
        const gone = path.posix.join(dir, base.slice(4));
        for (const k of [...files.keys()]) if (k === gone || k.startsWith(`${gone}/`)) files.delete(k);
        continue;
      }
      files.set(p, e);
    }
  }
  return async (p) => files.get(norm(p));
}

interface ImageLayers {
  kind: 'docker-save' | 'oci-layout';
  image?: string;
  digest?: string;
  config: { architecture?: string; os?: string };
  layers: Uint8Array[];
}

async function dockerSave(src: Source): Promise<ImageLayers> {
  const manifest = json(await src.read('manifest.json', 1 << 20), 'manifest.json');
  const first = Array.isArray(manifest) ? (manifest[0] as { Config?: unknown; RepoTags?: unknown; Layers?: unknown }) : undefined;
  if (!first || typeof first.Config !== 'string' || !Array.isArray(first.Layers)) throw bad('manifest.json does not describe an image (Config, Layers)');
  if (Array.isArray(manifest) && manifest.length > 1) throw bad(`the archive holds ${manifest.length} images; save only the tonistiigi/binfmt image`, 'docker save IMAGE -o FILE');
  const config = json(await src.read(first.Config, 1 << 20), first.Config) as ImageLayers['config'];
  const layers: Uint8Array[] = [];
  for (const l of first.Layers) {
    if (typeof l !== 'string') throw bad('manifest.json names a layer that is not a path');
    layers.push(await src.read(l, MAX_ARCHIVE_BYTES));
  }
  const tag = Array.isArray(first.RepoTags) && typeof first.RepoTags[0] === 'string' ? first.RepoTags[0] : undefined;
  return { kind: 'docker-save', ...(tag ? { image: tag } : {}), config, layers };
}

async function ociLayout(src: Source, hostArch: string): Promise<ImageLayers> {
  const index = json(await src.read('index.json', 1 << 20), 'index.json') as { manifests?: { digest?: unknown; mediaType?: string; annotations?: Record<string, string>; platform?: { architecture?: string; os?: string } }[] };
  const top = index.manifests ?? [];
  if (top.length !== 1) throw bad(`index.json lists ${top.length} images; an import takes one image`, 'Save only the tonistiigi/binfmt image.');
  const ref = top[0]!.annotations?.['io.containerd.image.name'] ?? top[0]!.annotations?.['org.opencontainers.image.ref.name'];
  let desc = top[0]!;
  let doc = json(await readBlob(src, desc.digest, 1 << 20), 'the image manifest') as { manifests?: typeof top; config?: { digest?: unknown }; layers?: { digest?: unknown }[] };
  const digest = desc.digest as string;
  if (Array.isArray(doc.manifests)) {
    // An image index: the manifest for this host (the emulators must run here).
    const mine = doc.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === hostArch);
    if (!mine) throw bad(`the image has no linux/${hostArch} manifest (it has ${doc.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).join(', ')})`);
    desc = mine;
    doc = json(await readBlob(src, desc.digest, 1 << 20), 'the platform manifest') as typeof doc;
  }
  if (!doc.config || !Array.isArray(doc.layers)) throw bad('the image manifest has no config or layers');
  const config = json(await readBlob(src, doc.config.digest, 1 << 20), 'the image config') as ImageLayers['config'];
  const layers: Uint8Array[] = [];
  for (const l of doc.layers) layers.push(await readBlob(src, l.digest, MAX_ARCHIVE_BYTES));
  return { kind: 'oci-layout', ...(ref ? { image: ref } : {}), digest, config, layers };
}

/** The CPUs to import: those named, or every non-native catalog CPU whose emulator is present. */
async function chooseCpus(names: readonly string[] | undefined, hostMachine: string, present: (cpu: Cpu) => Promise<boolean>): Promise<Cpu[]> {
  const native = new Set(nativeCpus(hostMachine).filter((n) => n.native === 'yes').map((n) => n.cpu));
  if (names && names.length && !names.some((n) => n.toLowerCase() === 'all')) {
    const cpus = [...new Set(resolveArchs(names).map((e) => e.cpu))];
    for (const c of cpus) if (native.has(c)) throw bad(`${c} runs natively on this ${hostMachine} host: it needs no emulator`);
    return cpus;
  }
  const out: Cpu[] = [];
  const seen = new Set<string>();
  for (const c of CATALOG) {
    if (native.has(c.cpu) || seen.has(c.emulator)) continue;
    seen.add(c.emulator);
    if (await present(c.cpu)) out.push(c.cpu);
  }
  return out;
}

export interface ImportOptions {
  /** Names Archway resolves (`arm64`…), or none / `all`: every emulator the source holds. */
  archs?: readonly string[];
  hostMachine?: string;
  tmpRoot?: string;
}

/**
 * Read emulators from PATH into a private temporary directory (the caller removes `dir`, or uses
 * prepareEmulatorImport, which gives a dispose()). Throws ContainerEngineError('invalid-request'
 * or 'not-found') saying what is wrong; nothing is stored here.
 */
export async function importEmulators(file: string, opts: ImportOptions = {}): Promise<ImportedSet> {
  const hostMachine = opts.hostMachine ?? kernelMachine();
  const want = hostElf(hostMachine);
  const nat = nativeCpus(hostMachine)[0];
  const hostArch = nat ? catalogEntry(nat.cpu)?.platforms[0]?.platform.split('/')[1] : undefined;
  if (!want || !hostArch) throw bad(`Archway does not know which programs a ${hostMachine} host runs`);
  const abs = path.resolve(file);
  const st = await fs.stat(abs).catch((err: NodeJS.ErrnoException) => {
    throw new ContainerEngineError('not-found', `cannot read ${abs}: ${err.code ?? err.message}`);
  });
  const from = reportedPath(abs);
  let src: Source;
  if (st.isDirectory()) src = dirSource(abs);
  else if (st.isFile()) {
    if (st.size > MAX_ARCHIVE_BYTES) throw bad(`${abs} is ${st.size} bytes; an import reads archives up to ${MAX_ARCHIVE_BYTES} bytes`);
    let entries: TarEntry[];
    try {
      entries = layerEntries(await fs.readFile(abs), abs);
    } catch (err) {
      throw bad(`${abs} is neither a docker save / OCI archive nor a directory: ${(err as Error).message}`, 'Give a file made by `docker save IMAGE -o FILE` (or an OCI layout), or a directory of qemu-* programs.');
    }
    src = tarSource(entries);
  } else throw bad(`${abs} is neither a file nor a directory`);

  const dir = await privateTempDir(opts.tmpRoot);
  try {
    let kind: ImportKind;
    let lookup: ImageFileLookup;
    let image: string | undefined;
    let digest: string | undefined;
    const isOci = (await src.has('oci-layout')) && (await src.has('index.json'));
    if ((await src.has('manifest.json')) || isOci) {
      const img = (await src.has('manifest.json')) ? await dockerSave(src) : await ociLayout(src, hostArch);
      if (img.config.os !== undefined && img.config.os !== 'linux') throw bad(`the image is for ${img.config.os}, not linux`);
      if (img.config.architecture !== hostArch) {
        throw bad(`the image is linux/${img.config.architecture ?? 'unknown'}, but this host runs linux/${hostArch} programs: its emulators would not run here`, `Save the image for this host: docker pull --platform linux/${hostArch} IMAGE && docker save IMAGE -o FILE`);
      }
      kind = img.kind;
      image = img.image;
      digest = img.digest;
      lookup = overlay(img.layers.map((l, i) => layerEntries(l, `layer ${i + 1}`)));
    } else if (st.isDirectory()) {
      kind = 'directory';
      // A directory of programs: qemu-<cpu> or qemu-<cpu>-static, read as files (links followed).
      lookup = async (p) => {
        const base = path.posix.basename(p);
        for (const name of [base, `${base}-static`]) {
          const f = path.join(abs, name);
          const s = await fs.stat(f).catch(() => undefined);
          if (!s?.isFile()) continue;
          if (s.size > MAX_EMULATOR_BYTES) throw bad(`${f} is ${s.size} bytes; Archway takes emulators up to ${MAX_EMULATOR_BYTES} bytes`);
          return { type: 'file', data: await fs.readFile(f), mode: s.mode & 0o7777 };
        }
        return undefined;
      };
    } else {
      throw bad(`${abs} holds no manifest.json (docker save) and no index.json + oci-layout (OCI layout)`, 'Give a file made by `docker save IMAGE -o FILE`, or a directory of qemu-* programs.');
    }
    const emuPath = (cpu: Cpu) => `${EMULATOR_DIR}/${catalogEntry(cpu)!.emulator}`;
    const cpus = await chooseCpus(opts.archs, hostMachine, async (cpu) => (await lookup(emuPath(cpu))) !== undefined);
    if (!cpus.length) throw new ContainerEngineError('not-found', `${abs} holds no qemu-* emulators${kind === 'directory' ? '' : ` in ${EMULATOR_DIR}`}`);
    const emulators: ExtractedEmulator[] = [];
    const where = (p: string) => (kind === 'directory' ? path.join(abs, path.posix.basename(p)) : `${p} in ${abs}`);
    for (const cpu of cpus) {
      const got = await imageFile(lookup, emuPath(cpu)).catch((err: unknown) => {
        if (err instanceof ContainerEngineError && err.code === 'not-found' && kind === 'directory') throw new ContainerEngineError('not-found', `${abs} has no ${catalogEntry(cpu)!.emulator}`);
        throw err;
      });
      emulators.push(
        await acceptEmulator({
          dir,
          cpu,
          data: got.data,
          hostMachine,
          what: where(got.path),
          provenance: { image: image ? reportedPath(image) : '', ...(digest ? { digest } : {}), importedFrom: from },
        }),
      );
    }
    return { kind, ...(image ? { image } : {}), ...(digest ? { digest } : {}), dir, emulators };
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}
