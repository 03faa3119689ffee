/**
 * importEmulators on real files (no engine, no root): a saved image's layers applied in order with
 * OCI whiteouts, links inside the image followed, the size caps checked before anything is read, and
 * each emulator handed to the same acceptance step as a fetch (a static ELF program for this host).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { machine, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importEmulators, MAX_ARCHIVE_BYTES } from './image-archive';
import { MAX_EMULATOR_BYTES } from './emulator-image';

const QEMU = '/usr/bin/qemu-aarch64-static';
const can = machine() === 'x86_64' && existsSync(QEMU);
let dir: string;

/** A docker-save directory: manifest.json, config, one tar per layer (each built from a directory). */
function savedImage(name: string, layers: ((root: string) => void)[], arch = 'amd64'): string {
  const out = join(dir, name);
  mkdirSync(out);
  const paths: string[] = [];
  layers.forEach((fill, i) => {
    const root = join(dir, `${name}-l${i}`);
    mkdirSync(root);
    fill(root);
    execFileSync('tar', ['-C', root, '-cf', join(out, `l${i}.tar`), '.']);
    paths.push(`l${i}.tar`);
  });
  writeFileSync(join(out, 'config.json'), JSON.stringify({ architecture: arch, os: 'linux' }));
  writeFileSync(join(out, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: [`test/${name}:1`], Layers: paths }]));
  return out;
}
const bin = (root: string) => {
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  return join(root, 'usr/bin');
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'archway-import-spec-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(can)('importEmulators', () => {
  it('follows a symlink inside the image and reports the image tag', async () => {
    const img = savedImage('linked', [
      (r) => {
        copyFileSync(QEMU, join(bin(r), 'qemu-aarch64-real'));
        symlinkSync('qemu-aarch64-real', join(bin(r), 'qemu-aarch64'));
      },
    ]);
    const got = await importEmulators(img, { tmpRoot: dir });
    try {
      expect(got.kind).toBe('docker-save');
      expect(got.emulators.map((e) => [e.cpu, e.sha256])).toEqual([['aarch64', createHash('sha256').update(readFileSync(QEMU)).digest('hex')]]);
      expect(got.emulators[0]!.provenance).toMatchObject({ image: 'test/linked:1', importedFrom: img, qemuVersion: expect.stringMatching(/^7\.2/) });
    } finally {
      rmSync(got.dir, { recursive: true, force: true });
    }
  });

  it('a whiteout in a later layer removes the emulator a lower layer had', async () => {
    const img = savedImage('whiteout', [(r) => copyFileSync(QEMU, join(bin(r), 'qemu-aarch64')), (r) => writeFileSync(join(bin(r), '.wh.qemu-aarch64'), '')]);
    await expect(importEmulators(img, { tmpRoot: dir })).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/holds no qemu-\* emulators/) });
    await expect(importEmulators(img, { archs: ['arm64'], tmpRoot: dir })).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/has no \/usr\/bin\/qemu-aarch64/) });
  });

  it('caps: an emulator over the limit and an archive over the limit are refused before they are read', async () => {
    const big = join(dir, 'big');
    mkdirSync(big);
    writeFileSync(join(big, 'qemu-aarch64'), '');
    truncateSync(join(big, 'qemu-aarch64'), MAX_EMULATOR_BYTES + 1); // sparse: nothing is written
    chmodSync(join(big, 'qemu-aarch64'), 0o755);
    await expect(importEmulators(big, { tmpRoot: dir })).rejects.toMatchObject({ message: expect.stringMatching(/takes emulators up to/) });
    const huge = join(dir, 'huge.tar');
    writeFileSync(huge, '');
    truncateSync(huge, MAX_ARCHIVE_BYTES + 1);
    await expect(importEmulators(huge, { tmpRoot: dir })).rejects.toMatchObject({ message: expect.stringMatching(/reads archives up to/) });
  });

  it('refuses what is not a program for this host, and a native CPU', async () => {
    const d = join(dir, 'progs');
    mkdirSync(d);
    writeFileSync(join(d, 'qemu-s390x'), '#!/bin/sh\necho not an emulator\n', { mode: 0o755 });
    await expect(importEmulators(d, { tmpRoot: dir })).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/qemu-s390x/) });
    await expect(importEmulators(d, { archs: ['amd64'], tmpRoot: dir })).rejects.toMatchObject({ message: expect.stringMatching(/runs natively/) });
  });
});
