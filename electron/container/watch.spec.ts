import { describe, expect, it } from 'vitest';
import { buildRegister } from '../../shared/binfmt/register';
import { catalogRule } from '../../shared/status';
import { describeDiff, diffHandlers, reRegisterPlan, snapshotEntries, watchHandlers, type BinfmtView } from './watch';

const entry = (cpu: string, interp: string, flags = 'F', enabled = true) => {
  const r = catalogRule(cpu, interp, flags);
  const kflags = flags.includes('C') ? flags.replace('C', 'OC') : flags;
  return { name: r.name, text: `${enabled ? 'enabled' : 'disabled'}\ninterpreter ${interp}\nflags: ${kflags}\noffset 0\nmagic ${r.magic}\nmask ${r.mask}\n` };
};

describe('snapshots and diffs', () => {
  const a = entry('aarch64', '/usr/bin/qemu-aarch64-static');
  const s = entry('s390x', '/usr/bin/qemu-s390x-static', 'FC');

  it('snapshots entries as the register strings that put them back', () => {
    const [snap] = snapshotEntries([a, { name: 'junk', text: 'what' }]);
    expect(snap).toEqual({ name: 'qemu-aarch64', enabled: true, register: buildRegister(catalogRule('aarch64', '/usr/bin/qemu-aarch64-static', 'F')) });
  });

  it('a flush: everything vanished', () => {
    const before = snapshotEntries([a, s]);
    const d = diffHandlers(before, []);
    expect(d.flushed).toBe(true);
    expect(d.vanished.map((h) => h.name)).toEqual(['qemu-aarch64', 'qemu-s390x']);
    expect(describeDiff(d)).toMatch(/systemd-binfmt/);
    expect(reRegisterPlan(d.vanished).map((r) => r.register)).toEqual(before.map((h) => h.register));
  });

  it('one removal, a change, a toggle, an unmount', () => {
    const before = snapshotEntries([a, s]);
    const after = snapshotEntries([entry('aarch64', '/usr/local/bin/qemu-aarch64')]);
    const d = diffHandlers(before, after);
    expect(d.flushed).toBe(false);
    expect(d.vanished.map((h) => h.name)).toEqual(['qemu-s390x']);
    expect(d.changed.map((c) => c.after.name)).toEqual(['qemu-aarch64']);
    expect(diffHandlers(before, snapshotEntries([entry('aarch64', '/usr/bin/qemu-aarch64-static', 'F', false), s])).toggled).toEqual([{ name: 'qemu-aarch64', enabled: false }]);
    expect(describeDiff(diffHandlers(before, [], false))).toMatch(/unmounted/);
  });
});

describe('watchHandlers', () => {
  it('reports a flush once and notices the entries coming back', async () => {
    const a = entry('aarch64', '/usr/bin/qemu-aarch64-static');
    const views: BinfmtView[] = [
      { mounted: true, entries: [a] },
      { mounted: true, entries: [] },
      { mounted: true, entries: [] },
      { mounted: true, entries: [a] },
    ];
    const seen: string[] = [];
    const ac = new AbortController();
    let i = 0;
    await watchHandlers({
      read: async () => {
        const v = views[Math.min(i++, views.length - 1)]!;
        if (i >= views.length + 1) ac.abort();
        return v;
      },
      intervalMs: 1,
      signal: ac.signal,
      onChange: (d) => seen.push(`-${d.vanished.map((h) => h.name).join(',')} +${d.appeared.map((h) => h.name).join(',')}`),
    });
    expect(seen).toEqual(['-qemu-aarch64 +']);
  });
});
