#!/usr/bin/env node
// Render build/icons/archway.svg to the hicolor PNG sizes electron-builder installs
// (build/icons/<N>x<N>.png, under /usr/share/icons/hicolor/<N>x<N>/apps/). The PNGs are committed,
// so packaging needs no SVG renderer; run this after changing the SVG:
//
//   node scripts/icons.mjs [outdir]      (needs rsvg-convert: apt install librsvg2-bin)
//
// test/packaging/desktop.test.ts renders them again and compares, so a stale PNG fails.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ICON_SVG = join(root, 'build/icons/archway.svg');
export const ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512];

export function renderIcons(outdir = join(root, 'build/icons')) {
  mkdirSync(outdir, { recursive: true });
  for (const n of ICON_SIZES) {
    const out = join(outdir, `${n}x${n}.png`);
    const r = spawnSync('rsvg-convert', ['--width', String(n), '--height', String(n), '--format', 'png', '--output', out, ICON_SVG], { encoding: 'utf8' });
    if (r.error) throw new Error(`rsvg-convert: ${r.error.message} (apt install librsvg2-bin)`);
    if (r.status !== 0) throw new Error(`rsvg-convert exited ${r.status}: ${r.stderr}`);
  }
  return ICON_SIZES.map((n) => join(outdir, `${n}x${n}.png`));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of renderIcons(process.argv[2])) console.log(f);
}
