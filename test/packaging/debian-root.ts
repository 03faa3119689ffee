/**
 * A throw-away Debian 12 root (debootstrap --variant=minbase bookworm) for installing Archway's
 * package for real, and the way to run commands inside it.
 *
 * debootstrap takes about half a minute and needs the Debian mirror, so the base root is cached as
 * a tarball under ARCHWAY_TEST_CACHE (default /var/cache/archway-test), with a JSON record of what
 * it is: suite, variant, mirror, debootstrap version, creation time, the tarball's sha256 (checked
 * on every use) and the packages inside. It is rebuilt when any of those inputs change or it is
 * older than MAX_AGE_DAYS (its apt lists go stale). The cached root has apt lists and the .debs of
 * Debian's nodejs downloaded (not installed), so the test's `apt-get -f install` resolves the
 * package's dependencies for real without depending on the mirror on every run.
 *
 * Commands run in a private mount namespace (unshare --mount): /proc is bind-mounted from the host
 * with binfmt_misc (when the host has it) made read-only, and every mount disappears with the
 * process, even when a test fails half-way.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SUITE = 'bookworm';
export const VARIANT = 'minbase';
/** Tools the test uses inside the root (not dependencies of the package). */
export const INCLUDE = ['man-db', 'bash-completion'];
/** Downloaded, not installed: what `apt-get -f install` will need for archway's Depends. */
export const PREFETCH = ['nodejs'];
export const MAX_AGE_DAYS = 14;
export const CACHE_DIR = process.env.ARCHWAY_TEST_CACHE ?? '/var/cache/archway-test';

export interface BaseRecord {
  suite: string;
  variant: string;
  mirror: string;
  include: string[];
  prefetch: string[];
  debootstrap: string;
  created: string;
  sha256: string;
  bytes: number;
  packages: string[];
}

function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
}
function must(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}\n${r.stdout}`.slice(0, 8000));
  return r.stdout;
}

/** The Debian mirror this machine's apt uses (its sources.list or deb822 .sources), else deb.debian.org. */
export function debianMirror(): string {
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f)) : [])];
  for (const f of files) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/(?:^URIs:\s*|^deb\s+(?:\[[^\]]*\]\s+)?)(https?:\/\/\S+)/gm)) {
      const uri = m[1]!.replace(/\/$/, '');
      if (/\/debian$/.test(uri)) return uri;
    }
  }
  return 'http://deb.debian.org/debian';
}

export function debootstrapVersion(): string {
  return must('dpkg-query', ['-W', '-f=${Version}', 'debootstrap']).trim();
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function cacheKey(mirror: string, dbs: string): string {
  return createHash('sha256').update(JSON.stringify({ SUITE, VARIANT, INCLUDE, PREFETCH, mirror, dbs })).digest('hex').slice(0, 16);
}

/** Run a shell command inside `root`, in a private mount namespace with the host's /proc (binfmt_misc read-only). */
export interface InRootOptions {
  input?: string;
  env?: Record<string, string>;
  /**
   * Mount this kernel's binfmt_misc read-only inside the command's own mount namespace (when the
   * host has it unmounted): the chroot then reads the host's table; nothing on the host changes.
   */
  mountBinfmt?: boolean;
}
export function inRoot(root: string, command: string, opts: InRootOptions = {}): SpawnSyncReturns<string> {
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8', TERM: 'dumb', DEBIAN_FRONTEND: 'noninteractive', ...opts.env };
  const setup = [
    'set -e',
    'mount --rbind /proc "$R/proc"',
    // apt wants a pseudo-terminal for its log: a private devpts instance.
    'mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts" || true',
    // The host's binfmt_misc, when mounted, is seen but cannot be changed from inside.
    'if mountpoint -q "$R/proc/sys/fs/binfmt_misc"; then mount -o remount,bind,ro "$R/proc/sys/fs/binfmt_misc";',
    `elif [ "${opts.mountBinfmt ? 1 : 0}" = 1 ]; then mount -t binfmt_misc -o ro,nosuid,nodev,noexec binfmt_misc "$R/proc/sys/fs/binfmt_misc"; fi`,
    'exec chroot "$R" /usr/bin/env -i "$@" /bin/sh -c "$CMD"',
  ].join('\n');
  return run('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', setup, 'in-root', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)], {
    input: opts.input,
    env: { ...process.env, R: root, CMD: command },
  });
}
export function mustInRoot(root: string, command: string, opts: InRootOptions = {}): string {
  const r = inRoot(root, command, opts);
  if (r.status !== 0) throw new Error(`in the Debian root: ${command} exited ${r.status ?? r.signal}:\n${r.stderr}\n${r.stdout}`.slice(0, 8000));
  return r.stdout;
}

/** Build (or reuse) the cached base tarball; returns its path and record. */
export async function cachedBase(log: (s: string) => void = () => {}): Promise<{ tar: string; record: BaseRecord }> {
  const mirror = debianMirror();
  const dbs = debootstrapVersion();
  const key = cacheKey(mirror, dbs);
  const tar = join(CACHE_DIR, `debian-${SUITE}-${VARIANT}-${key}.tar`);
  const recordFile = `${tar}.json`;
  if (existsSync(tar) && existsSync(recordFile)) {
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as BaseRecord;
    const age = (Date.now() - Date.parse(record.created)) / 86_400_000;
    if (age < MAX_AGE_DAYS && (await sha256(tar)) === record.sha256) return { tar, record };
    log(`cached Debian root ${tar} is ${age > MAX_AGE_DAYS ? 'older than ' + MAX_AGE_DAYS + ' days' : 'corrupt (sha256 differs)'}: rebuilding`);
  }
  mkdirSync(join(CACHE_DIR, 'debs'), { recursive: true });
  const work = mkdtempSync(join(CACHE_DIR, 'build-'));
  try {
    const root = join(work, 'root');
    log(`debootstrap --variant=${VARIANT} ${SUITE} from ${mirror} (debootstrap ${dbs})`);
    must('debootstrap', [`--variant=${VARIANT}`, `--include=${INCLUDE.join(',')}`, `--cache-dir=${join(CACHE_DIR, 'debs')}`, SUITE, root, mirror]);
    writeFileSync(join(root, 'etc/resolv.conf'), readFileSync('/etc/resolv.conf'));
    mustInRoot(root, 'apt-get update -q');
    mustInRoot(root, `apt-get install -q -y --download-only --no-install-recommends ${PREFETCH.join(' ')}`);
    const packages = mustInRoot(root, "dpkg-query -W -f='${Package}=${Version}\\n'").trim().split('\n').sort();
    const tmpTar = join(work, 'base.tar');
    must('tar', ['--numeric-owner', '-C', root, '-cf', tmpTar, '.']);
    const record: BaseRecord = {
      suite: SUITE,
      variant: VARIANT,
      mirror,
      include: INCLUDE,
      prefetch: PREFETCH,
      debootstrap: dbs,
      created: new Date().toISOString(),
      sha256: await sha256(tmpTar),
      bytes: Number(must('stat', ['-c', '%s', tmpTar]).trim()),
      packages,
    };
    renameSync(tmpTar, tar);
    writeFileSync(recordFile, `${JSON.stringify(record, null, 2)}\n`);
    return { tar, record };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A fresh root from the cached base, in a new folder under /var/tmp. */
export function unpackRoot(tar: string): string {
  const dir = mkdtempSync('/var/tmp/archway-debian-');
  must('tar', ['--numeric-owner', '-C', dir, '-xf', tar]);
  return dir;
}
