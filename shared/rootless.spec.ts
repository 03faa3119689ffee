import { describe, expect, it } from 'vitest';
import { AARCH64_EMU, makeStatus, S390X_EMU } from '../renderer/testing/statuses';
import { engineUses, hiddenByInstance, scopedCommand } from './rootless';

describe('engineUses: which handler a rootless engine\'s container uses (nearest instance wins, whole table)', () => {
  const host = makeStatus([{ cpu: 'aarch64', interpreter: AARCH64_EMU, flags: 'PF' }]);
  const engine = makeStatus([{ cpu: 's390x', interpreter: S390X_EMU, flags: 'F' }]);

  it('no instance of its own: the host\'s handler, and the fix for what the host lacks', () => {
    const uses = engineUses('podman', host, null, 'inherited', ['s390x']);
    expect(uses.find((u) => u.cpu === 'aarch64')).toMatchObject({ uses: 'host', handler: 'qemu-aarch64' });
    expect(uses.find((u) => u.cpu === 's390x')).toMatchObject({ uses: 'none', fix: { action: 'install', archs: ['s390x'], scope: 'podman' } });
  });

  it('its own instance: its handler; the host\'s handlers of other architectures no longer apply', () => {
    const uses = engineUses('podman', host, engine, 'own');
    expect(uses.find((u) => u.cpu === 's390x')).toMatchObject({ uses: 'engine', handler: 'qemu-s390x' });
    const arm = uses.find((u) => u.cpu === 'aarch64')!;
    expect(arm).toMatchObject({ uses: 'none', fix: { action: 'install', archs: ['aarch64'] } });
    expect(arm.why).toMatch(/does not look at the host's table.*qemu-aarch64 does not apply/);
  });

  it('an own handler hides the host\'s of the same architecture, and says so', () => {
    const both = makeStatus([{ cpu: 's390x', interpreter: S390X_EMU, flags: 'F' }]);
    const u = engineUses('docker', both, engine, 'own').find((x) => x.cpu === 's390x')!;
    expect(u).toMatchObject({ uses: 'engine' });
    expect(u.why).toMatch(/your rootless Docker's own .* hides the host's qemu-s390x/);
  });

  it('a disabled handler in the instance is fixed by enabling it, not a second install', () => {
    const off = makeStatus([{ cpu: 's390x', interpreter: S390X_EMU, flags: 'F', enabled: false }]);
    expect(engineUses('podman', null, off, 'own').find((x) => x.cpu === 's390x')).toMatchObject({ uses: 'none', fix: { action: 'enable', archs: ['s390x'], scope: 'podman' } });
  });

  it('what a new instance hides, and the scoped command words', () => {
    expect(hiddenByInstance(host)).toEqual(['aarch64']);
    expect(hiddenByInstance(host, ['aarch64'])).toEqual([]);
    expect(scopedCommand('archway install s390x', 'podman')).toBe('archway install s390x --scope podman');
    expect(scopedCommand('archway install s390x', 'host')).toBe('archway install s390x');
  });
});
