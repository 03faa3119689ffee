/** Where emulators come from: the distribution's static QEMU, or Archway's own store. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG, type Cpu, catalogEntry } from '../../shared/arch/catalog';
import type { ArchwayPaths } from './paths';

export type EmulatorSource = 'distro' | 'store';

export interface EmulatorCandidate {
  path: string;
  source: EmulatorSource;
  /** Debian's `<cpu>-binfmt-P` wrapper: QEMU expects the P flag (argv[0] preserved). */
  preserveArgv0: boolean;
  version?: string;
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

export interface StoreManifestEntry {
  file: string;
  image?: string;
  digest?: string;
  qemuVersion?: string;
  sha256?: string;
  addedAt?: string;
}

export function readStoreManifest(paths: ArchwayPaths): Record<string, StoreManifestEntry> {
  try {
    const parsed = JSON.parse(readFileSync(join(paths.storeDir, 'manifest.json'), 'utf8')) as {
      emulators?: Record<string, StoreManifestEntry>;
    };
    return parsed.emulators ?? {};
  } catch {
    return {};
  }
}

export function storeCandidate(paths: ArchwayPaths, cpu: Cpu, manifest = readStoreManifest(paths)): EmulatorCandidate {
  const name = catalogEntry(cpu)!.emulator;
  const m = manifest[name];
  return {
    path: join(paths.storeDir, name),
    source: 'store',
    preserveArgv0: false,
    ...(m?.qemuVersion ? { version: m.qemuVersion } : {}),
  };
}

/** Emulators present on disk for every CPU (existence only; the helper verifies before use). */
export function availableEmulators(paths: ArchwayPaths): Partial<Record<Cpu, EmulatorCandidate[]>> {
  const manifest = readStoreManifest(paths);
  const out: Partial<Record<Cpu, EmulatorCandidate[]>> = {};
  for (const c of CATALOG) {
    const found = [...distroCandidates(c.cpu), storeCandidate(paths, c.cpu, manifest)].filter((x) => existsSync(x.path));
    if (found.length > 0) out[c.cpu] = found;
  }
  return out;
}
