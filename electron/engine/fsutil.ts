/** Small, careful file primitives for the engine and the helper. */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync, constants } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ArchwayError } from '../../shared/helper-protocol';

/**
 * Write a file atomically: temp file in the same directory, fsync, rename over the old one, fsync
 * the directory. On any failure the old file is untouched and the temp file removed.
 */
export function atomicWrite(path: string, data: string | Uint8Array, mode = 0o644): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw ioError(err, `create ${dir}`);
  }
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* may not exist */
    }
    throw ioError(err, `write ${path}`);
  }
  fsyncDir(dir);
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function removeFile(path: string): boolean {
  try {
    unlinkSync(path);
    fsyncDir(dirname(path));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError(err, `remove ${path}`);
  }
}

const ERRNO_WORDS: Record<string, string> = {
  EROFS: 'the filesystem is read-only',
  ENOSPC: 'the disk is full',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  EEXIST: 'it already exists',
  EINVAL: 'the kernel refused it as invalid',
  EDQUOT: 'the disk quota is exhausted',
};

export function ioError(err: unknown, what: string): ArchwayError {
  if (err instanceof ArchwayError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const words = ERRNO_WORDS[code] ?? (err as Error).message;
  const hint =
    code === 'EROFS' || code === 'ENOSPC' || code === 'EDQUOT'
      ? 'Nothing was changed. Free space or remount read-write, then try again.'
      : code === 'EACCES' || code === 'EPERM'
        ? 'This needs root: Archway asks for it through pkexec, or run with sudo.'
        : undefined;
  return new ArchwayError('io-error', `could not ${what}: ${words}${code ? ` (${code})` : ''}`, hint);
}
