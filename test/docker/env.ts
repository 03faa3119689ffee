// Shared setup for the Docker integration tests: connections, fixture images loaded through the
// API, and counting Archway's labelled containers.
import * as os from 'node:os';
import type { Cpu } from '../../shared/arch/catalog';
import { connect, type Connection } from '../../electron/container/endpoint';
import { call } from '../../electron/container/api';
import { inspectImage, loadImage, type ImageFacts } from '../../electron/container/images';
import { LABEL_OWNER, LABEL_PROBE } from '../../electron/container/reap';
import { buildBusyboxImage, type BuildImageOptions, type ExtraFile } from '../fixtures/image';
import { pushImageArchive, pushManifestList, type Registry } from '../fixtures/registry';
import type { PinnedImage } from '../../electron/container/pins';
import type { DebArch } from '../fixtures/foreign';
import { ensureDockerd, type DockerdHandle } from './dockerd';

/** The suites use an i386 busybox as the "native" image: x86_64 runs it without any handler. */
export const X86_64_HOST = os.machine() === 'x86_64';

export interface ForeignArch {
  deb: DebArch;
  platform: string;
  cpu: Cpu;
  /** What `uname -m` prints under Debian's QEMU (DEB_ARCH_INFO agrees). */
  uname: string;
}

/** Foreign platforms the fixtures can build; each needs a handler on an x86_64 host. */
export const FOREIGN: readonly ForeignArch[] = [
  { deb: 'arm64', platform: 'linux/arm64', cpu: 'aarch64', uname: 'aarch64' },
  { deb: 'armhf', platform: 'linux/arm/v7', cpu: 'arm', uname: 'armv7l' },
  { deb: 'armel', platform: 'linux/arm/v5', cpu: 'arm', uname: 'armv7l' },
  { deb: 'ppc64el', platform: 'linux/ppc64le', cpu: 'ppc64le', uname: 'ppc64le' },
  { deb: 's390x', platform: 'linux/s390x', cpu: 's390x', uname: 's390x' },
  { deb: 'mips64el', platform: 'linux/mips64le', cpu: 'mips64el', uname: 'mips64' },
];

/** CPUs with a handler in the suites (arm serves arm/v7 and arm/v5). */
export const HANDLER_CPUS: readonly Cpu[] = [...new Set(FOREIGN.map((f) => f.cpu))];

export async function connectTo(d: DockerdHandle): Promise<Connection> {
  return connect({ endpoint: { kind: 'unix', socketPath: d.socket, source: 'explicit' } });
}

/** Build (cached, deterministic) and load a busybox image for `arch`; returns the engine's view of it. */
export async function loadBusybox(conn: Connection, arch: DebArch, tag: string, extra: Partial<BuildImageOptions> = {}): Promise<ImageFacts> {
  const built = await buildBusyboxImage({ arch, tag, ...extra });
  await loadImage(conn, built.tarPath);
  const img = await inspectImage(conn, built.tag);
  if (!img) throw new Error(`loaded ${built.tarPath} but ${built.tag} is not in the engine`);
  if (img.id !== built.imageId) throw new Error(`${built.tag} is ${img.id}, expected ${built.imageId}`);
  return img;
}

/** A linux/amd64 image that runs natively here: the i386 busybox (x86_64 runs it) labelled amd64. */
export function loadNativeBusybox(conn: Connection, tag: string): Promise<ImageFacts> {
  return loadBusybox(conn, 'i386', tag, { platformOverride: { architecture: 'amd64' } });
}

/**
 * The shared dockerd (started if none answers) with a native image loaded as `tag`; dispose()
 * removes the image, closes the connection and stops a daemon it started.
 */
export async function dockerdWithNativeImage(tag: string): Promise<{ dockerd: DockerdHandle; conn: Connection; dispose(): Promise<void> }> {
  const dockerd = await ensureDockerd();
  const conn = await connectTo(dockerd);
  await loadNativeBusybox(conn, tag);
  return {
    dockerd,
    conn,
    dispose: async () => {
      await removeImage(conn, tag);
      conn.close();
      await dockerd.stop();
    },
  };
}

export async function removeImage(conn: Connection, ref: string): Promise<void> {
  await call(conn, { method: 'DELETE', path: `/images/${encodeURIComponent(ref)}`, query: { force: true }, timeoutMs: 30_000 }).catch(() => undefined);
}

/** Archway's labelled containers in the engine (all states); `mine` limits to this process. */
export async function labelled(conn: Connection, mine = true): Promise<{ Id: string; State: string; Labels: Record<string, string> }[]> {
  const list = await call<{ Id: string; State: string; Labels: Record<string, string> }[]>(conn, {
    method: 'GET',
    path: '/containers/json',
    query: { all: true, filters: { label: [`${LABEL_PROBE}=1`] } },
  });
  return mine ? list.filter((c) => c.Labels[LABEL_OWNER] === `${os.hostname()}:${process.pid}`) : list;
}

/**
 * A fake pinned "binfmt" image standing in for tonistiigi/binfmt: a static busybox (i386 runs
 * natively on x86_64) labelled amd64, carrying `files` (the emulators), pushed to the local
 * registry as a manifest list and returned as a pin (pulled by digest).
 */
export async function pushFakeBinfmtImage(registry: Pick<Registry, 'host'>, files: ExtraFile[], repo = 'archway-test/binfmt'): Promise<PinnedImage> {
  const built = await buildBusyboxImage({ arch: 'i386', tag: 'archway-test/binfmt:amd64', platformOverride: { architecture: 'amd64' }, extraFiles: files });
  const desc = await pushImageArchive(registry, repo, 'amd64', built);
  const digest = await pushManifestList(registry, repo, 'qemu-v7.2.0', [desc]);
  return { repo: `${registry.host}/${repo}`, tag: 'qemu-v7.2.0', digest, emulatorDir: '/usr/bin' };
}
