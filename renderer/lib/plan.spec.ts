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
});
