/**
 * Images: inspect, pull one platform with progress, list the platforms a registry offers, and
 * resolve "this image for that platform" to an image ID — one pull at a time per reference, because
 * in the classic image store a tag holds a single platform and concurrent pulls of one tag race.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DockerPlatform } from '../../shared/arch/catalog';
import { formatPlatform, imageMatchesPlatform, type PullProgress } from '../../shared/probe';
import { call, callStream, type ContainerTarget } from './api';
import { ContainerEngineError } from './errors';
import { PullTracker, type PullMessage } from './pull-progress';

export interface ImageFacts {
  id: string;
  os: string;
  architecture: string;
  variant?: string;
  repoTags: string[];
  repoDigests: string[];
}

export function imagePlatformName(i: ImageFacts): string {
  return formatPlatform({ os: i.os, architecture: i.architecture, variant: i.variant });
}

/** A pull that failed for registry reasons (not found, auth, offline) — not an engine failure. */
export class PullFailed extends Error {
  readonly code = 'pull-failed';
}

interface InspectJson {
  Id: string;
  Os?: string;
  Architecture?: string;
  Variant?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
}

export async function inspectImage(t: ContainerTarget, ref: string, signal?: AbortSignal): Promise<ImageFacts | undefined> {
  try {
    const j = await call<InspectJson>(t, {
      method: 'GET',
      path: `/images/${encodeURIComponent(ref)}/json`,
      doing: `inspecting image ${ref}`,
      timeoutMs: 15_000,
      ...(signal ? { signal } : {}),
    });
    return {
      id: j.Id,
      os: j.Os ?? 'linux',
      architecture: j.Architecture ?? '',
      ...(j.Variant ? { variant: j.Variant } : {}),
      repoTags: j.RepoTags ?? [],
      repoDigests: j.RepoDigests ?? [],
    };
  } catch (err) {
    if (err instanceof ContainerEngineError && err.code === 'not-found') return undefined;
    throw err;
  }
}

/** `repo[:tag][@digest]` -> { repo, tag } where tag is the tag or the digest (the pull API's `tag`). */
export function splitReference(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf('@');
  if (at >= 0) {
    const name = ref.slice(0, at);
    const slash = name.lastIndexOf('/');
    const colon = name.lastIndexOf(':');
    return { repo: colon > slash ? name.slice(0, colon) : name, tag: ref.slice(at + 1) };
  }
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}

export interface PullOptions {
  signal?: AbortSignal;
  /** Give up when the engine reports nothing for this long (default 120 s). */
  idleTimeoutMs?: number;
  onProgress?: (p: PullProgress) => void;
}

/** Pull one platform of an image. Throws PullFailed for registry problems, ContainerEngineError otherwise. */
export async function pullImage(t: ContainerTarget, ref: string, platform: string, opts: PullOptions = {}): Promise<{ digest?: string }> {
  const { repo, tag } = splitReference(ref);
  const idle = opts.idleTimeoutMs ?? 120_000;
  const local = new AbortController();
  const onAbort = () => local.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      local.abort();
    }, idle);
  };
  try {
    arm();
    let res;
    try {
      res = await callStream(t, {
        method: 'POST',
        path: '/images/create',
        query: { fromImage: repo, tag, platform },
        doing: `pulling ${ref} for ${platform}`,
        timeoutMs: idle,
        signal: local.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      if (err instanceof ContainerEngineError && err.statusCode !== undefined) throw new PullFailed(err.detail ?? err.message);
      throw err;
    }
    const tracker = new PullTracker();
    let buf = '';
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        arm();
        buf += chunk.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          let msg: PullMessage;
          try {
            msg = JSON.parse(line) as PullMessage;
          } catch {
            continue;
          }
          const p = tracker.push(msg);
          if (p) opts.onProgress?.(p);
        }
      }
    } catch (err) {
      if (opts.signal?.aborted) throw new ContainerEngineError('cancelled', `cancelled while pulling ${ref}`);
      if (stalled) throw new PullFailed(`no progress from the engine for ${Math.round(idle / 1000)} s while pulling ${ref}`);
      throw new ContainerEngineError('connection-lost', `the engine at ${t.endpointName} closed the connection while pulling ${ref}: ${(err as Error).message}`);
    }
    if (opts.signal?.aborted) throw new ContainerEngineError('cancelled', `cancelled while pulling ${ref}`);
    if (stalled) throw new PullFailed(`no progress from the engine for ${Math.round(idle / 1000)} s while pulling ${ref}`);
    if (tracker.error) throw new PullFailed(tracker.error);
    return tracker.digest ? { digest: tracker.digest } : {};
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** Platforms an image offers: from the registry (GET /distribution/{name}/json), else the local copy. */
export async function imagePlatforms(
  t: ContainerTarget,
  ref: string,
  signal?: AbortSignal,
): Promise<{ platforms: string[]; source: 'registry' | 'local'; digest?: string; registryError?: string }> {
  let registryError: string | undefined;
  try {
    const j = await call<{ Descriptor?: { digest?: string }; Platforms?: { os?: string; architecture?: string; variant?: string }[] }>(t, {
      method: 'GET',
      path: `/distribution/${ref}/json`,
      doing: `asking the registry which platforms ${ref} offers`,
      timeoutMs: 20_000,
      ...(signal ? { signal } : {}),
    });
    const platforms = (j.Platforms ?? [])
      .filter((p) => p.architecture && p.architecture !== 'unknown')
      .map((p) => formatPlatform({ os: p.os ?? 'linux', architecture: p.architecture!, variant: p.variant }));
    if (platforms.length > 0) return { platforms: [...new Set(platforms)], source: 'registry', ...(j.Descriptor?.digest ? { digest: j.Descriptor.digest } : {}) };
  } catch (err) {
    if (signal?.aborted) throw err;
    registryError = (err as Error).message;
  }
  const local = await inspectImage(t, ref, signal);
  return { platforms: local ? [imagePlatformName(local)] : [], source: 'local', ...(registryError ? { registryError } : {}) };
}

// In-process serialisation per image reference: pull + inspect of one tag never interleave.
const locks = new Map<string, Promise<unknown>>();

export async function withRefLock<T>(ref: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(ref) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  locks.set(ref, tail);
  try {
    return await run;
  } finally {
    if (locks.get(ref) === tail) locks.delete(ref);
  }
}

export type PullPolicy = 'missing' | 'always' | 'never';

const NO_SUCH_PLATFORM = /no matching manifest|does not provide the specified platform|no match for platform/i;

export type Resolution =
  | { kind: 'ok'; image: ImageFacts; pulled: boolean }
  /** Only another platform is available locally (and pulling did not help). */
  | { kind: 'mismatch'; image: ImageFacts; pullError?: string }
  | { kind: 'pull-failed'; message: string };

/** Looks like an image ID (sha256:… or a hex prefix): never pulled. */
export function isImageId(ref: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(ref) || /^[0-9a-f]{12,64}$/.test(ref);
}

/**
 * Remembers which image ID a platform of a multi-platform image resolved to, keyed by the
 * registry's index digest. Image IDs are content hashes, so a remembered ID that still exists in
 * the engine is exactly what pulling again would give: an unchanged image needs no pull at all.
 */
export interface PlatformImageCache {
  get(key: string): string | undefined;
  set(key: string, imageId: string): void;
}

export function cacheKey(ref: string, indexDigest: string, platform: string): string {
  return `${ref}|${indexDigest}|${platform}`;
}

export function memoryImageCache(limit = 1000): PlatformImageCache {
  const m = new Map<string, string>();
  return {
    get: (k) => m.get(k),
    set: (k, v) => {
      m.delete(k);
      m.set(k, v);
      if (m.size > limit) m.delete(m.keys().next().value!);
    },
  };
}

/**
 * A cache kept in a JSON file (for the CLI, whose process ends after each run). Best effort: an
 * unreadable or unwritable file only means pulling again.
 */
export function fileImageCache(file: string, limit = 1000): PlatformImageCache {
  const mem = memoryImageCache(limit);
  const entries: [string, string][] = [];
  try {
    const j = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (j && typeof j === 'object') {
      for (const [k, v] of Object.entries(j as Record<string, unknown>)) if (typeof v === 'string' && /^sha256:[0-9a-f]{64}$/.test(v)) entries.push([k, v]);
    }
  } catch {
    // no cache yet
  }
  for (const [k, v] of entries.slice(-limit)) mem.set(k, v);
  const all = new Map(entries.slice(-limit));
  return {
    get: (k) => mem.get(k),
    set: (k, v) => {
      mem.set(k, v);
      all.delete(k);
      all.set(k, v);
      while (all.size > limit) all.delete(all.keys().next().value!);
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(Object.fromEntries(all)), { mode: 0o600 });
        fs.renameSync(tmp, file);
      } catch {
        // best effort
      }
    },
  };
}

/** `$XDG_CACHE_HOME/archway/probe-images.json` (default ~/.cache/…). */
export function defaultImageCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(env.HOME || '/nonexistent', '.cache'), 'archway', 'probe-images.json');
}

export interface ResolveOptions extends PullOptions {
  /** The registry's current index digest for `ref` (from imagePlatforms), enabling `cache`. */
  indexDigest?: string;
  cache?: PlatformImageCache;
}

/**
 * Find (pulling if the policy allows) `ref` for `platform` and return its image ID. Serialised per
 * reference. Throws ContainerEngineError for engine failures; registry failures are a Resolution.
 */
export function resolveImage(
  t: ContainerTarget,
  ref: string,
  platform: DockerPlatform,
  policy: PullPolicy,
  opts: ResolveOptions = {},
): Promise<Resolution> {
  return withRefLock(ref, async () => {
    const before = policy === 'always' ? undefined : await inspectImage(t, ref, opts.signal);
    if (before && imageMatchesPlatform(platform, before)) return { kind: 'ok', image: before, pulled: false };
    if (policy !== 'always' && opts.cache && opts.indexDigest) {
      const id = opts.cache.get(cacheKey(ref, opts.indexDigest, platform.platform));
      const known = id ? await inspectImage(t, id, opts.signal) : undefined;
      if (known && imageMatchesPlatform(platform, known)) return { kind: 'ok', image: known, pulled: false };
    }
    if (policy === 'never' || isImageId(ref)) {
      if (before) return { kind: 'mismatch', image: before };
      return { kind: 'pull-failed', message: `${ref} is not present locally${policy === 'never' ? ' and pulling is off (--pull never)' : ''}` };
    }
    let pulledDigest: string | undefined;
    try {
      pulledDigest = (await pullImage(t, ref, platform.platform, opts)).digest;
    } catch (err) {
      if (!(err instanceof PullFailed)) throw err;
      // The registry answered that the image lacks this platform: that is the answer, whatever is local.
      if (before && !NO_SUCH_PLATFORM.test(err.message)) return { kind: 'mismatch', image: before, pullError: err.message };
      return { kind: 'pull-failed', message: err.message };
    }
    const after = await inspectImage(t, ref, opts.signal);
    if (!after) return { kind: 'pull-failed', message: `${ref} was pulled but the engine cannot find it` };
    if (!imageMatchesPlatform(platform, after)) return { kind: 'mismatch', image: after };
    const digest = pulledDigest ?? opts.indexDigest;
    if (opts.cache && digest) opts.cache.set(cacheKey(ref, digest, platform.platform), after.id);
    return { kind: 'ok', image: after, pulled: true };
  });
}

/** Point `repo:tag` at an image ID (used to put a tag back where it was). */
export async function tagImage(t: ContainerTarget, id: string, ref: string, signal?: AbortSignal): Promise<void> {
  const { repo, tag } = splitReference(ref);
  await call(t, {
    method: 'POST',
    path: `/images/${encodeURIComponent(id)}/tag`,
    query: { repo, tag },
    doing: `tagging ${ref}`,
    timeoutMs: 15_000,
    ...(signal ? { signal } : {}),
  });
}

/** Load a docker-archive tar (what `docker save` writes) into the engine. */
export async function loadImage(t: ContainerTarget, tarPath: string, signal?: AbortSignal): Promise<string[]> {
  const res = await callStream(t, {
    method: 'POST',
    path: '/images/load',
    query: { quiet: true },
    file: tarPath,
    doing: `loading ${tarPath}`,
    timeoutMs: 120_000,
    ...(signal ? { signal } : {}),
  });
  let text = '';
  for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString('utf8');
  const loaded: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const msg = JSON.parse(line) as { stream?: string; error?: string };
    if (msg.error) throw new ContainerEngineError('engine-refused', `loading ${tarPath}: ${msg.error}`);
    const m = /Loaded image(?: ID)?: (\S+)/.exec(msg.stream ?? '');
    if (m) loaded.push(m[1]!);
  }
  return loaded;
}
