import { describe, expect, it } from 'vitest';
import { createApi } from '../../shared/ipc/api';
import { EVENTS } from '../../shared/ipc/contract';
import type { ArchwayNotification } from '../../shared/notifications';
import type { Status } from '../../shared/status';
import { AARCH64_EMU, makeStatus } from '../../renderer/testing/statuses';
import { eventEmitter } from './ipc';
import { startLive } from './live';
import { desktopNotifier, withNotifications } from './notifications';

const ABSENT = async () => ({ state: 'absent' as const, error: { code: 'daemon-not-running', message: 'x' }, checkedAt: 0 });

describe('withNotifications', () => {
  it('a vanished handler (live poller → handlerEvents) becomes a notification event on the contract channel, received by the window API, and a desktop one', async () => {
    // The window's side: the same createApi the preload uses, over a transport fed by main's eventEmitter.
    const listeners = new Map<string, ((p: unknown) => void)[]>();
    const api = createApi({ invoke: async () => ({ ok: true, value: null }), on: (c, l) => (listeners.set(c, [...(listeners.get(c) ?? []), l]), () => undefined) });
    const toWindow = eventEmitter((channel, payload) => listeners.get(channel)?.forEach((l) => l(payload)));
    const received: ArchwayNotification[] = [];
    api.onNotification((n) => received.push(n));
    const desktop: ArchwayNotification[] = [];

    const arm = { cpu: 'aarch64', interpreter: AARCH64_EMU, flags: 'PF', archway: true };
    const seq: Status[] = [makeStatus([arm]), makeStatus([], { vanished: [arm] })];
    let i = 0;
    const live = startLive({
      readStatus: () => seq[Math.min(i++, seq.length - 1)]!,
      readContainerEngine: ABSENT,
      emit: withNotifications({ emit: toWindow, show: (n) => desktop.push(n), now: () => 'T' }),
      statusIntervalMs: 5,
      now: () => 'T',
    });
    await expect.poll(() => received.length).toBe(1);
    live.stop();
    expect(EVENTS.notification.channel).toBe('archway:notification');
    expect(received[0]).toMatchObject({ kind: 'handler-vanished', names: ['qemu-aarch64'], action: { label: 'Put back', intent: { action: 'install', archs: ['aarch64'] } } });
    expect(desktop).toEqual(received);
  });

  it('passes every event on; a finished run is a notification only while the window is not focused', () => {
    const sent: string[] = [];
    let focused = true;
    const emit = withNotifications({ emit: (name) => void sent.push(name), windowFocused: () => focused, now: () => 'T' });
    const done = { runId: 'run-00000001', results: [], durationMs: 3 };
    emit('probeDone', done);
    expect(sent).toEqual(['probeDone']);
    focused = false;
    emit('probeDone', done);
    emit('statusChanged', makeStatus());
    expect(sent).toEqual(['probeDone', 'probeDone', 'notification', 'statusChanged']);
  });
});

describe('desktopNotifier (Electron glue, with a stand-in for Electron’s Notification: there is no Electron binary here)', () => {
  it('nothing where the desktop has no notification service; otherwise shows title, body, urgency, and a click calls back', () => {
    class Fake {
      static supported = false;
      static made: Fake[] = [];
      static isSupported = () => Fake.supported;
      handlers: Record<string, () => void> = {};
      shown = false;
      constructor(public options: { title?: string; body?: string; urgency?: string }) {
        Fake.made.push(this);
      }
      on(ev: string, f: () => void) {
        this.handlers[ev] = f;
        return this;
      }
      show() {
        this.shown = true;
      }
    }
    const Cls = Fake as unknown as Parameters<typeof desktopNotifier>[0];
    expect(desktopNotifier(Cls, () => undefined)).toBeUndefined();
    Fake.supported = true;
    const clicked: string[] = [];
    const show = desktopNotifier(Cls, (n) => clicked.push(n.id))!;
    show({ id: 'a', kind: 'handler-broken', time: 'T', urgency: 'critical', names: ['qemu-aarch64'], title: 'qemu-aarch64 is broken', body: 'why' });
    expect(Fake.made[0]).toMatchObject({ shown: true, options: { title: 'qemu-aarch64 is broken', body: 'why', urgency: 'critical' } });
    Fake.made[0]!.handlers.click!();
    expect(clicked).toEqual(['a']);
  });
});
