// What the rootless tests compare before and after: the host's binfmt_misc table as bytes, and
// Archway's root state files.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildBusyboxImage } from '../fixtures/image';
import type { RootlessUser } from '../support/rootless-user';
import { BINFMT_DIR, control, readEntries, removeHandler, restorable, snapshotBinfmt, type BinfmtSnapshot } from '../docker/binfmt-snapshot';

export const ROOT_STATE = ['/var/lib/archway', '/var/log/archway'];

/** Every file under the given roots: path → size, mode, owner and sha256 (or 'absent'). */
export function treeDigest(roots: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      out[p] = 'absent';
      return;
    }
    if (st.isDirectory()) {
      out[p] = `dir ${st.mode.toString(8)} ${st.uid}`;
      for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n));
    } else {
      const hash = st.isFile() ? createHash('sha256').update(fs.readFileSync(p)).digest('hex') : fs.readlinkSync(p);
      out[p] = `${st.size} ${st.mode.toString(8)} ${st.uid} ${hash}`;
    }
  };
  for (const r of roots) walk(r);
  return out;
}

/** The host's table as bytes: every entry's text and the status file, keyed by name. */
export function hostTable(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of fs.readdirSync(BINFMT_DIR).sort()) if (n !== 'register') out[n] = fs.readFileSync(path.join(BINFMT_DIR, n), 'utf8');
  return out;
}


/**
 * Snapshot the host's table (holding the host-binfmt lock until restore) and take the host's
 * handler `name` out of the test's way: removed (the snapshot puts it back), or only disabled when
 * it pins an emulator file that is gone (it could not be registered again).
 */
export async function hostWithout(name: string): Promise<BinfmtSnapshot> {
  const snap = await snapshotBinfmt();
  const e = readEntries().find((x) => x.name === name);
  if (e && restorable(e.register)) removeHandler(name);
  else if (e) control(name, '0');
  return snap;
}

/** The s390x busybox image (test/fixtures) loaded into the user's own store with `load` (podman or docker, as the user). */
export async function loadForeignImage(u: RootlessUser, tag: string, load: string[], env: Record<string, string> = {}): Promise<void> {
  const image = await buildBusyboxImage({ arch: 's390x', tag });
  const tar = path.join(u.home, 'image.tar');
  fs.copyFileSync(image.tarPath, tar);
  fs.chownSync(tar, u.uid, u.uid);
  const r = await u.run([...load, '-i', tar], { env });
  if (r.code !== 0) throw new Error(`${load.join(' ')} -i ${tar} failed: ${r.stderr}`);
}

/** What a rootless test compares before and after: the host's table (its s390x handler out of the way) and Archway's root state. */
export async function hostBaseline(): Promise<{ snap: BinfmtSnapshot; table: Record<string, string>; rootState: Record<string, string> }> {
  const snap = await hostWithout('qemu-s390x');
  return { snap, table: hostTable(), rootState: treeDigest(ROOT_STATE) };
}
