/**
 * Emulators from an image: pull the pinned tonistiigi/binfmt image for the engine's own platform,
 * create a container without starting it, copy `/usr/bin/qemu-<cpu>` out through the archive
 * endpoint, check it is a static ELF program for this host, and hand it — with its provenance — to
 * an installer (the privileged helper's `store-add`, passed in so this module does not depend on it).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import { kernelMachine } from '../engine/host';
import * as path from 'node:path';
import { catalogEntry, fetchableCpus, nativeCpus, type Cpu } from '../../shared/arch/catalog';
import { resolveOne } from '../../shared/arch/resolve';
import { describeHostProgramProblem, hostProgramProblem, parseElf, type ElfInfo } from '../../shared/elf';
import { qemuVersionFromBytes } from '../../shared/qemu-version';
import type { PullProgress } from '../../shared/probe';
import { callStream, readAll, type ContainerTarget } from './api';
import { withTemp } from './containers';
import { ContainerEngineError } from './errors';
import { inspectImage, pullImage, type ImageFacts } from './images';
import { BINFMT_IMAGE, describePin, pinImageName, pinnedRef, type PinnedImage } from './pins';
import { readTar, type TarEntry } from './tar';

export interface EmulatorProvenance {
  /** `docker.io/tonistiigi/binfmt:qemu-v9.2.2` ('' for a directory of programs imported as they are). */
  image: string;
  /** The pinned digest the image was pulled by (an import: the manifest digest, when the archive names it). */
  digest?: string;
  /** `archway emulators import`: the file or directory read (printable ASCII, bounded). */
  importedFrom?: string;
  /**
   * The version string the emulator's bytes carry (`9.2.2`, `7.2.0 (Debian 1:7.2+dfsg-7+deb12u18)`),
   * read without running it; absent when the file names none. Reported, not verified.
   */
  qemuVersion?: string;
}

export interface ExtractedEmulator {
  cpu: Cpu;
  /** `qemu-aarch64` */
  emulator: string;
  /** Temporary file (in a private directory) holding the emulator. */
  file: string;
  sha256: string;
  size: number;
  elf: ElfInfo;
  provenance: EmulatorProvenance;
}

export type InstallFn<T> = (file: string, cpu: Cpu, provenance: EmulatorProvenance) => Promise<T>;

export type EmulatorEvent =
  | { type: 'pull'; image: string; progress: PullProgress }
  | { type: 'extracted'; cpu: Cpu; size: number; qemuVersion?: string }
  | { type: 'installed'; cpu: Cpu };

export interface EmulatorTarget extends ContainerTarget {
  info: { arch: string; hostMachine: string; registryMirrors?: string[] };
}

/** Biggest emulator Archway accepts (QEMU's static user-mode binaries are 5–30 MB). */
export const MAX_EMULATOR_BYTES = 128 << 20;

/** The ELF machine, class and byte order of programs native to a host (`uname -m`). */
export function hostElf(hostMachine: string): { machine: number; class: 32 | 64; endian: 'little' | 'big' } | undefined {
  const cpu = nativeCpus(hostMachine)[0]?.cpu;
  const e = cpu ? catalogEntry(cpu) : undefined;
  return e ? { machine: e.elfMachine, class: e.elfClass, endian: e.endian } : undefined;
}

/** Check bytes are a static ELF program this host runs (shared/elf decides); returns its ELF facts or throws. */
export function verifyEmulatorBytes(bytes: Uint8Array, hostMachine: string, what: string): ElfInfo {
  const want = hostElf(hostMachine);
  if (!want) throw new ContainerEngineError('invalid-request', `Archway does not know which programs a ${hostMachine} host runs`);
  const elf = parseElf(bytes);
  const problem = hostProgramProblem(elf, want);
  if (problem) {
    throw new ContainerEngineError(
      'invalid-request',
      describeHostProgramProblem(what, problem),
      problem.kind === 'dynamic' ? 'Use an image with static emulators (tonistiigi/binfmt ships static ones).' : undefined,
    );
  }
  return elf!;
}

/** Pull the pinned image (host platform) and check it is what the pin says. */
export async function pullPinned(t: EmulatorTarget, pin: PinnedImage, opts: { signal?: AbortSignal; onProgress?: (p: PullProgress) => void } = {}): Promise<ImageFacts> {
  const ref = pinnedRef(pin);
  const platform = `linux/${t.info.arch}`;
  let img = await inspectImage(t, ref, opts.signal);
  if (!img) {
    await pullImage(t, ref, platform, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) }).catch((err: Error) => {
      if (err instanceof ContainerEngineError) throw err;
      throw new ContainerEngineError('not-found', `cannot pull ${describePin(pin)}: ${err.message}`, 'The engine needs to reach the registry once; afterwards the image is used from its cache.');
    });
    img = await inspectImage(t, ref, opts.signal);
  }
  if (!img) throw new ContainerEngineError('not-found', `${describePin(pin)} was pulled but the engine cannot find it`);
  if (img.architecture !== t.info.arch) {
    throw new ContainerEngineError('invalid-request', `${describePin(pin)} is ${img.os}/${img.architecture}, not this engine's linux/${t.info.arch}`);
  }
  if (!img.repoDigests.some((d) => d.endsWith(`@${pin.digest}`))) {
    throw new ContainerEngineError('invalid-request', `the image found for ${describePin(pin)} does not carry that digest (it has ${img.repoDigests.join(', ') || 'none'})`);
  }
  return img;
}

/** One file of an image as a tar entry gives it (the archive endpoint, or a layer of a saved image). */
export type ImageFileLookup = (path: string) => Promise<{ type: TarEntry['type']; data: Uint8Array; mode: number; linkTarget?: string } | undefined>;

/**
 * A regular file of an image by its path, following symbolic links (relative to their directory,
 * at most 8) and hard links — the one walk fetch (the engine's archive endpoint) and import (a saved
 * image's layers) share.
 */
export async function imageFile(get: ImageFileLookup, file: string): Promise<{ path: string; data: Uint8Array; mode: number }> {
  let current = file;
  for (let hop = 0; hop < 8; hop++) {
    const entry = await get(current);
    if (!entry) throw new ContainerEngineError('not-found', `the image has no ${current}`);
    if (entry.type === 'file') return { path: current, data: entry.data, mode: entry.mode };
    if ((entry.type === 'symlink' || entry.type === 'hardlink') && entry.linkTarget) {
      current = entry.type === 'hardlink' ? path.posix.resolve('/', entry.linkTarget) : path.posix.resolve(path.posix.dirname(current), entry.linkTarget);
      continue;
    }
    throw new ContainerEngineError('invalid-request', `${current} in the image is not a regular file (${entry.type})`);
  }
  throw new ContainerEngineError('invalid-request', `${file} in the image is a chain of more than 8 symbolic links`);
}

async function fetchFile(t: ContainerTarget, id: string, file: string, signal?: AbortSignal): Promise<{ path: string; data: Uint8Array; mode: number }> {
  return imageFile(async (current) => {
    let res;
    try {
      res = await callStream(t, { method: 'GET', path: `/containers/${id}/archive`, query: { path: current }, doing: `copying ${current} out of the image`, timeoutMs: 30_000, ...(signal ? { signal } : {}) });
    } catch (err) {
      if (err instanceof ContainerEngineError && err.code === 'not-found') return undefined;
      throw err;
    }
    const tar = await readAll(res, MAX_EMULATOR_BYTES + (1 << 20), `${current} from the image`);
    const entry = readTar(tar)[0];
    if (!entry) throw new ContainerEngineError('engine-refused', `the engine returned an empty archive for ${current}`);
    return entry;
  }, file);
}

/** A private temporary directory (mode 700) for emulators on their way to the store. */
export async function privateTempDir(tmpRoot?: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(tmpRoot ?? os.tmpdir(), 'archway-emulators-'));
  await fs.chmod(dir, 0o700);
  return dir;
}

/**
 * The one acceptance step for an emulator's bytes, whatever they came from (a pulled image, a saved
 * image, a directory): size cap, a static ELF program for this host (shared/elf decides), the QEMU
 * version its bytes carry (read, never run), its sha256, and a private copy the helper's store-add
 * reads. Throws ContainerEngineError('invalid-request') with what is wrong.
 */
export async function acceptEmulator(a: { dir: string; cpu: Cpu; data: Uint8Array; hostMachine: string; what: string; provenance: Omit<EmulatorProvenance, 'qemuVersion'> }): Promise<ExtractedEmulator> {
  const emulator = catalogEntry(a.cpu)!.emulator;
  if (a.data.length > MAX_EMULATOR_BYTES) throw new ContainerEngineError('invalid-request', `${a.what} is ${a.data.length} bytes; Archway takes emulators up to ${MAX_EMULATOR_BYTES} bytes`);
  const elf = verifyEmulatorBytes(a.data, a.hostMachine, a.what);
  const file = path.join(a.dir, emulator);
  await fs.writeFile(file, a.data, { mode: 0o755, flag: 'wx' });
  // Never run: the version is read from the bytes (nothing from an image executes on the host).
  const qemuVersion = qemuVersionFromBytes(a.data);
  const sha256 = createHash('sha256').update(a.data).digest('hex');
  return { cpu: a.cpu, emulator, file, sha256, size: a.data.length, elf, provenance: { ...a.provenance, ...(qemuVersion ? { qemuVersion } : {}) } };
}

export interface ExtractOptions {
  /** CPUs or any name Archway resolves (`arm64`, `linux/s390x`…). */
  cpus: readonly string[];
  image?: PinnedImage;
  signal?: AbortSignal;
  onEvent?: (e: EmulatorEvent) => void;
  /** Where the private temporary directory goes (default os.tmpdir()). */
  tmpRoot?: string;
}

/**
 * Extract emulators into a private temporary directory. The caller owns `dir` and must remove it
 * (sourceEmulators does). Throws ContainerEngineError; nothing is left in the engine.
 */
export async function extractEmulators(t: EmulatorTarget, opts: ExtractOptions): Promise<{ dir: string; emulators: ExtractedEmulator[] }> {
  const pin = opts.image ?? BINFMT_IMAGE;
  const here = kernelMachine();
  if (here !== t.info.hostMachine) {
    throw new ContainerEngineError(
      'invalid-request',
      `the engine runs on ${t.info.hostMachine} but this machine is ${here}: emulators taken from it would not run here`,
      'Connect to the local engine (unset DOCKER_HOST or `docker context use default`).',
    );
  }
  const entries = [...new Map(opts.cpus.map((c) => resolveOne(c)).map((e) => [e.cpu, e])).values()];
  const native = new Set(nativeCpus(t.info.hostMachine).filter((n) => n.native === 'yes').map((n) => n.cpu));
  for (const e of entries) {
    if (native.has(e.cpu)) throw new ContainerEngineError('invalid-request', `${e.cpu} runs natively on this ${t.info.hostMachine} host: it needs no emulator`);
  }
  const img = await pullPinned(t, pin, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: (progress) => opts.onEvent?.({ type: 'pull', image: describePin(pin), progress }),
  });
  const dir = await privateTempDir(opts.tmpRoot);
  try {
    const emulators = await withTemp(
      t,
      {
        kind: 'extract',
        platform: `linux/${t.info.arch}`,
        lifetimeMs: 5 * 60_000,
        // Created, never started: the command only has to exist on paper.
        body: { Image: img.id, Entrypoint: [], Cmd: ['/archway-never-started'], NetworkDisabled: true, HostConfig: { NetworkMode: 'none' } },
      },
      async (id) => {
        const out: ExtractedEmulator[] = [];
        for (const e of entries) {
          const inImage = `${pin.emulatorDir ?? '/usr/bin'}/${e.emulator}`;
          const got = await fetchFile(t, id, inImage, opts.signal);
          const x = await acceptEmulator({ dir, cpu: e.cpu, data: got.data, hostMachine: t.info.hostMachine, what: `${inImage} in ${describePin(pin)}`, provenance: { image: pinImageName(pin), digest: pin.digest } });
          out.push(x);
          opts.onEvent?.({ type: 'extracted', cpu: e.cpu, size: x.size, ...(x.provenance.qemuVersion ? { qemuVersion: x.provenance.qemuVersion } : {}) });
        }
        return out;
      },
    );
    return { dir, emulators };
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface SourcedEmulator<T> {
  cpu: Cpu;
  sha256: string;
  size: number;
  provenance: EmulatorProvenance;
  installed: T;
}

/**
 * Extract emulators and install each through `install` (the helper's store-add in the app). The
 * temporary copies are always removed afterwards.
 */
export async function sourceEmulators<T>(t: EmulatorTarget, opts: ExtractOptions & { install: InstallFn<T> }): Promise<SourcedEmulator<T>[]> {
  const { dir, emulators } = await extractEmulators(t, opts);
  try {
    const out: SourcedEmulator<T>[] = [];
    for (const e of emulators) {
      const installed = await opts.install(e.file, e.cpu, e.provenance);
      opts.onEvent?.({ type: 'installed', cpu: e.cpu });
      out.push({ cpu: e.cpu, sha256: e.sha256, size: e.size, provenance: e.provenance, installed });
    }
    return out;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** CPUs whose emulators the pinned image is expected to hold (those with a Docker platform). */
export function sourceableCpus(hostMachine: string): Cpu[] {
  return fetchableCpus(hostMachine);
}
