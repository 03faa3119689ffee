#!/usr/bin/env node
// Benchmarks with a baseline measured in the same run; prints ratios against the targets.
//   status: `archway status --json` vs bare `node -e 0` (target ≤ 1.3×), and the in-process
//           status read with 40 entries (target ≤ 5 ms median).
// Needs root (a private binfmt_misc in a user namespace holds the 40 entries; the host is untouched).
//   npm run bench            all benchmarks
//   npm run bench -- status  only this one
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const which = process.argv[2] ?? 'all';

if (process.env.ARCHWAY_BENCH_INSIDE === '1') {
  await inside();
} else {
  if (process.getuid?.() !== 0) {
    console.error('bench: needs root (it creates a private binfmt_misc in a user namespace). Run: sudo npm run bench');
    process.exit(2);
  }
  if (spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), 'cli'], { stdio: 'inherit' }).status !== 0) process.exit(1);
  let failed = false;
  if (which === 'all' || which === 'status') {
    const r = spawnSync('unshare', ['--user', '--map-root-user', '--mount', process.execPath, fileURLToPath(import.meta.url), which], {
      stdio: 'inherit',
      env: { ...process.env, ARCHWAY_BENCH_INSIDE: '1' },
    });
    failed ||= r.status !== 0;
  }
  if (which === 'all' || which === 'probe') {
    const probe = join(root, 'bench/probe-matrix.mjs');
    const r = spawnSync(process.execPath, [probe], { stdio: 'inherit' });
    failed ||= r.status !== 0;
  }
  process.exit(failed ? 1 : 0);
}

async function inside() {
  const mount = spawnSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', '/proc/sys/fs/binfmt_misc'], { encoding: 'utf8' });
  if (mount.status !== 0) throw new Error(`mount binfmt_misc: ${mount.stderr}`);
  // 40 entries: every catalog CPU Debian has an emulator for, plus extension rules.
  const { CATALOG } = await import(pathToFileURL(await bundle('shared/arch/catalog.ts')).href);
  let n = 0;
  const native = new Set(['x86_64', 'i386', 'i486']); // a handler for these would run node itself under QEMU
  for (const c of CATALOG) {
    if (n >= 34) break;
    if (native.has(c.cpu)) continue;
    const reg = `:bench-${c.cpu}:M::${c.magic.replace(/(..)/g, '\\x$1')}:${c.mask.replace(/(..)/g, '\\x$1')}:/usr/bin/${c.emulator}-static:`;
    writeFileSync('/proc/sys/fs/binfmt_misc/register', reg);
    n++;
  }
  for (let i = 0; n < 40; i++, n++) writeFileSync('/proc/sys/fs/binfmt_misc/register', `:bench-ext${i}:E::ext${i}::/usr/bin/true:`);

  const { measureStatus } = await import(pathToFileURL(await bundle('bench/status-inprocess.ts')).href);
  const inproc = measureStatus(200);
  line('status read in-process', `${inproc.entries} entries: median ${inproc.medianMs.toFixed(2)} ms, p95 ${inproc.p95Ms.toFixed(2)} ms`, inproc.medianMs / 5, '5 ms');

  const cli = join(root, 'dist/cli/archway.mjs');
  const time = (args) => {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const base = [];
  const ours = [];
  for (let i = 0; i < 25; i++) {
    base.push(time(['-e', '0']));
    ours.push(time([cli, 'status', '--json']));
  }
  const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const ratio = med(ours) / med(base);
  line('archway status --json', `median ${med(ours).toFixed(1)} ms vs node -e 0 ${med(base).toFixed(1)} ms = ${ratio.toFixed(2)}×`, ratio / 1.3, '1.3×');
}

function line(name, detail, ofTarget, target) {
  console.log(`${ofTarget <= 1 ? 'PASS' : 'MISS'}  ${name}: ${detail} (target ≤ ${target})`);
}

async function bundle(entry) {
  const out = join(mkdtempSync(join(tmpdir(), 'archway-bench-')), 'b.mjs');
  await build({ entryPoints: [join(root, entry)], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error' });
  return out;
}
