import { describe, expect, it } from 'vitest';
import { EVENT_NAMES, EVENTS, eventListenerName, INVOKE_NAMES, INVOKES, invokeByChannel, ProbeRequestSchema } from './contract';

describe('the IPC contract', () => {
  it('every channel is unique and namespaced', () => {
    const channels = [...INVOKE_NAMES.map((n) => INVOKES[n].channel), ...EVENT_NAMES.map((n) => EVENTS[n].channel)];
    expect(new Set(channels).size).toBe(channels.length);
    for (const c of channels) expect(c).toMatch(/^archway:[a-z-]+$/);
    expect(invokeByChannel('archway:plan')).toBe('plan');
    expect(invokeByChannel('archway:nope')).toBeUndefined();
    expect(eventListenerName('statusChanged')).toBe('onStatusChanged');
  });

  it('requests are strict and bounded', () => {
    for (const n of INVOKE_NAMES) {
      // no operation accepts an arbitrary object
      expect(INVOKES[n].request.safeParse({ __proto__: null, surprise: 1 }).success, n).toBe(false);
    }
    expect(ProbeRequestSchema.safeParse({ image: 'busybox', platforms: ['linux/arm64'] }).success).toBe(true);
    expect(ProbeRequestSchema.safeParse({ image: 'busybox', platforms: [] }).success).toBe(false);
    expect(ProbeRequestSchema.safeParse({ image: 'busybox', platforms: Array(17).fill('linux/arm64') }).success).toBe(false);
    expect(ProbeRequestSchema.safeParse({ image: '-v /:/host busybox', platforms: ['linux/arm64'] }).success).toBe(false);
    expect(ProbeRequestSchema.safeParse({ image: 'busybox', platforms: ['linux/arm64'], timeoutMs: 10 }).success).toBe(false);
    expect(ProbeRequestSchema.safeParse({ image: 'busybox', platforms: ['linux/arm64'], privileged: true }).success).toBe(false);
  });
});
