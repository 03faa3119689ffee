import { describe, expect, it } from 'vitest';
import { catalogRule } from './status';
import { buildRegister } from './binfmt/register';
import { handlerEvents } from './handler-events';
import { A64, arm, recordOf, s390, status, T, type Entry } from './testing/handler-statuses';

describe('handlerEvents', () => {
  it('the first reading is the baseline; an unchanged table has no events', () => {
    const s = status([arm]);
    expect(handlerEvents(undefined, s, T)).toEqual([]);
    expect(handlerEvents(s, status([arm]), T)).toEqual([]);
  });

  it('a handler appeared, with its facts and owner', () => {
    expect(handlerEvents(status([]), status([arm], { record: recordOf(arm) }), T)).toEqual([
      { time: T, event: 'appeared', name: 'qemu-aarch64', arch: 'aarch64', owner: 'archway', enabled: true, flags: 'F', interpreter: A64 },
    ]);
  });

  it("a handler Archway installed vanished (a flush): 'vanished' once, with the way back; another tool's is 'removed'", () => {
    const record = recordOf(arm);
    const before = status([arm, s390], { record });
    const after = status([], { record });
    expect(handlerEvents(before, after, T)).toEqual([
      { time: T, event: 'vanished', name: 'qemu-aarch64', arch: 'aarch64', persist: false, register: buildRegister(catalogRule('aarch64', A64, 'F')) },
      { time: T, event: 'removed', name: 'qemu-s390x', arch: 's390x', owner: 'unknown' },
    ]);
    // Still gone at the next reading: not reported again.
    expect(handlerEvents(after, status([], { record }), T)).toEqual([]);
    // Back again: appeared.
    expect(handlerEvents(after, status([arm], { record }), T).map((e) => [e.event, e.name])).toEqual([['appeared', 'qemu-aarch64']]);
  });

  it('uninstalled through Archway (the record forgets it): removed, not vanished', () => {
    expect(handlerEvents(status([arm], { record: recordOf(arm) }), status([]), T).map((e) => e.event)).toEqual(['removed']);
  });

  it('changed: disabled, flags, emulator', () => {
    const before = status([arm]);
    expect(handlerEvents(before, status([{ ...arm, enabled: false }]), T)).toEqual([
      { time: T, event: 'changed', name: 'qemu-aarch64', arch: 'aarch64', changes: ['enabled'], before: { enabled: true, flags: 'F', interpreter: A64 }, enabled: false, flags: 'F', interpreter: A64 },
    ]);
    const e = handlerEvents(before, status([{ ...arm, flags: 'OCF' }]), T);
    expect(e.map((x) => x.event)).toEqual(['changed']);
    expect(e[0]).toMatchObject({ changes: ['flags'], flags: 'OCF', before: { flags: 'F' } });
  });

  it('turned broken (its emulator was deleted) and recovered', () => {
    const noF: Entry = { ...arm, flags: '' };
    const ok = status([noF]);
    const broken = status([noF], { missing: [A64] });
    const events = handlerEvents(ok, broken, T);
    expect(events).toEqual([{ time: T, event: 'broken', name: 'qemu-aarch64', arch: 'aarch64', reason: expect.stringContaining(`${A64} does not exist`) }]);
    expect(handlerEvents(broken, broken, T)).toEqual([]);
    expect(handlerEvents(broken, ok, T)).toEqual([{ time: T, event: 'recovered', name: 'qemu-aarch64', arch: 'aarch64' }]);
  });

  it('every event has the fixed head {time, event, name, arch}', () => {
    const record = recordOf(arm);
    const events = handlerEvents(status([arm], { record }), status([{ ...s390, enabled: false }], { record }), T);
    expect(events.length).toBe(2);
    for (const e of events) expect(Object.keys(e).slice(0, 4)).toEqual(['time', 'event', 'name', 'arch']);
  });
});
