import { describe, expect, it } from 'vitest';
import { handlerEvents, type HandlerEvent } from './handler-events';
import type { Status } from './status';
import { handlerNotifications, isNotable, runNotification } from './notifications';
import { A64, S390, arm, recordOf, s390, status, T, type Entry } from './testing/handler-statuses';

/** The events between two readings, as live.ts and `archway watch` get them. */
const between = (before: Status, after: Status) => handlerEvents(before, after, T);

describe('what is worth a notification', () => {
  it('handlers Archway installed that vanished together are one critical notification, with Put back as a typed intent', () => {
    const record = recordOf(arm, s390);
    const events = between(status([arm, s390], { record }), status([], { record }));
    expect(events.map((e) => e.event)).toEqual(['vanished', 'vanished']);
    expect(events.every(isNotable)).toBe(true);
    const ns = handlerNotifications(events);
    expect(ns).toHaveLength(1);
    expect(ns[0]).toMatchObject({
      kind: 'handler-vanished',
      urgency: 'critical',
      time: T,
      names: ['qemu-aarch64', 'qemu-s390x'],
      title: 'qemu-aarch64, qemu-s390x are gone from the kernel',
      action: { label: 'Put back', intent: { action: 'install', archs: ['aarch64', 's390x'] } },
    });
    // The same happening has the same id (a window drops a repeat).
    expect(handlerNotifications(events)[0]!.id).toBe(ns[0]!.id);
  });

  it("another tool's handler removed, appeared, changed, recovered: nothing (status shows them)", () => {
    const noF: Entry = { ...arm, flags: '' };
    const quiet: HandlerEvent[] = [
      ...between(status([s390]), status([])), // removed (not Archway's)
      ...between(status([]), status([arm])), // appeared
      ...between(status([arm]), status([{ ...arm, enabled: false }])), // changed
      ...between(status([noF], { missing: [A64] }), status([noF])), // recovered
      ...between(status([arm], { record: recordOf(arm) }), status([])), // uninstalled through Archway: removed
    ];
    expect(quiet.map((e) => e.event)).toEqual(['removed', 'appeared', 'changed', 'recovered', 'removed']);
    expect(quiet.filter(isNotable)).toEqual([]);
    expect(handlerNotifications(quiet)).toEqual([]);
  });

  it('a handler that turned broken is one notification with the check’s reason, control characters stripped', () => {
    const noF: Entry = { ...arm, flags: '' };
    const events = between(status([noF]), status([noF], { missing: [A64] }));
    expect(events.map((e) => e.event)).toEqual(['broken']);
    const [n] = handlerNotifications(events);
    expect(n).toMatchObject({ kind: 'handler-broken', urgency: 'critical', names: ['qemu-aarch64'], title: 'qemu-aarch64 is broken', action: { view: 'architectures' } });
    expect(n!.body).toContain(`${A64} does not exist`);
    const hostile = handlerNotifications([{ time: T, event: 'broken', name: 'qemu-x\u001b]0;owned\u0007', arch: null, reason: 'gone\u009b2J' }]);
    const shown = hostile.flatMap((x) => [x.title, x.body, ...x.names]);
    expect(shown.join(' ')).toContain('qemu-x');
    expect(shown.filter((t) => /[\u0000-\u001f\u007f-\u009f]/.test(t))).toEqual([]);
  });

  it('vanished and broken in one reading: both, vanished first', () => {
    const noF: Entry = { ...s390, flags: '' };
    const record = recordOf(arm);
    const events = between(status([arm, noF], { record }), status([noF], { record, missing: [S390] }));
    expect(handlerNotifications(events).map((n) => n.kind)).toEqual(['handler-vanished', 'handler-broken']);
  });

  it('a finished test run only when the window was not focused, counting ok, failed and cancelled', () => {
    const done = { runId: 'r1', durationMs: 900, results: [{ platform: 'linux/arm64', status: 'ok' as const }, { platform: 'linux/s390x', status: 'no-handler' as const }] };
    expect(runNotification(done, { windowFocused: true, time: T })).toBeNull();
    expect(runNotification(done, { windowFocused: false, time: T })).toEqual({
      id: 'run-finished:r1',
      kind: 'run-finished',
      time: T,
      urgency: 'normal',
      names: ['linux/arm64', 'linux/s390x'],
      title: 'Test run finished: 1 ok, 1 failed',
      body: 'linux/arm64: ok, linux/s390x: no-handler',
      action: { label: 'Show the run', view: 'test-run' },
    });
    expect(runNotification({ runId: 'r2', durationMs: 5, results: [], error: { message: 'no engine' } }, { windowFocused: false, time: T })).toMatchObject({ title: 'Test run failed', body: 'no engine' });
  });
});
