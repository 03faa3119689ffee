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

/** `repo:tag@digest`, for messages and provenance. */
export function describePin(p: PinnedImage): string {
  return `${p.repo}:${p.tag}@${p.digest}`;
}

/** The reference to pull and inspect: by digest. */
export function pinnedRef(p: PinnedImage): string {
  return `${p.repo}@${p.digest}`;
}
