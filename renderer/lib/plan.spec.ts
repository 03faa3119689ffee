import { describeReported } from '../../shared/provenance';
import { describe, expect, it } from 'vitest';
import { planView, REG } from '../testing/plans';
import { summarisePlan } from './plan';

describe('plan summary', () => {
  it('shows the exact register string and files, and one authorisation for the batch', () => {
    const s = summarisePlan(planView());
    expect(s.title).toBe('Install arm64');
    expect(s.steps[0]).toMatchObject({ register: REG, files: ['/var/lib/archway/state.json'], ok: true, noop: false });
    expect(s.canApply).toBe(true);
    expect(s.authorisation).toContain('once');
    expect(summarisePlan(planView({ elevation: 'direct' })).authorisation).toContain('root');
  });

  it('nothing to change: Apply is off', () => {
    const p = planView();
    p.preview!.results[0] = { ...p.preview!.results[0]!, changed: false, message: 'already installed' };
    expect(summarisePlan(p).canApply).toBe(false);
    expect(summarisePlan(planView({ request: null, preview: null })).canApply).toBe(false);
  });

  it('a handler owned by another tool: Apply is off, and the override is offered (take over for install, force otherwise)', () => {
    const refusedOp = { op: 'install', arch: 'aarch64', ok: false, changed: false, message: 'refused', error: { code: 'not-owned' as const, message: 'qemu-aarch64 belongs to systemd-binfmt', hint: 'use --take-over' } };
    const install = summarisePlan(planView({ preview: { version: 1, ok: false, dryRun: true, results: [refusedOp] } }));
    expect(install.canApply).toBe(false);
    expect(install.override).toMatchObject({ kind: 'takeOver' });
    const un = summarisePlan(planView({ intent: { action: 'uninstall', archs: ['arm64'] }, preview: { version: 1, ok: false, dryRun: true, results: [{ ...refusedOp, op: 'uninstall' }] } }));
    expect(un.override).toMatchObject({ kind: 'force', label: 'Uninstall anyway' });
    const forced = summarisePlan(planView({ intent: { action: 'uninstall', archs: ['arm64'], force: true }, preview: { version: 1, ok: false, dryRun: true, results: [refusedOp] } }));
    expect(forced.override).toBeUndefined();
    const other = summarisePlan(planView({ preview: { version: 1, ok: false, dryRun: true, results: [{ ...refusedOp, error: { code: 'no-emulator', message: 'none' } }] } }));
    expect(other.override).toBeUndefined();
  });

  it('an emulator fetch: titled by the emulators, with each one\'s size, sha256 and reported provenance; no override', () => {
    const digest = `sha256:${'d'.repeat(64)}`;
    const s = summarisePlan(
      planView({
        intent: null,
        fetch: {
          archs: ['arm64'],
          image: `docker.io/tonistiigi/binfmt:qemu-v9.2.2@${digest}`,
          emulators: [{ cpu: 'aarch64', emulator: 'qemu-aarch64', size: 1234, sha256: 'e'.repeat(64), qemuVersion: '9.2.2', image: 'docker.io/tonistiigi/binfmt:qemu-v9.2.2', digest, reported: describeReported({ image: 'docker.io/tonistiigi/binfmt:qemu-v9.2.2', digest, qemuVersion: '9.2.2\u009b2J' }) }],
        },
        request: { version: 1, ops: [{ op: 'store-add', arch: 'aarch64', file: '/tmp/archway-emulators-x/qemu-aarch64', sha256: 'e'.repeat(64), provenance: { image: 'docker.io/tonistiigi/binfmt:qemu-v9.2.2', digest, qemuVersion: '9.2.2' } }] },
        preview: { version: 1, ok: true, dryRun: true, results: [{ op: 'store-add', arch: 'aarch64', ok: true, changed: true, message: 'store qemu-aarch64 (1234 bytes, sha256 eeeeeeeeeeee…) from docker.io/tonistiigi/binfmt:qemu-v9.2.2, QEMU 9.2.2' }] },
      }),
    );
    expect(s.title).toBe('Fetch emulators: aarch64');
    expect(s.canApply).toBe(true);
    expect(s.override).toBeUndefined();
    // What the image's extractor claims is shown as reported (and cleaned), never as verified fact.
    expect(s.provenance).toEqual([`qemu-aarch64: 1234 bytes, sha256 ${'e'.repeat(64)} (the helper stores exactly these bytes); reported: from docker.io/tonistiigi/binfmt:qemu-v9.2.2@${digest}, QEMU 9.2.2`]);
  });
});

describe('a plan in a rootless engine\'s instance (issue 10)', () => {
  it('says no password and whose instance, not "runs as root"', () => {
    const view = summarisePlan(planView({ intent: { action: 'install', archs: ['s390x'], scope: 'podman' }, elevation: 'direct' }));
    expect(view.title).toBe('Install s390x for my rootless Podman');
    expect(view.authorisation).toMatch(/^No password: .*my rootless Podman's own binfmt_misc instance/);
  });
});
