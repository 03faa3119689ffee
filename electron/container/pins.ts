/**
 * The images Archway pulls by itself, pinned by tag AND digest, in one place. A digest pins the
 * exact bytes (the tag is for people); pulls are made by digest.
 *
 * Both digests are multi-platform index digests as published on Docker Hub. They were taken from
 * public pins (several independent projects agree on each); this repository's build environment
 * cannot reach Docker Hub to re-check them — verify with `docker buildx imagetools inspect REF`
 * when bumping.
 */

export interface PinnedImage {
  /** `docker.io/tonistiigi/binfmt` */
  repo: string;
  /** For people: `qemu-v9.2.2`. */
  tag: string;
  /** `sha256:…` of the manifest (list) the tag pointed to when pinned. */
  digest: string;
  /** Where the QEMU user-mode emulators live inside the image. */
  emulatorDir?: string;
}

/** tonistiigi/binfmt with QEMU 9.2.2: static `qemu-<cpu>` in /usr/bin, for amd64, arm64, arm, ppc64le, s390x, riscv64, 386… */
export const BINFMT_IMAGE: PinnedImage = {
  repo: 'docker.io/tonistiigi/binfmt',
  tag: 'qemu-v9.2.2',
  digest: 'sha256:1b804311fe87047a4c96d38b4b3ef6f62fca8cd125265917a9e3dc3c996c39e6',
  emulatorDir: '/usr/bin',
};

/** busybox (musl, static) — runs `tee` for registrations through the engine; no shell is involved. */
export const REGISTRAR_IMAGE: PinnedImage = {
  repo: 'docker.io/library/busybox',
  tag: '1.36.1-musl',
  digest: 'sha256:2f9af5cf39068ec3a9e124feceaa11910c511e23a1670dcfdff0bc16793545fb',
};

/** `repo:tag@digest` (or `repo@digest` for a reference given by digest alone), for messages and provenance. */
export function describePin(p: PinnedImage): string {
  return `${p.repo}${p.tag ? `:${p.tag}` : ''}@${p.digest}`;
}

/** `repo:tag` (or `repo` alone), the image half of an emulator's reported provenance. */
export function pinImageName(p: PinnedImage): string {
  return p.tag ? `${p.repo}:${p.tag}` : p.repo;
}

export class PinError extends Error {}

/**
 * `--image` for `emulators fetch`: `REPO:TAG@sha256:…`, or a reference by digest alone — e.g. a
 * mirror's `mirror.example:5000/tonistiigi/binfmt@sha256:…`. A digest is always required (it pins the
 * exact emulators; the engine must then hold an image carrying it, or the fetch is refused). A digest
 * equal to Archway's pin keeps the pin's tag in the provenance (the same image, from a mirror); any
 * other is the user's explicit choice and is reported as given.
 */
export function parseImageRef(ref: string, pinned: PinnedImage = BINFMT_IMAGE): PinnedImage & { samePin: boolean } {
  const m = /^([a-z0-9][a-z0-9._\-/:]*?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?@(sha256:[0-9a-f]{64})$/.exec(ref);
  if (!m || m[1]!.endsWith('/')) throw new PinError(`--image ${ref}: give REPO:TAG@sha256:DIGEST or MIRROR/REPO@sha256:DIGEST (a digest pins the exact emulators)`);
  const samePin = m[3] === pinned.digest;
  const tag = m[2] ?? (samePin ? pinned.tag : '');
  return { repo: m[1]!, tag, digest: m[3]!, emulatorDir: pinned.emulatorDir ?? '/usr/bin', samePin };
}

/** The registry host a reference names (Docker's rule: a first part with `.` or `:`, or `localhost`; else docker.io). */
export function registryOf(repo: string): string {
  const first = repo.split('/')[0]!;
  return repo.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? (first === 'index.docker.io' ? 'docker.io' : first) : 'docker.io';
}

/**
 * Where the engine will pull a pinned image from, in words and typed: dockerd applies its
 * `registry-mirrors` to Docker Hub (docker.io) references only, trying each mirror before Docker Hub;
 * any other registry (a mirror named in the reference) is pulled from directly.
 */
export function pullRoute(pin: PinnedImage, mirrors: readonly string[] | undefined): { registry: string; mirrors: string[]; words: string } {
  const registry = registryOf(pin.repo);
  const ms = registry === 'docker.io' ? [...(mirrors ?? [])] : [];
  const words =
    registry === 'docker.io'
      ? ms.length
        ? `the engine pulls ${describePin(pin)} through its registry-mirrors (${ms.join(', ')}), then Docker Hub; the digest is checked either way`
        : `the engine pulls ${describePin(pin)} from Docker Hub (it has no registry-mirrors)`
      : `the engine pulls ${describePin(pin)} from ${registry} directly (registry-mirrors apply to Docker Hub only); the digest is checked`;
  return { registry, mirrors: ms, words };
}

/** The reference to pull and inspect: by digest. */
export function pinnedRef(p: PinnedImage): string {
  return `${p.repo}@${p.digest}`;
}
