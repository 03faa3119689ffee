/** Reads status in-process N times from the binfmt_misc instance this process sees. */
import { readStatus } from '../electron/engine/inspect';
import { archwayPaths } from '../electron/engine/paths';

export function measureStatus(iterations: number): { entries: number; medianMs: number; p95Ms: number } {
  const paths = archwayPaths();
  const times: number[] = [];
  let entries = 0;
  readStatus(paths); // warm up module-level caches (host facts) as a long-running app would
  for (let i = 0; i < iterations; i++) {
    const t = process.hrtime.bigint();
    const s = readStatus(paths);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    entries = s.handlers.length;
  }
  times.sort((a, b) => a - b);
  return { entries, medianMs: times[Math.floor(times.length / 2)]!, p95Ms: times[Math.floor(times.length * 0.95)]! };
}
