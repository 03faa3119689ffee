// `archway emulators fetch` through a registry mirror, with the real CLI and helper bundles: a private
// dockerd started with `--registry-mirror http://<loopback registry>` (this machine has no route to
// Docker Hub), the fake pinned binfmt image pushed to that registry as `tonistiigi/binfmt`, and
//  1. a docker.io reference by digest — dockerd itself resolves it through its mirror (what Docker does
//     for Docker Hub references); the CLI says so (read from the engine's /info RegistryConfig);
//  2. a mirror reference by digest alone (`127.0.0.1:PORT/tonistiigi/binfmt@sha256:…`), pulled directly;
//  3. a digest the mirror does not hold is refused, nothing stored.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../electron/container/endpoint';
import { inspectImage } from '../../electron/container/images';
import { runArgv } from '../kernel/namespace';
import { REPO_ROOT } from '../fixtures/foreign';
import { startRegistry, type Registry } from '../fixtures/registry';
import { ensureDockerd, type DockerdHandle } from './dockerd';
import { connectTo, pushFakeBinfmtImage, removeImage, X86_64_HOST } from './env';
import type { PinnedImage } from '../../electron/container/pins';

const CLI = path.join(REPO_ROOT, 'dist/cli/archway.mjs');
const qemu = fs.readFileSync('/usr/bin/qemu-aarch64-static');
const sha = createHash('sha256').update(qemu).digest('hex');

describe.runIf(X86_64_HOST)('emulators fetch through a registry mirror', () => {
  let dockerd: DockerdHandle;
  let conn: Connection;
  let registry: Registry;
  let pin: PinnedImage;
  const root = fs.mkdtempSync('/tmp/aw-');
  const archway = (args: string[]) =>
    runArgv([process.execPath, CLI, ...args], { env: { ...process.env, ARCHWAY_ROOT: root, ARCHWAY_BINFMT: path.join(root, 'no-binfmt'), DOCKER_HOST: `unix://${dockerd.socket}` }, timeoutMs: 120_000 });
  const manifest = () => {
    const f = path.join(root, 'var/lib/archway/emulators/manifest.json');
    return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as { entries: { sha256: string; reported: Record<string, string> }[] }).entries : [];
  };

  beforeAll(async () => {
    expect(fs.existsSync(CLI), 'run `npm run build` first').toBe(true);
    registry = await startRegistry();
    // As Docker Hub would name it: tonistiigi/binfmt (a mirror serves Docker Hub's repository paths).
    pin = await pushFakeBinfmtImage(registry, [{ path: '/usr/bin/qemu-aarch64', content: qemu, mode: 0o755 }], 'tonistiigi/binfmt');
    dockerd = await ensureDockerd({ isolated: true, args: ['--registry-mirror', `http://${registry.host}`] });
    conn = await connectTo(dockerd);
  });

  afterAll(async () => {
    try {
      for (const ref of [`docker.io/tonistiigi/binfmt@${pin?.digest}`, `${pin?.repo}@${pin?.digest}`]) {
        const img = conn && pin ? await inspectImage(conn, ref).catch(() => undefined) : undefined;
        if (img) await removeImage(conn, img.id);
      }
    } finally {
      conn?.close();
      await dockerd?.stop();
      await registry?.stop();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('the engine reports its registry-mirrors', () => {
    expect(conn.info.registryMirrors).toEqual([`http://${registry.host}/`]);
  });

  it('a docker.io reference by digest comes through the engine\'s mirror; the route is shown; stored with the docker.io provenance', async () => {
    const ref = `docker.io/tonistiigi/binfmt:qemu-v7.2.0@${pin.digest}`;
    const r = await archway(['emulators', 'fetch', 'arm64', '--image', ref]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(`through its registry-mirrors (http://${registry.host}/), then Docker Hub`);
    const e = manifest().find((x) => x.sha256 === sha);
    expect(e?.reported).toMatchObject({ image: 'docker.io/tonistiigi/binfmt:qemu-v7.2.0', digest: pin.digest });
    // The engine holds it under its docker.io name: it came from the mirror (there is no route to Docker Hub here).
    const img = await inspectImage(conn, `docker.io/tonistiigi/binfmt@${pin.digest}`);
    expect(img?.repoDigests).toContain(`tonistiigi/binfmt@${pin.digest}`);
  });

  it('a mirror reference by digest alone is pulled from the mirror directly, digest checked', async () => {
    const ref = `${pin.repo}@${pin.digest}`;
    const r = await archway(['emulators', 'fetch', 'arm64', '--image', ref, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const e = manifest().find((x) => x.sha256 === sha);
    // Not Archway's pinned digest: reported as the user gave it (no tag invented).
    expect(e?.reported).toMatchObject({ image: pin.repo, digest: pin.digest });
  });

  it('refuses a reference without a digest, and a digest the mirror does not hold; nothing stored', async () => {
    const before = JSON.stringify(manifest());
    const noDigest = await archway(['emulators', 'fetch', 'arm64', '--image', `${pin.repo}:qemu-v7.2.0`]);
    expect(noDigest.code).toBe(2);
    expect(noDigest.stderr).toContain('MIRROR/REPO@sha256:DIGEST');
    const wrong = await archway(['emulators', 'fetch', 'arm64', '--image', `${pin.repo}@sha256:${'0'.repeat(64)}`]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/cannot pull/);
    expect(JSON.stringify(manifest())).toBe(before);
  });
});
