/**
 * `archway emulators import` with no container engine anywhere (DOCKER_HOST names a socket that does
 * not exist; the command never connects): a `docker save` archive of the fake pinned binfmt image the
 * fetch tests push (built by test/fixtures/image.ts around Debian's real static QEMU), and the same
 * image as an OCI layout directory with gzip-compressed layers. The real CLI and helper bundles store
 * the emulators with their reported provenance; the refusals store nothing. Run inside a private
 * binfmt_misc instance so the helper's snapshot never reads the host's table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT } from '../fixtures/foreign';
import { buildBusyboxImage, type BuiltImage } from '../fixtures/image';
import { privateBinfmt, requireBuilt, type PrivateBinfmt } from '../kernel/namespace';

const CLI = join(REPO_ROOT, 'dist/cli/archway.mjs');
const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const qemu = { aarch64: readFileSync('/usr/bin/qemu-aarch64-static'), s390x: readFileSync('/usr/bin/qemu-s390x-static') };

let ns: PrivateBinfmt;
let root: string;
let image: BuiltImage;

function archway(args: string[]) {
  return ns.run([process.execPath, CLI, ...args], { env: { ...process.env, ARCHWAY_ROOT: root, DOCKER_HOST: `unix://${root}/no-engine.sock`, DOCKER_CONTEXT: '' } });
}
function manifest(): { sha256: string; cpu: string; version?: string; reported: Record<string, string> }[] {
  const f = join(root, 'var/lib/archway/emulators/manifest.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { entries: ReturnType<typeof manifest> }).entries : [];
}

/** The same image as an OCI image layout directory: index.json → manifest → config + gzip layers, blobs by digest. */
function ociLayoutFrom(saved: string, dir: string): { manifestDigest: string } {
  const x = join(dir, 'x');
  mkdirSync(x, { recursive: true });
  execFileSync('tar', ['-C', x, '-xf', saved]);
  const m = (JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8')) as { Config: string; Layers: string[] }[])[0]!;
  const out = join(dir, 'oci');
  mkdirSync(join(out, 'blobs/sha256'), { recursive: true });
  const blob = (b: Buffer) => {
    const d = hex(b);
    writeFileSync(join(out, 'blobs/sha256', d), b);
    return { digest: `sha256:${d}`, size: b.length };
  };
  const config = blob(readFileSync(join(x, m.Config)));
  const layers = m.Layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...blob(gzipSync(readFileSync(join(x, l)))) }));
  const man = blob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers })));
  writeFileSync(join(out, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(out, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...man, annotations: { 'org.opencontainers.image.ref.name': 'archway-test/binfmt:qemu-v7.2.0-oci' } }] }),
  );
  return { manifestDigest: man.digest };
}

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  ns = await privateBinfmt();
  root = mkdtempSync('/tmp/aw-');
  // The fake pinned binfmt image of the fetch tests (test/docker/env.ts pushFakeBinfmtImage), saved instead of pushed.
  image = await buildBusyboxImage({
    arch: 'i386',
    tag: 'archway-test/binfmt:qemu-v7.2.0',
    platformOverride: { architecture: 'amd64' },
    outDir: join(root, 'images'),
    extraFiles: [
      { path: '/usr/bin/qemu-aarch64', content: qemu.aarch64, mode: 0o755 },
      { path: '/usr/bin/qemu-s390x', content: qemu.s390x, mode: 0o755 },
    ],
  });
});

afterAll(async () => {
  await ns?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('emulators import, no engine', () => {
  it('a docker save archive: every emulator in it stored, with "imported from FILE, image REF, QEMU x.y" as reported', async () => {
    const r = await archway(['emulators', 'import', image.tarPath]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain('no container engine used');
    const entries = manifest();
    for (const cpu of ['aarch64', 's390x'] as const) {
      const e = entries.find((x) => x.cpu === cpu)!;
      expect(e.sha256).toBe(hex(qemu[cpu]));
      expect(readFileSync(join(root, 'var/lib/archway/emulators', e.sha256, `qemu-${cpu}`)).equals(qemu[cpu])).toBe(true);
      expect(e.reported).toEqual({ image: 'archway-test/binfmt:qemu-v7.2.0', importedFrom: image.tarPath, qemuVersion: expect.stringMatching(/^7\.2\.\d+ \(Debian /) });
      expect(e.version).toBe(e.reported.qemuVersion);
    }
    expect(r.stdout).toMatch(new RegExp(`reported: imported from ${image.tarPath.replace(/[.]/g, '\\.')}, image archway-test/binfmt:qemu-v7\\.2\\.0, QEMU 7\\.2`));
    const list = JSON.parse((await archway(['emulators', 'list', '--json'])).stdout) as { emulators: { sha256: string; reported?: string }[] };
    expect(list.emulators.find((x) => x.sha256 === hex(qemu.aarch64))?.reported).toMatch(/^reported: imported from .*, image archway-test\/binfmt:qemu-v7\.2\.0, QEMU 7\.2/);
  });

  it('an OCI layout (gzip layers, blobs checked against their digests): the manifest digest is reported', async () => {
    const { manifestDigest } = ociLayoutFrom(image.tarPath, join(root, 'oci-work'));
    const oci = join(root, 'oci-work/oci');
    const before = manifest().length;
    const r = await archway(['emulators', 'import', oci, 'arm64', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const e = manifest().find((x) => x.cpu === 'aarch64')!;
    expect(manifest().length).toBe(before); // same bytes: the entry is moved last, not duplicated
    expect(e.reported).toEqual({ image: 'archway-test/binfmt:qemu-v7.2.0-oci', digest: manifestDigest, importedFrom: oci, qemuVersion: expect.stringMatching(/^7\.2/) });
    // A blob changed after the layout was written is refused, and nothing is stored.
    const blobs = join(oci, 'blobs/sha256');
    const layer = readdir(blobs).find((f) => readFileSync(join(blobs, f))[0] === 0x1f)!;
    const bytes = readFileSync(join(blobs, layer));
    bytes[bytes.length - 9] = bytes[bytes.length - 9]! ^ 0xff;
    writeFileSync(join(blobs, layer), bytes);
    const bad = await archway(['emulators', 'import', oci]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not the digest its name says/);
  });

  it('refuses an image whose emulator is not a static host program, and an image for another architecture; nothing stored', async () => {
    const before = JSON.stringify(manifest());
    const dyn = await buildBusyboxImage({ arch: 'i386', tag: 'archway-test/binfmt:dynamic', platformOverride: { architecture: 'amd64' }, outDir: join(root, 'images'), extraFiles: [{ path: '/usr/bin/qemu-ppc64le', content: readFileSync('/bin/ls'), mode: 0o755 }] });
    const r1 = await archway(['emulators', 'import', dyn.tarPath]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/qemu-ppc64le.*dynamically linked/);
    const arm = await buildBusyboxImage({ arch: 'i386', tag: 'archway-test/binfmt:arm64', platformOverride: { architecture: 'arm64' }, outDir: join(root, 'images'), extraFiles: [{ path: '/usr/bin/qemu-s390x', content: qemu.s390x, mode: 0o755 }] });
    const r2 = await archway(['emulators', 'import', arm.tarPath]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/linux\/arm64, but this host runs linux\/amd64/);
    const r3 = await archway(['emulators', 'import', join(root, 'nothing-here.tar')]);
    expect(r3.code).not.toBe(0);
    expect(JSON.stringify(manifest())).toBe(before);
    // No temporary copies left behind.
    expect(readdir('/tmp').filter((d) => d.startsWith('archway-emulators-') && Date.now() - statMs(join('/tmp', d)) < 60_000)).toEqual([]);
  });
});

function readdir(d: string): string[] {
  return (execFileSync('ls', ['-A', d], { encoding: 'utf8' }) as string).split('\n').filter(Boolean);
}
function statMs(p: string): number {
  try {
    return Number(execFileSync('stat', ['-c', '%Y', p], { encoding: 'utf8' })) * 1000;
  } catch {
    return 0;
  }
}
