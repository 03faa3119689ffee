/** Build the headless packages with `node scripts/package.mjs deb rpm` and read what it made. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import config from '../../build/electron-builder.config.mjs';

export const REPO = join(import.meta.dirname, '..', '..');

export interface Manifest {
  name: string;
  version: string;
  debVersion: string;
  files: { path: string; mode: number }[];
  /** Where the man page and each completion came from (the CLI's generators or the fallback). */
  sources: Record<string, string>;
  bundled: string[];
}

export function buildPackages(): { deb: string; rpm: string; manifest: Manifest; output: string } {
  const r = spawnSync(process.execPath, [join(REPO, 'scripts/package.mjs'), 'deb', 'rpm'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/package.mjs exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  const manifest = JSON.parse(readFileSync(join(REPO, 'dist/packages/headless/manifest.json'), 'utf8')) as Manifest;
  return {
    deb: join(REPO, 'dist/packages', `archway_${manifest.debVersion}_all.deb`),
    rpm: join(REPO, 'dist/packages', `archway-${manifest.debVersion}.noarch.rpm`),
    manifest,
    output: r.stdout,
  };
}

/**
 * An AppImage's resources folder at `dir`, exactly as electron-builder's extraResources fill it
 * (the helper bundle is built first when missing): what "Install system helper" copies from.
 */
export function appImageResources(dir: string): void {
  if (!existsSync(join(REPO, 'dist/helper/archway-helper.mjs'))) {
    const b = spawnSync(process.execPath, [join(REPO, 'scripts/build.mjs'), 'cli'], { cwd: REPO, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(b.stderr);
  }
  for (const r of config.extraResources as { from: string; to: string }[]) {
    mkdirSync(join(dir, dirname(r.to)), { recursive: true });
    copyFileSync(join(REPO, r.from), join(dir, r.to));
  }
}
