#!/usr/bin/env node
// `archway install all` as a whole process, against same-run baselines, in a private binfmt_misc
// instance (a user namespace with its own mount; the host's table is never touched):
//   node -e 0                    the cost of starting Node at all
//   systemd-binfmt               Debian's qemu-*.conf rules registered the way systemd does at boot
//                                (/lib/systemd/systemd-binfmt FILE…, or a plain shell loop if absent)
//   archway install all          fresh state each run (record, journal, audit log on disk)
// Target: archway install all ≤ node -e 0 × 2 + 30 ms (medians). Exit 0 when met, 1 when not, 2 on error.
//   Measured last (Node 24.22, 9 runs): 62.9–69.5 ms against a 79.6–84.6 ms target (0.79–0.82×):
//   met since the CLI's code cache (last round 1.24×).
//   node bench/install-all.mjs [runs]      (needs root; builds the CLI first)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 9);
const BINFMT = '/proc/sys/fs/binfmt_misc';
/** One Node for both sides: bench/run.mjs passes Node 24 from node_modules when the repository has it. */
const NODE = process.env.ARCHWAY_BENCH_NODE || process.execPath;

if (process.env.ARCHWAY_BENCH_INSIDE === '1') {
  process.exit(inside());
} else {
  if (process.getuid?.() !== 0) {
    console.error('bench: needs root (it creates a private binfmt_misc in a user namespace). Run: sudo node bench/install-all.mjs');
    process.exit(2);
  }
  if (spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), 'cli'], { stdio: 'inherit' }).status !== 0) process.exit(2);
  const r = spawnSync('unshare', ['--user', '--map-root-user', '--mount', '--propagation', 'private', process.execPath, fileURLToPath(import.meta.url), String(runs)], {
    stdio: 'inherit',
    env: { ...process.env, ARCHWAY_BENCH_INSIDE: '1' },
  });
  process.exit(r.status ?? 2);
}

function inside() {
  const m = spawnSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT], { encoding: 'utf8' });
  if (m.status !== 0) {
    console.error(`bench: cannot mount a private binfmt_misc (needs Linux ≥ 6.7): ${m.stderr}`);
    return 2;
  }
  const flush = () => writeFileSync(join(BINFMT, 'status'), '-1');
  const entries = () => readdirSync(BINFMT).filter((n) => n !== 'register' && n !== 'status').length;
  const time = (argv, env = process.env) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
    return ms;
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

  const rules = existsSync('/usr/lib/binfmt.d') ? readdirSync('/usr/lib/binfmt.d').filter((f) => /^qemu-.*\.conf$/.test(f)).map((f) => `/usr/lib/binfmt.d/${f}`) : [];
  const systemd = existsSync('/lib/systemd/systemd-binfmt')
    ? ['/lib/systemd/systemd-binfmt', ...rules]
    : ['sh', '-c', `for f in ${rules.join(' ')}; do grep -v '^#' "$f" > ${BINFMT}/register; done`];
  const cli = join(root, 'bin/archway.cjs'); // what `archway` runs (with the CLI's code cache)
  const stateParent = mkdtempSync(join(tmpdir(), 'archway-bench-install-'));

  const node = [];
  const sysd = [];
  const arch = [];
  let registered = { systemd: 0, archway: 0 };
  try {
    for (let i = 0; i < runs; i++) {
      node.push(time([NODE, '-e', '0']));
      flush();
      sysd.push(time(systemd));
      registered.systemd = entries();
      flush();
      const state = join(stateParent, `run-${i}`);
      arch.push(time([NODE, cli, 'install', 'all'], { ...process.env, ARCHWAY_ROOT: state }));
      registered.archway = entries();
      flush();
      rmSync(state, { recursive: true, force: true });
    }
  } catch (err) {
    console.error(`bench: ${err.message}`);
    return 2;
  } finally {
    rmSync(stateParent, { recursive: true, force: true });
  }
  const n = median(node);
  const s = median(sysd);
  const a = median(arch);
  const target = n * 2 + 30;
  const f = (x) => `${x.toFixed(1)} ms`;
  const version = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`install-all (${runs} runs, medians, private binfmt_misc instance, Node ${version})`);
  console.log(`  node -e 0                        ${f(n)}`);
  console.log(`  systemd-binfmt (${registered.systemd} rules)        ${f(s)}   ${systemd[0]}`);
  console.log(`  archway install all (${registered.archway} handlers) ${f(a)}   target ≤ node × 2 + 30 ms = ${f(target)}  → ${a <= target ? 'met' : `NOT met (${(a / target).toFixed(2)}× the target)`}`);
  return a <= target ? 0 : 1;
}
