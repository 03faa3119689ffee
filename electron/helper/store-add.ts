/**
 * store-add: copy an emulator (extracted by an unprivileged process) into Archway's root-owned store.
 * Kept in its own module: the store's trust rule lives here and in the engine's emulator store code.
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { catalogEntry } from '../../shared/arch/catalog';
import { describeElf, parseElf } from '../../shared/elf';
import { ArchwayError, type HelperOp, type OpResult } from '../../shared/helper-protocol';
import { readStoreManifest } from '../engine/emulators';
import { atomicWrite } from '../engine/fsutil';
import { cpuOf, type HelperContext, type Planned } from './ops';

const MAX_STORE_FILE = 128 * 1024 * 1024;

export function planStoreAdd(
op: Extract<HelperOp, { op: 'store-add' }>,
ctx: HelperContext,
audit: (r: OpResult, before: string | null, after: string | null) => void,
): Planned {
  const cpu = cpuOf(op.arch);
  const emu = catalogEntry(cpu)!.emulator;
  let fd: number;
  try {
    fd = openSync(op.file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw new ArchwayError('not-found', `cannot open ${op.file}: ${(err as Error).message}`);
  }
  let content: Buffer;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ArchwayError('unsafe-interpreter', `${op.file} is not a regular file`);
    if (st.size > MAX_STORE_FILE) throw new ArchwayError('unsafe-interpreter', `${op.file} is larger than ${MAX_STORE_FILE} bytes`);
    content = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, content, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    content = content.subarray(0, off);
  } finally {
    closeSync(fd);
  }
  const elf = parseElf(content);
  const hostElf = ctx.host.elf;
  if (!elf) throw new ArchwayError('unsafe-interpreter', `${op.file} is not an ELF program`);
  if (elf.machine !== hostElf.machine || elf.class !== hostElf.class) {
    throw new ArchwayError('unsafe-interpreter', `${op.file} is ${describeElf(elf)}, not a program for this host`);
  }
  if (elf.dynamic) throw new ArchwayError('dynamic-interpreter', `${op.file} is dynamically linked; the store keeps only static emulators`);
  const target = join(ctx.paths.storeDir, emu);
  const sha256 = createHash('sha256').update(content).digest('hex');
  const base: OpResult = {
    op: 'store-add',
    arch: cpu,
    ok: true,
    changed: true,
    message: `store ${emu} (${content.length} bytes, sha256 ${sha256.slice(0, 12)}…) from ${op.provenance.image}${op.provenance.qemuVersion ? `, QEMU ${op.provenance.qemuVersion}` : ''}`,
    files: [target],
  };
  return {
    result: base,
    apply: async () => {
      mkdirSync(ctx.paths.storeDir, { recursive: true, mode: 0o755 });
      atomicWrite(target, content, 0o755);
      const manifest = readStoreManifest(ctx.paths);
      manifest[emu] = { file: emu, ...op.provenance, sha256, addedAt: new Date().toISOString() };
      atomicWrite(join(ctx.paths.storeDir, 'manifest.json'), `${JSON.stringify({ emulators: manifest }, null, 2)}\n`);
      audit(base, null, `${emu} sha256:${sha256}`);
      return base;
    },
  };
}
