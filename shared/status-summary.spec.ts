import { describe, expect, it } from 'vitest';
import { statusSummary } from './status-summary';
import { A64, arm, recordOf, s390, status, type Entry } from './testing/handler-statuses';

describe('statusSummary (the tray line)', () => {
  it('before the first reading, and with nothing installed', () => {
    expect(statusSummary(null)).toEqual({ level: 'ok', text: 'Archway: reading binfmt_misc…' });
    expect(statusSummary(status([]))).toEqual({ level: 'ok', text: 'Archway: no foreign architecture ready' });
  });

  it('what runs, by Docker platform', () => {
    expect(statusSummary(status([arm, s390]))).toEqual({ level: 'ok', text: 'Archway: 2 foreign architectures ready (linux/s390x, linux/arm64)' }); // catalog order
    expect(statusSummary(status([arm])).text).toBe('Archway: 1 foreign architecture ready (linux/arm64)');
  });

  it('what is wrong comes first: a vanished handler, a broken one, a disabled one', () => {
    const record = recordOf(arm);
    expect(statusSummary(status([s390], { record }))).toEqual({ level: 'bad', text: 'Archway: qemu-aarch64 gone from the kernel; 1 foreign architecture ready (linux/s390x)' });
    const noF: Entry = { ...arm, flags: '' };
    expect(statusSummary(status([noF, s390], { missing: [A64] }))).toEqual({ level: 'bad', text: 'Archway: linux/arm64 broken; 1 foreign architecture ready (linux/s390x)' });
    expect(statusSummary(status([{ ...arm, enabled: false }]))).toEqual({ level: 'warn', text: 'Archway: linux/arm64 disabled; no foreign architecture ready' });
  });

  it('binfmt_misc not mounted', () => {
    const s = status([arm]);
    expect(statusSummary({ ...s, mount: { ...s.mount, mounted: false } })).toEqual({ level: 'bad', text: 'Archway: binfmt_misc is not mounted: no foreign program runs' });
  });
});
