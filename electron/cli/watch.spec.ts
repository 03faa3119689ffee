import { describe, expect, it } from 'vitest';
import type { Status } from '../../shared/status';
import { AARCH64_EMU, makeStatus } from '../../renderer/testing/statuses';
import { EXIT } from './exit-codes';
import { parseInterval, watch } from './watch';

const arm = { cpu: 'aarch64', interpreter: AARCH64_EMU, flags: 'PF', archway: true };

function reader(seq: Status[]) {
  let i = 0;
  return () => seq[Math.min(i++, seq.length - 1)]!;
}

describe('archway watch (the loop)', () => {
  it('prints JSON lines and, with --fail-on-vanish, returns failed at the reading that shows the vanish', async () => {
    const lines: string[] = [];
    const code = await watch({
      readStatus: reader([makeStatus([]), makeStatus([arm]), makeStatus([], { vanished: [arm] })]),
      write: (l) => void lines.push(l),
      warn: () => undefined,
      intervalMs: 1,
      failOnVanish: true,
      signal: new AbortController().signal,
      now: () => 'T',
    });
    expect(code).toBe(EXIT.failed);
    expect(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    expect(lines.map((l) => JSON.parse(l) as { event: string; name: string })).toEqual([
      expect.objectContaining({ time: 'T', event: 'appeared', name: 'qemu-aarch64', arch: 'aarch64', notable: false }),
      expect.objectContaining({ time: 'T', event: 'vanished', name: 'qemu-aarch64', arch: 'aarch64', notable: true }),
    ]);
  });

  it('stops with exit 0 as soon as its signal aborts (mid-pause), and warns once per read problem', async () => {
    const stop = new AbortController();
    const warnings: string[] = [];
    let reads = 0;
    const done = watch({
      readStatus: () => {
        reads++;
        throw new Error('EACCES');
      },
      write: () => undefined,
      warn: (m) => void warnings.push(m),
      intervalMs: 60_000,
      failOnVanish: true,
      signal: stop.signal,
    });
    const t0 = Date.now();
    setTimeout(() => stop.abort(), 20);
    expect(await done).toBe(EXIT.ok);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(reads).toBe(1);
    expect(warnings).toHaveLength(1);
  });

  it('--interval: seconds within bounds', () => {
    expect(parseInterval(undefined)).toBe(2000);
    expect(parseInterval('1')).toBe(1000);
    expect(parseInterval('0.5')).toBe(500);
    for (const bad of ['0', '0.1', '3601', '-1', 'abc', '1e3', '']) expect(parseInterval(bad)).toBeUndefined();
  });
});
