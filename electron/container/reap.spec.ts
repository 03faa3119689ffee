import { describe, expect, it } from 'vitest';
import { reapVerdict, tempLabels } from './reap';

const me = { host: 'box', pid: 100 };
const alive = (pids: number[]) => (p: number) => pids.includes(p);

describe('reapVerdict', () => {
  const labels = (owner: { host: string; pid: number }, deadline: number) => tempLabels('probe', deadline, owner);

  it('reaps our own leftovers but not containers in use', () => {
    expect(reapVerdict({ id: 'a', labels: labels(me, 9e15) }, 0, me, new Set(), alive([100])).reap).toBe(true);
    expect(reapVerdict({ id: 'a', labels: labels(me, 9e15) }, 0, me, new Set(['a']), alive([100])).reap).toBe(false);
  });

  it('keeps another live process\'s containers until their deadline', () => {
    const other = { host: 'box', pid: 200 };
    expect(reapVerdict({ id: 'b', labels: labels(other, 1000) }, 500, me, new Set(), alive([100, 200]))).toEqual({ reap: false, why: 'in use by process 200' });
    expect(reapVerdict({ id: 'b', labels: labels(other, 1000) }, 1500, me, new Set(), alive([100, 200])).reap).toBe(true);
  });

  it('reaps containers of a dead process on this host', () => {
    expect(reapVerdict({ id: 'c', labels: labels({ host: 'box', pid: 300 }, 9e15) }, 0, me, new Set(), alive([100]))).toEqual({ reap: true, why: 'its process 300 is gone' });
  });

  it('other hosts: only after the deadline (their pids mean nothing here)', () => {
    const far = { host: 'laptop', pid: 300 };
    expect(reapVerdict({ id: 'd', labels: labels(far, 1000) }, 0, me, new Set(), alive([])).reap).toBe(false);
    expect(reapVerdict({ id: 'd', labels: labels(far, 1000) }, 2000, me, new Set(), alive([])).reap).toBe(true);
  });

  it('labels without owner or deadline are leftovers', () => {
    expect(reapVerdict({ id: 'e', labels: { 'archway.probe': '1' } }, 0, me, new Set(), alive([])).reap).toBe(true);
  });
});
