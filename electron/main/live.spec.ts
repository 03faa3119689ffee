import { describe, expect, it } from 'vitest';
import type { ContainerEngineView } from '../../shared/ipc/contract';
import type { Status } from '../../shared/status';
import { makeStatus, AARCH64_EMU } from '../../renderer/testing/statuses';
import { changeDetector, containerEngineFingerprint, startLive, statusFingerprint } from './live';

describe('change detection', () => {
  it('a status that renders the same is not a change; a handler toggled elsewhere is', () => {
    const d = changeDetector(statusFingerprint);
    expect(d.changed(makeStatus())).toBe(true);
    expect(d.changed(makeStatus())).toBe(false);
    expect(d.changed(makeStatus([{ cpu: 'aarch64', interpreter: AARCH64_EMU, flags: 'POCF' }]))).toBe(true);
    expect(d.changed(makeStatus([{ cpu: 'aarch64', interpreter: AARCH64_EMU, flags: 'POCF', enabled: false }]))).toBe(true);
  });

  it('an engine re-checked later with the same answer is not a change', () => {
    const down = (at: number): ContainerEngineView => ({ state: 'absent', error: { code: 'daemon-not-running', message: 'no daemon' }, checkedAt: at });
    expect(containerEngineFingerprint(down(1))).toBe(containerEngineFingerprint(down(2)));
  });
});

describe('startLive', () => {
  it('polls and emits only changes, and stops', async () => {
    const seq: Status[] = [makeStatus(), makeStatus(), makeStatus([{ cpu: 'aarch64', interpreter: AARCH64_EMU, flags: 'POCF' }])];
    let i = 0;
    const emitted: string[] = [];
    const live = startLive({
      readStatus: () => seq[Math.min(i++, seq.length - 1)]!,
      readContainerEngine: async () => ({ state: 'absent', error: { code: 'daemon-not-running', message: 'x' }, checkedAt: Date.now() }),
      emit: (name) => void emitted.push(name),
      statusIntervalMs: 5,
      containerEngineIntervalMs: 5,
    });
    await expect.poll(() => emitted.filter((e) => e === 'statusChanged').length).toBe(2);
    await new Promise((r) => setTimeout(r, 40));
    live.stop();
    const n = emitted.length;
    expect(emitted.filter((e) => e === 'statusChanged')).toHaveLength(2);
    expect(emitted.filter((e) => e === 'containerEngineChanged')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 30));
    expect(emitted.length).toBe(n);
  });

  it('a failing read is reported, not thrown, and polling goes on', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const live = startLive({
      readStatus: () => {
        calls++;
        throw new Error('EACCES');
      },
      readContainerEngine: async () => {
        throw new Error('boom');
      },
      emit: () => undefined,
      onError: (e) => errors.push(e),
      statusIntervalMs: 5,
    });
    await expect.poll(() => calls).toBeGreaterThan(2);
    live.stop();
    expect(errors.length).toBeGreaterThan(2);
  });

  it('a handler Archway installed vanishing is a handlerEvents event through the IPC contract (the function archway watch prints)', async () => {
    const arm = { cpu: 'aarch64', interpreter: AARCH64_EMU, flags: 'PF', archway: true };
    const seq: Status[] = [makeStatus([arm]), makeStatus([], { vanished: [arm] })];
    let i = 0;
    const sent: { name: string; payload: unknown }[] = [];
    const live = startLive({
      readStatus: () => seq[Math.min(i++, seq.length - 1)]!,
      readContainerEngine: async () => ({ state: 'absent', error: { code: 'daemon-not-running', message: 'x' }, checkedAt: 0 }),
      emit: (name, payload) => void sent.push({ name, payload }),
      statusIntervalMs: 5,
      now: () => 'T',
    });
    await expect.poll(() => sent.filter((e) => e.name === 'handlerEvents').length).toBe(1);
    live.stop();
    const ev = sent.find((e) => e.name === 'handlerEvents')!;
    expect(ev.payload).toEqual([
      expect.objectContaining({ time: 'T', event: 'vanished', name: 'qemu-aarch64', arch: 'aarch64' }),
    ]);
    // The first reading is the baseline: it is a status change, not a handler event.
    expect(sent.filter((e) => e.name === 'statusChanged')).toHaveLength(2);
  });
});
