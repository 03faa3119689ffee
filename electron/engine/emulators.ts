/** Where emulators come from: the distribution's static QEMU, or Archway's own store. */
import { join } from 'node:path';
import { type Cpu, catalogEntry } from '../../shared/arch/catalog';
import { SHA256_HEX } from '../../shared/errors';
import { describeReported, type ReportedProvenance } from '../../shared/provenance';
import { PRINTABLE_ASCII } from '../../shared/sanitize';
import { readIfPresent, type ArchwayPaths } from './paths';

export type EmulatorSource = 'distro' | 'store';

export interface EmulatorCandidate {
  path: string;
  source: EmulatorSource;
  /** Debian's `<cpu>-binfmt-P` wrapper: QEMU expects the P flag (argv[0] preserved). */
  preserveArgv0: boolean;
  /**
   * The QEMU version: the distribution's package version, or for a store entry the version string the
   * helper read from the stored bytes (never from the extractor's reported provenance).
   */
  version?: string;
  /** A store entry's provenance as its extractor reported it ("reported: from IMAGE@DIGEST, QEMU x.y"). */
  reported?: string;
  /** A store entry's content digest (its path names it too). */
  sha256?: string;
}

/**
 * Fixed distro locations, in preference order:
 * - Debian/Ubuntu ≥ 12/23.04: /usr/libexec/qemu-binfmt/<cpu>-binfmt-P (a root-owned symlink to the
 *   static emulator whose name tells QEMU that P is in effect);
 * - Debian/Ubuntu/Fedora/Arch: /usr/bin/qemu-<cpu>-static;
 * - /usr/bin/qemu-<cpu> (only accepted when it turns out to be static).
 */
export function distroCandidates(cpu: Cpu): EmulatorCandidate[] {
  const e = catalogEntry(cpu)!;
  const base = e.emulator; // qemu-i386 for i486
  const wrapperCpu = base.slice('qemu-'.length);
  return [
    { path: `/usr/libexec/qemu-binfmt/${wrapperCpu}-binfmt-P`, source: 'distro', preserveArgv0: true },
    { path: `/usr/bin/${base}-static`, source: 'distro', preserveArgv0: false },
    { path: `/usr/bin/${base}`, source: 'distro', preserveArgv0: false },
  ];
}

// ------------------------------------------------------------------ the content-addressed store
//
// <storeDir>/<sha256>/qemu-<cpu>: the path names the exact bytes, a file is written once (by the
// helper's store-add, after hashing what it copied) and never replaced, so a record, a register
// string or a persist file that names a store path names that content for good. Several entries
// per CPU live side by side; manifest.json lists them oldest first.

export interface StoreEntry {
  cpu: Cpu;
  /** `qemu-aarch64` */
  emulator: string;
  sha256: string;
  size: number;
  /** Relative to the store: `<sha256>/<emulator>`. */
  file: string;
  addedAt: string;
  /** The uid that asked for it (PKEXEC_UID under pkexec). */
  addedBy: number;
  /** What the extracting process said; recorded, never verified. */
  reported: ReportedProvenance;
  /**
   * The version string the stored bytes carry (shared/qemu-version.ts), read by the helper while it
   * hashed and copied them; absent in entries stored before Archway read it, or when the file names none.
   */
  version?: string;
}

/** Compatibility name: the manifest keyed by each entry's relative file. */
export type StoreManifestEntry = StoreEntry;

export const STORE_MANIFEST = 'manifest.json';

/** `<sha256>/<emulator>`, relative to the store directory. */
export function storeRelPath(sha256: string, emulator: string): string {
  return `${sha256}/${emulator}`;
}

function validEntry(e: unknown): e is StoreEntry {
  if (!e || typeof e !== 'object') return false;
  const x = e as Partial<StoreEntry>;
  const cat = typeof x.cpu === 'string' ? catalogEntry(x.cpu) : undefined;
  const ascii = (s: unknown, max: number) => typeof s === 'string' && s.length <= max && PRINTABLE_ASCII.test(s);
  const r = x.reported as Partial<ReportedProvenance> | undefined;
  return (
    !!cat &&
    cat.cpu === x.cpu &&
    x.emulator === cat.emulator &&
    typeof x.sha256 === 'string' &&
    SHA256_HEX.test(x.sha256) &&
    x.file === storeRelPath(x.sha256, x.emulator) &&
    typeof x.size === 'number' &&
    typeof x.addedAt === 'string' &&
    typeof x.addedBy === 'number' &&
    !!r &&
    ascii(r.image, 256) &&
    (r.digest === undefined || ascii(r.digest, 100)) &&
    (r.qemuVersion === undefined || ascii(r.qemuVersion, 64)) &&
    (r.importedFrom === undefined || ascii(r.importedFrom, 256)) &&
    (x.version === undefined || ascii(x.version, 64))
  );
}

/** Every valid entry, oldest first (entries that do not check out are ignored, never chosen). */
export function readStoreEntries(paths: ArchwayPaths): StoreEntry[] {
  try {
    const text = readIfPresent(join(paths.storeDir, STORE_MANIFEST));
    if (text === undefined) return [];
    const parsed = JSON.parse(text) as { version?: number; entries?: unknown[] };
    return parsed.version === 2 && Array.isArray(parsed.entries) ? parsed.entries.filter(validEntry) : [];
  } catch {
    return [];
  }
}

/** The manifest's text for `entries` (oldest first). */
export function storeManifestText(entries: readonly StoreEntry[]): string {
  return `${JSON.stringify({ version: 2, entries }, null, 2)}\n`;
}

/** The store's entries keyed by relative file (`<sha256>/<emulator>`). */
export function readStoreManifest(paths: ArchwayPaths): Record<string, StoreEntry> {
  return Object.fromEntries(readStoreEntries(paths).map((e) => [e.file, e]));
}

function candidateOf(paths: ArchwayPaths, e: StoreEntry): EmulatorCandidate {
  return { path: join(paths.storeDir, e.file), source: 'store', preserveArgv0: false, reported: describeReported(e.reported), sha256: e.sha256, ...(e.version ? { version: e.version } : {}) };
}

/** The store's entries for `cpu`, most recently added first. */
export function storeCandidates(paths: ArchwayPaths, cpu: Cpu, entries = readStoreEntries(paths)): EmulatorCandidate[] {
  return entries
    .filter((e) => e.cpu === cpu)
    .reverse()
    .map((e) => candidateOf(paths, e));
}

/**
 * The store entry `install --source store` uses for `cpu`: the one whose sha256 is named, else the
 * most recently added. With none, a path that never exists (the caller reports "no emulator").
 * `manifest` may be a readStoreManifest() result or a readStoreEntries() list.
 */
export function storeCandidate(
  paths: ArchwayPaths,
  cpu: Cpu,
  manifest: Record<string, StoreEntry> | readonly StoreEntry[] = readStoreEntries(paths),
  opts: { sha256?: string } = {},
): EmulatorCandidate {
  const entries = Array.isArray(manifest) ? manifest : Object.values(manifest);
  const all = storeCandidates(paths, cpu, [...entries]);
  const hit = opts.sha256 ? all.find((c) => c.sha256 === opts.sha256) : all[0];
  return hit ?? { path: join(paths.storeDir, 'none', catalogEntry(cpu)!.emulator), source: 'store', preserveArgv0: false };
}
