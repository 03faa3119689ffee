// The CLI's Docker-side paths end to end, with the real bundles: `archway emulators fetch` copies a
// static QEMU out of a pinned fake "binfmt" image (served by a local registry, pulled by digest) and
// the real helper stores it with provenance; `--backend engine` registers the helper-validated
// register string through a privileged container; a foreign container then really runs.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../electron/container/endpoint';
import { inspectImage } from '../../electron/container/images';
import { runArgv } from '../kernel/namespace';
import { REPO_ROOT } from '../fixtures/foreign';
import { startRegistry, type Registry } from '../fixtures/registry';
import { readEntries, removeHandler, snapshotBinfmt, type BinfmtSnapshot } from './binfmt-snapshot';
import { ensureDockerd, type DockerdHandle } from './dockerd';
import { connectTo, labelled, loadBusybox, pushFakeBinfmtImage, removeImage, X86_64_HOST } from './env';
import { describePin } from '../../electron/container/pins';

const CLI = path.join(REPO_ROOT, 'dist/cli/archway.mjs');
const REGISTRAR = 'archway-test/registrar:amd64';

describe.runIf(X86_64_HOST)('archway emulators fetch and --backend engine', () => {
  let dockerd: DockerdHandle;
  let conn: Connection;
  let registry: Registry;
  let binfmt: BinfmtSnapshot;
  let pin: string;
  // Short: a store path (<root>/var/lib/archway/emulators/<sha256>/qemu-aarch64) must stay within
  // the kernel's 127-character interpreter limit.
  const root = fs.mkdtempSync('/tmp/aw-');
  const archway = (args: string[]) =>
    runArgv([process.execPath, CLI, ...args], { env: { ...process.env, ARCHWAY_ROOT: root, DOCKER_HOST: `unix://${dockerd.socket}` }, timeoutMs: 120_000 });

  beforeAll(async () => {
    expect(fs.existsSync(CLI), 'run `npm run build` first').toBe(true);
    dockerd = await ensureDockerd({ isolated: true });
    conn = await connectTo(dockerd);
    registry = await startRegistry();
    pin = describePin(await pushFakeBinfmtImage(registry, [{ path: '/usr/bin/qemu-aarch64', content: fs.readFileSync('/usr/bin/qemu-aarch64-static'), mode: 0o755 }]));
    // The registrar: a static busybox (i386 runs natively on x86_64) labelled as the engine's platform.
    await loadBusybox(conn, 'i386', REGISTRAR, { platformOverride: { architecture: 'amd64' } });
    await loadBusybox(conn, 'arm64', 'archway-test/cli:arm64');
    binfmt = await snapshotBinfmt();
    for (const e of readEntries()) if (e.name === 'qemu-aarch64') removeHandler(e.name);
  });

  afterAll(async () => {
    try {
      for (const ref of [REGISTRAR, 'archway-test/cli:arm64']) await removeImage(conn, ref).catch(() => undefined);
      const img = conn && pin ? await inspectImage(conn, pin.replace(/:qemu-v7\.2\.0@/, '@')) : undefined;
      if (img) await removeImage(conn, img.id);
    } finally {
      await binfmt?.restore();
      await registry?.stop();
      await dockerd?.stop();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('fetch: the emulator lands in the root-owned store with provenance, through the real helper', async () => {
    const r = await archway(['emulators', 'fetch', 'arm64', '--image', pin]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✓ store qemu-aarch64 .*; reported: from .*, QEMU 7\.2/);
    // Content-addressed: the path names the sha256 of the bytes the plan showed.
    const want = createHash('sha256').update(fs.readFileSync('/usr/bin/qemu-aarch64-static')).digest('hex');
    const stored = path.join(root, `var/lib/archway/emulators/${want}/qemu-aarch64`);
    expect(fs.readFileSync(stored).equals(fs.readFileSync('/usr/bin/qemu-aarch64-static'))).toBe(true);
    const st = fs.statSync(stored);
    expect([st.uid, st.mode & 0o777]).toEqual([0, 0o755]);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'var/lib/archway/emulators/manifest.json'), 'utf8')) as { entries: { sha256: string; cpu: string; reported: { digest: string; qemuVersion: string } }[] };
    expect(manifest.entries.find((e) => e.sha256 === want && e.cpu === 'aarch64')?.reported).toMatchObject({ digest: pin.split('@')[1], qemuVersion: expect.stringMatching(/^7\.2/) });
    const status = JSON.parse((await archway(['status', '--json'])).stdout) as { archs: { cpu: string; available: { path: string; source: string; reported?: string }[] }[] };
    expect(status.archs.find((a) => a.cpu === 'aarch64')!.available).toContainEqual(expect.objectContaining({ path: stored, source: 'store', reported: expect.stringMatching(/^reported: from .*, QEMU 7\.2/) }));
    expect(await labelled(conn)).toEqual([]);
  });

  it('fetch refuses an image that is not pinned by digest, and changes nothing', async () => {
    const r = await archway(['emulators', 'fetch', 'arm64', '--image', `${registry.host}/archway-test/binfmt:qemu-v7.2.0`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/REPO:TAG@sha256:DIGEST/);
  });

  it('--backend engine registers the same string the helper would, and a foreign container runs', async () => {
    const stored = path.join(root, `var/lib/archway/emulators/${createHash('sha256').update(fs.readFileSync('/usr/bin/qemu-aarch64-static')).digest('hex')}/qemu-aarch64`);
    const dry = await archway(['install', 'arm64', '--source', 'store', '--dry-run']);
    const expected = /register: (\S+)/.exec(dry.stdout)?.[1];
    expect(expected, dry.stdout).toContain(`:${stored}:F`);
    const r = await archway(['install', 'arm64', '--source', 'store', '--backend', 'engine', '--registrar', REGISTRAR]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readEntries().find((e) => e.name === 'qemu-aarch64')?.register).toBe(expected);
    const probe = await archway(['probe', '--platform', 'linux/arm64', '--image', 'archway-test/cli:arm64', '--pull', 'never']);
    expect(probe.code, probe.stdout + probe.stderr).toBe(0);
    expect(probe.stdout).toContain('aarch64');
    // Without root on the host there is no ownership record: removing it needs --force, and says so.
    const refused = await archway(['uninstall', 'arm64', '--backend', 'engine', '--registrar', REGISTRAR]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--force/);
    const gone = await archway(['uninstall', 'arm64', '--backend', 'engine', '--force', '--registrar', REGISTRAR]);
    expect(gone.code, gone.stdout + gone.stderr).toBe(0);
    expect(readEntries().some((e) => e.name === 'qemu-aarch64')).toBe(false);
    expect(await labelled(conn)).toEqual([]);
  });

  it('--backend engine refuses what needs root on the host (keep after reboot)', async () => {
    const r = await archway(['install', 'arm64', '--backend', 'engine', '--persist']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot keep handlers after reboot/);
  });
});
