/** Build the headless packages with `node scripts/package.mjs deb rpm` and read what it made. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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
