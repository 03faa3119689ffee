// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { SETUID_RISK } from '../../shared/binfmt/flags';
import { planView, REG } from '../testing/plans';
import { PlanDialog } from './PlanDialog';

afterEach(cleanup);

function setup(state: Parameters<typeof PlanDialog>[0]['state']) {
  const calls: string[] = [];
  render(<PlanDialog state={state} onCancel={() => calls.push('cancel')} onApply={() => calls.push('apply')} onOverride={(k) => calls.push(`override:${k}`)} />);
  return calls;
}

describe('PlanDialog', () => {
  it('shows exactly what will be written before Apply, as a labelled modal dialog', () => {
    const calls = setup({ plan: planView(), loading: false, applying: false });
    const dialog = screen.getByRole('dialog', { name: 'Install arm64' });
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(dialog.querySelector('pre.raw')!.textContent).toMatch(/^:qemu-aarch64:M::.*aarch64-binfmt-P:POCF$/);
    expect(dialog.textContent).toContain('/var/lib/archway/state.json');
    expect(dialog.textContent).toContain('administrator password once');
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    expect(calls).toEqual(['apply']);
  });

  it('a plan that opts in to C names the concrete risk in one sentence where the user chooses it', () => {
    const step = { op: 'install', arch: 'aarch64', name: 'qemu-aarch64', ok: true, changed: true, message: 'register qemu-aarch64', register: REG, files: [], risks: [{ id: 'setuid-credentials' as const, message: SETUID_RISK }] };
    setup({ plan: planView({ intent: { action: 'install', archs: ['arm64'], allowSetuid: true }, preview: { version: 1, ok: true, dryRun: true, results: [step] } }), loading: false, applying: false });
    const risk = screen.getByRole('note');
    expect(risk.getAttribute('data-risk')).toBe('setuid-credentials');
    expect(risk.textContent).toBe(`Risk: ${SETUID_RISK}`);
  });

  it('a refused plan cannot be applied; the override is offered and asks again', () => {
    const refused = { op: 'uninstall', arch: 's390x', ok: false, changed: false, message: 'refused', error: { code: 'not-owned' as const, message: 'qemu-s390x belongs to another tool' } };
    const calls = setup({ plan: planView({ intent: { action: 'uninstall', archs: ['s390x'] }, preview: { version: 1, ok: false, dryRun: true, results: [refused] } }), loading: false, applying: false });
    expect((screen.getByRole('button', { name: 'Apply' }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByRole('dialog').textContent).toContain('qemu-s390x belongs to another tool');
    fireEvent.click(screen.getByRole('button', { name: 'Uninstall anyway…' }));
    expect(calls).toEqual(['override:force']);
  });

  it('Escape cancels, except while applying', () => {
    const calls = setup({ plan: planView(), loading: false, applying: false });
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(calls).toEqual(['cancel']);
    cleanup();
    const busy = setup({ plan: planView(), loading: false, applying: true });
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(busy).toEqual([]);
    expect(screen.getByRole('button', { name: 'Applying…' })).toBeTruthy();
  });

  it('shows a planning error with its hint', () => {
    setup({ plan: null, loading: false, applying: false, error: { code: 'unknown-arch', message: 'unknown architecture "arm65"', hint: 'Run archway status' } });
    expect(screen.getByRole('alert').textContent).toContain('unknown architecture "arm65"');
    expect(screen.getByRole('alert').textContent).toContain('Run archway status');
  });
});
