/**
 * Every emulator Archway can point a handler at — each store entry (several versions per CPU side by
 * side) and the distribution's — with its version, sha256, reported provenance, size, and which
 * handlers and boot-time files use it; and the one resolver of what `archway emulators use ARCH WORD`
 * means (a version, a sha256 or a prefix of one, or `distro`). The CLI and the window both call these.
 * Unprivileged reads only.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { catalogEntry, nativeCpus, type Cpu } from '../../shared/arch/catalog';
import type { UseEmulator } from '../../shared/actions';
import { ArchwayError } from '../../shared/helper-protocol';
import { describeReported } from '../../shared/provenance';
import { knownRegressions, upstreamVersion, type QemuRegression } from '../../shared/qemu-regressions';
import type { Status } from '../../shared/status';
import { distroCandidates, readStoreEntries, type StoreEntry } from './emulators';
import { distroQemuVersion } from './inspect';
import { readBinfmtd } from './owners';
import type { ArchwayPaths } from './paths';

export interface ListedEmulator {
  cpu: Cpu;
  /** `qemu-aarch64` */
  emulator: string;
  source: 'store' | 'distro';
  path: string;
  /** The version its bytes carry (store, read by the helper) or the distribution's package version. */
  version?: string;
  sha256?: string;
  size?: number;
  /** Store: "reported: from IMAGE@DIGEST, QEMU x.y" / "reported: imported from FILE, …". */
  reported?: string;
  addedAt?: string;
  /** Kernel entries whose interpreter is this file. */
  handlers: string[];
  /** binfmt.d files (Archway's and others') whose rule names this file. */
  persistFiles: string[];
  /** Known regressions of its version (shared/qemu-regressions.ts). */
  regressions: QemuRegression[];
}

function sha256File(path: string): string | undefined {
  try {
    const fd = openSync(path, 'r');
    try {
      const h = createHash('sha256');
      const buf = Buffer.alloc(1 << 20);
      for (let pos = 0; ; ) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n === 0) break;
        h.update(buf.subarray(0, n));
        pos += n;
      }
      return h.digest('hex');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * The list: every store entry, then the distribution's emulators that a handler uses or that share a
 * CPU with a store entry (with `all`, every distribution emulator present). Distribution files are
 * hashed only when listed.
 */
export function listEmulators(paths: ArchwayPaths, status: Status, opts: { all?: boolean } = {}): ListedEmulator[] {
  const entries = readStoreEntries(paths);
  const handlersBy = new Map<string, string[]>();
  for (const h of status.handlers) handlersBy.set(h.rule.interpreter, [...(handlersBy.get(h.rule.interpreter) ?? []), h.name]);
  const filesBy = new Map<string, string[]>();
  for (const r of readBinfmtd(paths.binfmtdDirs).rules) filesBy.set(r.rule.interpreter, [...(filesBy.get(r.rule.interpreter) ?? []), r.file]);
  const users = (p: string) => ({ handlers: handlersBy.get(p) ?? [], persistFiles: filesBy.get(p) ?? [] });
  const out: ListedEmulator[] = entries.map((e: StoreEntry) => {
    const path = join(paths.storeDir, e.file);
    return {
      cpu: e.cpu,
      emulator: e.emulator,
      source: 'store',
      path,
      ...(e.version ? { version: e.version } : {}),
      sha256: e.sha256,
      size: e.size,
      reported: describeReported(e.reported),
      addedAt: e.addedAt,
      ...users(path),
      regressions: knownRegressions(e.version, e.cpu),
    };
  });
  const distroVersion = distroQemuVersion();
  const native = new Set(nativeCpus(status.hostMachine).filter((n) => n.native === 'yes').map((n) => n.cpu));
  const storeCpus = new Set(entries.map((e) => e.cpu));
  const seen = new Set<string>();
  for (const a of status.archs) {
    if (native.has(a.cpu)) continue;
    for (const c of distroCandidates(a.cpu)) {
      if (seen.has(c.path)) continue;
      seen.add(c.path);
      let st;
      try {
        st = statSync(c.path);
      } catch {
        continue;
      }
      const u = users(c.path);
      if (!opts.all && !u.handlers.length && !u.persistFiles.length && !storeCpus.has(a.cpu)) continue;
      const sha256 = sha256File(c.path);
      out.push({
        cpu: a.cpu,
        emulator: catalogEntry(a.cpu)!.emulator,
        source: 'distro',
        path: c.path,
        ...(distroVersion ? { version: distroVersion } : {}),
        ...(sha256 ? { sha256 } : {}),
        size: st.size,
        ...u,
        regressions: knownRegressions(distroVersion, a.cpu),
      });
    }
  }
  return out;
}

/**
 * What `use ARCH WORD` names: `distro`; a sha256 (or a prefix of at least 8 hex digits) of a store
 * entry for that CPU; or a version (`9.2.2`, or the full string the bytes carry) of exactly one store
 * entry. Anything else is refused with what is stored.
 */
export function resolveUseChoice(paths: ArchwayPaths, arch: string, word: string): { cpu: Cpu; emulator: UseEmulator; entry?: StoreEntry } {
  const cat = catalogEntry(arch);
  if (!cat) throw new ArchwayError('unknown-arch', `"${arch}" is not an architecture Archway knows`, 'Use a catalog name: aarch64, s390x, arm, … (archway status --all lists them)');
  const cpu = cat.cpu;
  if (word === 'distro') return { cpu, emulator: 'distro' };
  const mine = readStoreEntries(paths).filter((e) => e.cpu === cpu);
  const stored = () =>
    mine.length ? `stored for ${cpu}: ${mine.map((e) => `${e.version ?? 'unknown version'} (sha256 ${e.sha256.slice(0, 12)}…)`).join(', ')}` : `nothing is stored for ${cpu}`;
  let hits: StoreEntry[];
  if (/^[0-9a-f]{8,64}$/.test(word)) hits = mine.filter((e) => e.sha256.startsWith(word));
  else {
    const w = word.replace(/^v/, '');
    hits = mine.filter((e) => e.version === w || e.reported.qemuVersion === w || (upstreamVersion(w) !== undefined && upstreamVersion(e.version ?? e.reported.qemuVersion) === upstreamVersion(w) && !/\s/.test(w)));
  }
  if (hits.length === 1) return { cpu, emulator: { sha256: hits[0]!.sha256 }, entry: hits[0]! };
  if (hits.length > 1) {
    throw new ArchwayError('bad-request', `"${word}" names ${hits.length} stored ${cat.emulator} emulators`, `Name one by its sha256: ${hits.map((e) => e.sha256).join(', ')}`);
  }
  throw new ArchwayError('no-emulator', `no stored ${cat.emulator} matches "${word}" (${stored()})`, `Give a version or sha256 from: archway emulators list; or add one: archway emulators fetch ${cpu} / archway emulators import FILE`);
}
