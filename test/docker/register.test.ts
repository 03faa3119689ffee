// The engine backend for registration: a user with the docker socket but no sudo registers through
// a helper container that writes the same register string the privileged helper writes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProcEntry } from '../../shared/binfmt/entry';
import { buildRegister } from '../../shared/binfmt/register';
import { catalogRule } from '../../shared/status';
import type { Connection } from '../../electron/container/endpoint';
import { probe } from '../../electron/container/probe';
import { controlThroughContainerEngine, readThroughContainerEngine, registerThroughContainerEngine, type RegistrarImage } from '../../electron/container/register';
import { BINFMT_DIR, mountBinfmt, removeHandler, snapshotBinfmt, unmountBinfmt, type BinfmtSnapshot } from './binfmt-snapshot';
import { ensureDockerd, type DockerdHandle } from './dockerd';
import { connectTo, labelled, loadBusybox, removeImage, X86_64_HOST } from './env';

const REGISTRAR_TAG = 'archway-test/registrar:i386';
const ARM64 = 'archway-test/register:arm64';
const QEMU = '/usr/bin/qemu-aarch64-static';

function hostEntry(name: string) {
  const file = path.join(BINFMT_DIR, name);
  return fs.existsSync(file) ? parseProcEntry(name, fs.readFileSync(file, 'utf8')) : undefined;
}

describe.runIf(X86_64_HOST)('registration through the engine', () => {
  let dockerd: DockerdHandle;
  let conn: Connection;
  let binfmt: BinfmtSnapshot;
  // The i386 busybox runs natively on x86_64; in the app the pinned static busybox plays this part.
  const registrar: RegistrarImage = { image: { ref: REGISTRAR_TAG, platform: 'linux/386' } };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'archway-register-'));

  beforeAll(async () => {
    dockerd = await ensureDockerd({ isolated: true }); // private: other runs may stop the shared daemon
    conn = await connectTo(dockerd);
    await loadBusybox(conn, 'i386', REGISTRAR_TAG);
    await loadBusybox(conn, 'arm64', ARM64);
    binfmt = await snapshotBinfmt();
    removeHandler('qemu-aarch64');
  });

  afterAll(async () => {
    try {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (conn) {
        await removeImage(conn, REGISTRAR_TAG);
        await removeImage(conn, ARM64);
      }
    } finally {
      await binfmt?.restore();
      await dockerd?.stop();
    }
  });

  it('writes exactly the helper\'s register string, with F pinning the host\'s emulator', async () => {
    expect((await probe({ conn, platform: 'linux/arm64', image: ARM64 })).status).toBe('no-handler');
    const [r] = await registerThroughContainerEngine(conn, [{ cpu: 'arm64', interpreter: QEMU, flags: 'F' }], { registrar });
    const expected = buildRegister(catalogRule('aarch64', QEMU, 'F'));
    expect(r).toMatchObject({ cpu: 'aarch64', name: 'qemu-aarch64', register: expected, changed: true });
    const entry = hostEntry('qemu-aarch64');
    expect(entry?.enabled).toBe(true);
    expect(buildRegister(entry!.rule)).toBe(expected);
    // The registering container is gone; the kernel kept the file open (F), so containers run.
    expect(await labelled(conn)).toEqual([]);
    expect((await probe({ conn, platform: 'linux/arm64', image: ARM64 })).status).toBe('ok');
  });

  it('is idempotent, refuses to overwrite a different entry, and replaces it when asked', async () => {
    const [same] = await registerThroughContainerEngine(conn, [{ cpu: 'aarch64', interpreter: QEMU, flags: 'F' }], { registrar });
    expect(same).toMatchObject({ changed: false, message: expect.stringMatching(/already registered/) });
    await expect(registerThroughContainerEngine(conn, [{ cpu: 'aarch64', interpreter: QEMU, flags: 'FC' }], { registrar })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/already registered differently/),
    });
    const [replaced] = await registerThroughContainerEngine(conn, [{ cpu: 'aarch64', interpreter: QEMU, flags: 'FC' }], { registrar, replace: true });
    expect(replaced!.changed).toBe(true);
    expect(hostEntry('qemu-aarch64')?.rule.flags).toBe('OCF');
    expect((await probe({ conn, platform: 'linux/arm64', image: ARM64 })).status).toBe('ok');
  });

  it('reads, disables, enables and removes entries through the engine', async () => {
    const seen = await readThroughContainerEngine(conn, { registrar });
    expect(seen.mounted).toBe(true);
    const mine = seen.entries.find((e) => e.name === 'qemu-aarch64');
    expect(mine && parseProcEntry(mine.name, mine.text).rule.interpreter).toBe(QEMU);
    expect(seen.entries.map((e) => e.name).sort()).toEqual(fs.readdirSync(BINFMT_DIR).filter((n) => n !== 'register' && n !== 'status').sort());
    await controlThroughContainerEngine(conn, ['qemu-aarch64'], '0', { registrar });
    expect(hostEntry('qemu-aarch64')?.enabled).toBe(false);
    expect((await probe({ conn, platform: 'linux/arm64', image: ARM64 })).status).toBe('no-handler');
    await controlThroughContainerEngine(conn, ['qemu-aarch64'], '1', { registrar });
    expect(hostEntry('qemu-aarch64')?.enabled).toBe(true);
    const [gone] = await controlThroughContainerEngine(conn, ['qemu-aarch64', 'qemu-nonexistent'], '-1', { registrar }).then((r) => [r[0], r[1]]);
    expect(gone).toMatchObject({ name: 'qemu-aarch64', changed: true });
    expect(hostEntry('qemu-aarch64')).toBeUndefined();
  });

  it('refuses unsafe or missing emulator files, before writing anything', async () => {
    const unsafe = path.join(tmp, 'qemu-aarch64-static');
    fs.copyFileSync(QEMU, unsafe);
    fs.chmodSync(unsafe, 0o777);
    await expect(registerThroughContainerEngine(conn, [{ cpu: 'arm64', interpreter: unsafe }], { registrar })).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/mode 777/) });
    const mine = path.join(tmp, 'owned');
    fs.copyFileSync(QEMU, mine);
    fs.chownSync(mine, 65534, 65534);
    await expect(registerThroughContainerEngine(conn, [{ cpu: 'arm64', interpreter: mine }], { registrar })).rejects.toMatchObject({ message: expect.stringMatching(/owned by uid 65534/) });
    await expect(registerThroughContainerEngine(conn, [{ cpu: 'arm64', interpreter: '/usr/bin/qemu-nowhere-static' }], { registrar })).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/does not exist/) });
    await expect(registerThroughContainerEngine(conn, [{ cpu: 'arm64', interpreter: '/usr/bin/env' }], { registrar })).rejects.toMatchObject({ message: expect.stringMatching(/dynamically linked/) });
    await expect(registerThroughContainerEngine(conn, [{ cpu: 'arm64', interpreter: '/bin/ls' }], { registrar })).rejects.toMatchObject({ message: expect.stringMatching(/collides with the registration container/) });
    expect(hostEntry('qemu-aarch64')).toBeUndefined();
    expect(await labelled(conn)).toEqual([]);
  });

  it('says binfmt_misc must be mounted on the host when it is not', async (ctx) => {
    // Only where the host had not mounted it itself (no systemd automount): never unmount a system mount.
    if (!binfmt.mountedByUs) ctx.skip('binfmt_misc is mounted by the host; this test only unmounts a mount it made');
    await unmountBinfmt();
    try {
      await expect(registerThroughContainerEngine(conn, [{ cpu: 'arm64', interpreter: QEMU, flags: 'F' }], { registrar })).rejects.toMatchObject({
        code: 'binfmt-not-mounted',
        hint: expect.stringMatching(/mount -t binfmt_misc/),
      });
    } finally {
      await mountBinfmt();
    }
  });
});
