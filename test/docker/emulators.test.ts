// Emulator sourcing from an image, through the engine's archive endpoint. A pinned fake "binfmt"
// image — built like the other fixtures and holding Debian's real static QEMU at /usr/bin/qemu-<cpu>
// — stands in for tonistiigi/binfmt, served by a local registry and pulled by digest.
//
// The install step is the privileged helper's `store-add` in the app (tested by its owner); here,
// as root, a function copies into a temporary store directory.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cpu } from '../../shared/arch/catalog';
import type { Connection } from '../../electron/container/endpoint';
import { extractEmulators, sourceEmulators, type EmulatorEvent, type EmulatorProvenance } from '../../electron/container/emulator-image';
import { inspectImage } from '../../electron/container/images';
import type { PinnedImage } from '../../electron/container/pins';
import { probe } from '../../electron/container/probe';
import { startRegistry, type Registry } from '../fixtures/registry';
import { setHandler, snapshotBinfmt, type BinfmtSnapshot } from './binfmt-snapshot';
import { ensureDockerd, type DockerdHandle } from './dockerd';
import { connectTo, labelled, loadBusybox, pushFakeBinfmtImage, removeImage, X86_64_HOST } from './env';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe.runIf(X86_64_HOST)('emulators from a pinned image', () => {
  let dockerd: DockerdHandle;
  let conn: Connection;
  let registry: Registry;
  let binfmt: BinfmtSnapshot;
  let pin: PinnedImage;
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'archway-store-'));
  const qemu = { aarch64: fs.readFileSync('/usr/bin/qemu-aarch64-static'), s390x: fs.readFileSync('/usr/bin/qemu-s390x-static') };

  beforeAll(async () => {
    dockerd = await ensureDockerd({ isolated: true }); // private: other runs may stop the shared daemon
    conn = await connectTo(dockerd);
    registry = await startRegistry();
    pin = await pushFakeBinfmtImage(registry, [
      { path: '/usr/bin/qemu-aarch64', content: qemu.aarch64, mode: 0o755 },
      { path: '/usr/bin/qemu-s390x', content: qemu.s390x, mode: 0o755 },
      // A dynamically linked program where an emulator should be: must be refused.
      { path: '/usr/bin/qemu-ppc64le', content: fs.readFileSync('/bin/ls'), mode: 0o755 },
    ]);
    binfmt = await snapshotBinfmt();
  });

  afterAll(async () => {
    try {
      fs.rmSync(store, { recursive: true, force: true });
      if (conn && pin) {
        const img = await inspectImage(conn, `${pin.repo}@${pin.digest}`);
        if (img) await removeImage(conn, img.id);
        await removeImage(conn, 'archway-test/emu:arm64');
      }
    } finally {
      await binfmt?.restore();
      await registry?.stop();
      await dockerd?.stop();
    }
  });

  it('pulls by digest, copies qemu-<cpu> out, verifies it, and installs it with provenance', async () => {
    const events: EmulatorEvent[] = [];
    // The install step stands in for the helper's store-add: it records exactly what the real
    // sourceEmulators handed it (the temporary file's bytes, the CPU, the provenance) and copies.
    const handed: { file: string; cpu: Cpu; sha256: string; provenance: EmulatorProvenance }[] = [];
    const install = async (file: string, cpu: Cpu, provenance: EmulatorProvenance) => {
      handed.push({ file, cpu, sha256: sha(fs.readFileSync(file)), provenance });
      const dest = path.join(store, cpu, `qemu-${cpu}`);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(file, dest);
      fs.chmodSync(dest, 0o755);
      return dest;
    };
    const out = await sourceEmulators(conn, { cpus: ['arm64', 'linux/s390x'], image: pin, install, onEvent: (e) => events.push(e) });
    const provenance = { image: `${registry.host}/archway-test/binfmt:qemu-v7.2.0`, digest: pin.digest, qemuVersion: expect.stringMatching(/^7\.2\.\d+ \(Debian /) };
    // What the real code gave the install step: the image's bytes for each CPU, in order, with provenance.
    expect(handed.map(({ file: _file, ...h }) => h)).toEqual([
      { cpu: 'aarch64', sha256: sha(qemu.aarch64), provenance },
      { cpu: 's390x', sha256: sha(qemu.s390x), provenance },
    ]);
    // What it reports: the same bytes, where install put them.
    expect(out).toEqual([
      expect.objectContaining({ cpu: 'aarch64', sha256: sha(qemu.aarch64), size: qemu.aarch64.length, installed: path.join(store, 'aarch64', 'qemu-aarch64'), provenance }),
      expect.objectContaining({ cpu: 's390x', sha256: sha(qemu.s390x), size: qemu.s390x.length, installed: path.join(store, 's390x', 'qemu-s390x'), provenance }),
    ]);
    for (const o of out) expect(fs.readFileSync(o.installed).equals(qemu[o.cpu as 'aarch64' | 's390x'])).toBe(true);
    expect(events.some((e) => e.type === 'pull')).toBe(true);
    expect(events.filter((e) => e.type === 'installed').map((e) => (e as { cpu: string }).cpu)).toEqual(['aarch64', 's390x']);
    for (const h of handed) expect(fs.existsSync(h.file), h.file).toBe(false); // temporary copies are gone
    expect(await labelled(conn)).toEqual([]);
    const img = await inspectImage(conn, `${pin.repo}@${pin.digest}`);
    expect(img?.repoDigests).toContain(`${pin.repo}@${pin.digest}`);
  });

  it('the installed emulator really runs foreign containers (registered with F)', async () => {
    const stored = path.join(store, 'aarch64', 'qemu-aarch64');
    expect(fs.existsSync(stored)).toBe(true);
    setHandler('aarch64', { interpreter: stored, flags: 'F' });
    await loadBusybox(conn, 'arm64', 'archway-test/emu:arm64');
    const r = await probe({ conn, platform: 'linux/arm64', image: 'archway-test/emu:arm64' });
    expect(r).toMatchObject({ status: 'ok', observed: 'aarch64' });
  });

  it('refuses a dynamically linked "emulator", a missing one, a native CPU and an unknown digest', async () => {
    await expect(extractEmulators(conn, { cpus: ['ppc64le'], image: pin })).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/dynamically linked/) });
    await expect(extractEmulators(conn, { cpus: ['riscv64'], image: pin })).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/has no \/usr\/bin\/qemu-riscv64/) });
    await expect(extractEmulators(conn, { cpus: ['386'], image: pin })).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/natively/) });
    const wrong = { ...pin, digest: `sha256:${'0'.repeat(64)}` };
    await expect(extractEmulators(conn, { cpus: ['arm64'], image: wrong })).rejects.toMatchObject({ message: expect.stringMatching(/cannot pull/) });
    expect(await labelled(conn)).toEqual([]);
    const leftovers = fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith('archway-emulators-'));
    for (const d of leftovers) expect(fs.statSync(path.join(os.tmpdir(), d)).mtimeMs).toBeLessThan(Date.now() - 60_000);
  });
});
