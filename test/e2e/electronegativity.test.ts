/**
 * Doyensec's electronegativity over what ships (out/: main, preload, renderer): no finding of high
 * severity or above. (It cannot see Electron's defaults of a version it cannot look up offline, so
 * it is told the version. Its network look-ups are made to fail at once by a preload: its HTTP client
 * crashes the process on Node 24 when a look-up fails the ordinary way; see the preload.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'node_modules/@doyensec/electronegativity/dist/index.js');
const OFFLINE = join(import.meta.dirname, 'electronegativity-offline.cjs');
const ELECTRON_VERSION = (JSON.parse(readFileSync(join(REPO, 'node_modules/electron/package.json'), 'utf8')) as { version: string }).version;

describe.runIf(existsSync(CLI))('electronegativity', () => {
  it('finds nothing of high severity in the built app', () => {
    if (!existsSync(join(REPO, 'out/main/index.js'))) throw new Error('out/ is missing: run npm run build first');
    const dir = mkdtempSync(join(tmpdir(), 'archway-eneg-'));
    try {
      const csv = join(dir, 'findings.csv');
      const r = spawnSync(process.execPath, ['--require', OFFLINE, CLI, '-i', join(REPO, 'out'), '-r', '-v', 'false', '-e', ELECTRON_VERSION, '-o', csv], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(existsSync(csv), r.stdout + r.stderr).toBe(true);
      const rows = readFileSync(csv, 'utf8').trim().split('\n');
      expect(rows[0]).toMatch(/^issue, severity/);
      // Its CSV writer garbles rows whose sample has quotes; the severity field is still "SEV","CONFIDENCE".
      const high = rows.slice(1).filter((row) => /(^|,)"(HIGH|CRITICAL)","(CERTAIN|FIRM|TENTATIVE)"/.test(row));
      expect(high, 'high-severity findings').toEqual([]);
      // It did look at the app (the preload is always worth a review note).
      expect(rows.some((row) => row.startsWith('PRELOAD_JS_CHECK'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
