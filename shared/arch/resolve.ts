/**
 * Turn what a person types ("arm64", "aarch64", "linux/arm/v7", "mips64le", "all") into catalog
 * entries. Pure.
 */
import { CATALOG, DOCKER_PLATFORMS, catalogEntry, nativeCpus, type CatalogEntry, type Cpu } from './catalog';

export class UnknownArchError extends Error {
  readonly code = 'unknown-arch';
  constructor(
    readonly input: string,
    readonly suggestion?: string,
  ) {
    super(
      `unknown architecture "${input}"` +
        (suggestion ? ` — did you mean "${suggestion}"?` : '') +
        ' Run `archway status` to list every architecture.',
    );
  }
}

const ALIAS_TO_CPU = new Map<string, Cpu>();
for (const e of CATALOG) {
  ALIAS_TO_CPU.set(e.cpu, e.cpu);
  for (const a of e.aliases) ALIAS_TO_CPU.set(a, e.cpu);
}
for (const p of DOCKER_PLATFORMS) {
  ALIAS_TO_CPU.set(p.platform.slice('linux/'.length), p.cpu);
}

function normalise(name: string): string {
  let n = name.trim().toLowerCase();
  if (n.startsWith('linux/')) n = n.slice('linux/'.length);
  if (n.startsWith('qemu-')) n = n.slice('qemu-'.length);
  if (n.endsWith('-static')) n = n.slice(0, -'-static'.length);
  return n;
}

/** Edit distance (Levenshtein), for "did you mean". */
export function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
    }
  }
  return d[a.length]![b.length]!;
}

function suggest(n: string): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const alias of ALIAS_TO_CPU.keys()) {
    const dd = distance(n, alias);
    if (dd < bestD) {
      bestD = dd;
      best = alias;
    }
  }
  return best;
}

/** One name -> one catalog entry. Throws UnknownArchError with a suggestion. */
export function resolveOne(name: string): CatalogEntry {
  const n = normalise(name);
  const cpu = ALIAS_TO_CPU.get(n);
  if (!cpu) throw new UnknownArchError(name, suggest(n));
  return catalogEntry(cpu)!;
}

export interface ResolveOptions {
  /** Host `uname -m`: `all` leaves out what the host runs natively. */
  hostMachine?: string;
  /** `all` means every catalog CPU (default), or only those with a Docker platform. */
  allScope?: 'catalog' | 'docker';
}

/**
 * Several names (with "all") -> unique catalog entries, in catalog order. `all` skips CPUs the host
 * runs natively for sure ("yes"), as QEMU's script skips the host family.
 */
export function resolveArchs(names: readonly string[], opts: ResolveOptions = {}): CatalogEntry[] {
  const wanted = new Set<Cpu>();
  for (const name of names) {
    if (normalise(name) === 'all') {
      const native = new Set(
        nativeCpus(opts.hostMachine ?? '')
          .filter((n) => n.native === 'yes')
          .map((n) => n.cpu),
      );
      for (const e of CATALOG) {
        if (native.has(e.cpu)) continue;
        if (opts.allScope === 'docker' && e.platforms.length === 0) continue;
        wanted.add(e.cpu);
      }
    } else {
      wanted.add(resolveOne(name).cpu);
    }
  }
  return CATALOG.filter((e) => wanted.has(e.cpu));
}

/** "linux/arm/v7" or "arm64" -> the Docker platform record. */
export function resolvePlatform(name: string) {
  const n = name.trim().toLowerCase();
  const full = n.startsWith('linux/') ? n : `linux/${n}`;
  const exact = DOCKER_PLATFORMS.find((p) => p.platform === full);
  if (exact) return exact;
  const cpu = resolveOne(name).cpu;
  const p = DOCKER_PLATFORMS.find((x) => x.cpu === cpu);
  if (!p) throw new UnknownArchError(name);
  return p;
}
