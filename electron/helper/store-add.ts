/**
 * store-add: copy an emulator (extracted by an unprivileged process) into Archway's root-owned,
 * content-addressed store. The trust rule, in the order it is checked:
 *
 * 1. The path is opened without following it (O_PATH|O_NOFOLLOW) and must be a regular file:
 *    symlinks, devices, FIFOs and sockets are refused before they are ever opened for reading.
 * 2. Only what the caller could read themselves: the file is owned by the caller or root (root's
 *    only when world-readable), and every directory above its real path is searchable by the
 *    caller (modes and owners checked against the caller's uid; group membership is not assumed).
 * 3. The same inode is then opened for reading (O_NONBLOCK|O_NOCTTY): it must be an ELF program for
 *    this host (shared/elf hostProgramProblem: machine, class, byte order, EXEC/DYN, static).
 * 4. Its bytes are hashed in bounded chunks; anything but the sha256 the request names (the digest
 *    the administrator approved in the plan) is refused. Apply opens and checks the file again,
 *    copies it into a temporary file in the store while hashing again, fsyncs it and renames it to
 *    `<store>/<sha256>/qemu-<cpu>` only if the digest still matches. An existing entry is never
 *    replaced, so a store path names its bytes for good.
 * 5. Size is capped per file and per request. The caller's provenance is recorded as reported.
 */
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readlinkSync, readSync, renameSync, unlinkSync, writeSync, chmodSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { catalogEntry } from '../../shared/arch/catalog';
import { describeHostProgramProblem, ELF_PROBE_BYTES, hostProgramProblem, parseElf } from '../../shared/elf';
import { ArchwayError, type HelperOp, type OpResult } from '../../shared/helper-protocol';
import { describeReported } from '../../shared/provenance';
import { QemuVersionScanner } from '../../shared/qemu-version';
import { cleanText } from '../../shared/sanitize';
import { readStoreEntries, storeManifestText, storeRelPath, STORE_MANIFEST, type StoreEntry } from '../engine/emulators';
import { atomicWrite, fsyncDir, randomHex } from '../engine/fsutil';
import { cpuOf, type HelperContext, type Planned } from './ops';

/** Biggest emulator the store takes (QEMU's static user-mode programs are 5–30 MB). */
export const MAX_STORE_FILE = 64 * 1024 * 1024;
/** Bytes one request may bring into the store, all its store-add operations together. */
export const MAX_STORE_REQUEST = 256 * 1024 * 1024;
const CHUNK = 1024 * 1024;
/** The kernel's limit on a binfmt_misc interpreter path. */
const MAX_INTERPRETER = 127;
/** Linux O_PATH: a handle on the inode that reads nothing and opens no device. */
const O_PATH = 0o10000000;

/** Bytes planned so far, per request (the engine and the helper make one context per request). */
const planned = new WeakMap<HelperContext, number>();

const show = (p: string) => JSON.stringify(cleanText(p).slice(0, 200));

function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/**
 * Could uid `caller` read `real` (a regular file described by `st`) on their own? Decided from
 * owners and modes, never by asking the kernel as root. Throws 'not-readable'.
 */
export function checkCallerCanRead(real: string, st: Pick<Stats, 'uid' | 'mode'>, caller: number, lstat: (p: string) => Pick<Stats, 'uid' | 'mode' | 'isDirectory'> = lstatSync): void {
  if (caller === 0) return;
  const hint = 'Store a file you own (archway emulators fetch extracts into a private directory of yours).';
  if (st.uid !== caller && st.uid !== 0) {
    throw new ArchwayError('not-readable', `${show(real)} belongs to uid ${st.uid}: only a file you own, or root's, can be stored`, hint);
  }
  if (st.uid === caller ? (st.mode & 0o400) === 0 : (st.mode & 0o004) === 0) {
    throw new ArchwayError('not-readable', `${show(real)} is not readable by uid ${caller} (mode ${(st.mode & 0o7777).toString(8)}, owner ${st.uid})`, hint);
  }
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    let d: Pick<Stats, 'uid' | 'mode' | 'isDirectory'>;
    try {
      d = lstat(dir);
    } catch (err) {
      throw new ArchwayError('not-readable', `cannot inspect ${show(dir)}: ${(err as Error).message}`);
    }
    if (!d.isDirectory()) throw new ArchwayError('not-readable', `${show(dir)} is not a directory`);
    const searchable = d.uid === caller ? (d.mode & 0o100) !== 0 : (d.mode & 0o001) !== 0;
    if (!searchable) {
      throw new ArchwayError(
        'not-readable',
        `${show(dir)} (owner ${d.uid}, mode ${(d.mode & 0o7777).toString(8)}) is not open to uid ${caller}: a file inside another user's private directory is not yours to store`,
        hint,
      );
    }
    if (dir === '/') return;
  }
}

interface Opened {
  fd: number;
  real: string;
  size: number;
}

/** Steps 1–3: a readable handle on a regular file the caller could read, that is a program for this host. */
function openForStore(file: string, ctx: HelperContext): Opened {
  if (!file.startsWith('/') || posix.normalize(file) !== file) {
    throw new ArchwayError('unsafe-interpreter', `${show(file)} is not a canonical absolute path`, 'Give the full path, without "." or "..".');
  }
  let handle: number;
  try {
    handle = openSync(file, O_PATH | constants.O_NOFOLLOW);
  } catch (err) {
    throw new ArchwayError('not-found', `cannot open ${show(file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let fd: number | undefined;
  try {
    const st = fstatSync(handle);
    if (!st.isFile()) throw new ArchwayError('unsafe-interpreter', `${show(file)} is ${kindOf(st)}: the store takes regular files only`, 'Store the emulator file itself.');
    const real = readlinkSync(`/proc/self/fd/${handle}`);
    if (!real.startsWith('/') || real.endsWith(' (deleted)')) throw new ArchwayError('not-found', `${show(file)} was removed while it was being checked`);
    checkCallerCanRead(real, st, ctx.callerUid);
    // Reopen the very inode checked above (not the path, which may have been swapped since).
    fd = openSync(`/proc/self/fd/${handle}`, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    const st2 = fstatSync(fd);
    if (st2.dev !== st.dev || st2.ino !== st.ino || !st2.isFile()) throw new ArchwayError('unsafe-interpreter', `${show(file)} changed while it was being checked`);
    if (st2.size > MAX_STORE_FILE) throw new ArchwayError('unsafe-interpreter', `${show(file)} is ${st2.size} bytes; the store takes emulators up to ${MAX_STORE_FILE} bytes`);
    const head = Buffer.alloc(ELF_PROBE_BYTES);
    const n = readSync(fd, head, 0, head.length, 0);
    const problem = hostProgramProblem(parseElf(head.subarray(0, n)), ctx.host.elf);
    if (problem) {
      throw new ArchwayError(
        problem.kind === 'dynamic' ? 'dynamic-interpreter' : 'unsafe-interpreter',
        `${describeHostProgramProblem(show(file), problem)}; the store takes only static emulators for this host`,
        'Fetch the emulator with: archway emulators fetch <arch>',
      );
    }
    const out = { fd, real, size: st2.size };
    fd = undefined;
    return out;
  } finally {
    closeSync(handle);
    if (fd !== undefined) closeSync(fd);
  }
}

/** Hash the open file in bounded chunks, optionally writing each chunk to `outFd`. Refuses growth past the cap. */
function hashFile(fd: number, file: string, outFd?: number): { sha256: string; size: number; version?: string } {
  // node:crypto only when an emulator is stored (its loading costs every change ≈5 ms on Node 24).
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  const hash = createHash('sha256');
  // The version string the bytes carry, read on the same pass (never by running the program).
  const version = new QemuVersionScanner();
  const buf = Buffer.alloc(CHUNK);
  let pos = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    pos += n;
    if (pos > MAX_STORE_FILE) throw new ArchwayError('unsafe-interpreter', `${show(file)} grew past ${MAX_STORE_FILE} bytes while it was read`);
    hash.update(buf.subarray(0, n));
    version.push(buf.subarray(0, n));
    if (outFd !== undefined) {
      let off = 0;
      while (off < n) off += writeSync(outFd, buf, off, n - off);
    }
  }
  const v = version.result();
  return { sha256: hash.digest('hex'), size: pos, ...(v ? { version: v } : {}) };
}

function mismatch(file: string, got: string, want: string): ArchwayError {
  return new ArchwayError(
    'content-mismatch',
    `${show(file)} has sha256 ${got}, not the ${want} the plan showed; nothing was stored`,
    'The file changed after the plan was made: fetch the emulator again and approve the new plan.',
  );
}

export function planStoreAdd(
  op: Extract<HelperOp, { op: 'store-add' }>,
  ctx: HelperContext,
  audit: (r: OpResult, before: string | null, after: string | null) => void,
): Planned {
  const cpu = cpuOf(op.arch);
  const emu = catalogEntry(cpu)!.emulator;
  const opened = openForStore(op.file, ctx);
  let version: string | undefined;
  try {
    const total = (planned.get(ctx) ?? 0) + opened.size;
    if (total > MAX_STORE_REQUEST) {
      throw new ArchwayError('bad-request', `this request would bring ${total} bytes into the store; one request takes at most ${MAX_STORE_REQUEST}`, 'Fetch fewer emulators at a time.');
    }
    planned.set(ctx, total);
    const first = hashFile(opened.fd, op.file);
    if (first.sha256 !== op.sha256) throw mismatch(op.file, first.sha256, op.sha256);
    version = first.version;
  } finally {
    closeSync(opened.fd);
  }
  const rel = storeRelPath(op.sha256, emu);
  const target = join(ctx.paths.storeDir, rel);
  if (target.length > MAX_INTERPRETER) {
    // Only a long ARCHWAY_ROOT does this (the real store path is at most 108 characters).
    throw new ArchwayError('invalid-rule', `the store path ${show(target)} would be ${target.length} characters; the kernel takes interpreters of at most ${MAX_INTERPRETER}`, 'Use a shorter ARCHWAY_ROOT.');
  }
  const reported = describeReported(op.provenance);
  const base: OpResult = {
    op: 'store-add',
    arch: cpu,
    ok: true,
    changed: true,
    message: `store ${emu} (${opened.size} bytes, sha256 ${op.sha256}) as ${target}; ${version ? `its bytes say QEMU ${version}; ` : ''}${reported}`,
    files: [target],
  };
  return {
    result: base,
    apply: async () => {
      // Opened and checked again: the plan's handle is not kept (a dry run in a long-lived process
      // would leak it), and whatever the path names now must pass every check and hash the same.
      const again = openForStore(op.file, ctx);
      try {
        const dir = join(ctx.paths.storeDir, op.sha256);
        mkdirSync(dir, { recursive: true, mode: 0o755 });
        let exists = false;
        try {
          const st = lstatSync(target);
          exists = st.isFile() && st.uid === 0;
        } catch {
          /* new entry */
        }
        if (!exists) {
          const tmp = join(ctx.paths.storeDir, `.${emu}.${randomHex(6)}.tmp`);
          const out = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
          try {
            const copied = hashFile(again.fd, op.file, out);
            if (copied.sha256 !== op.sha256) throw mismatch(op.file, copied.sha256, op.sha256);
            fsyncSync(out);
            closeSync(out);
            chmodSync(tmp, 0o755);
            renameSync(tmp, target);
          } catch (err) {
            try {
              closeSync(out);
            } catch {
              /* closed */
            }
            try {
              unlinkSync(tmp);
            } catch {
              /* renamed or gone */
            }
            throw err;
          }
          fsyncDir(dir);
          fsyncDir(ctx.paths.storeDir);
        }
        const entry: StoreEntry = {
          cpu,
          emulator: emu,
          sha256: op.sha256,
          size: again.size,
          file: rel,
          addedAt: new Date().toISOString(),
          addedBy: ctx.callerUid,
          reported: { ...op.provenance },
          // Read from the bytes whose sha256 the entry names (the plan's pass; the copy hashed the same).
          ...(version ? { version } : {}),
        };
        // The newest entry for a CPU is the one install --source store picks: move a re-added one last.
        const entries = readStoreEntries(ctx.paths).filter((e) => !(e.sha256 === op.sha256 && e.cpu === cpu));
        atomicWrite(join(ctx.paths.storeDir, STORE_MANIFEST), storeManifestText([...entries, entry]));
        const result = exists ? { ...base, message: `${emu} sha256 ${op.sha256} was already in the store (${target}); ${reported}` } : base;
        audit(result, null, `${rel} sha256:${op.sha256}`);
        return result;
      } finally {
        closeSync(again.fd);
      }
    },
  };
}
