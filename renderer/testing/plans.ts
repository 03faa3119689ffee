/** A plan as main returns it (the helper's dry run for installing arm64), for the renderer's tests. */
import type { PlanView } from '../../shared/ipc/contract';

export const REG = ':qemu-aarch64:M::\\x7f\\x45\\x4c\\x46:\\xff\\xff\\xff\\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:POCF';

export function planView(over: Partial<PlanView> = {}): PlanView {
  return {
    planId: 'plan-0001-aaaa',
    intent: { action: 'install', archs: ['arm64'] },
    request: { version: 1, ops: [{ op: 'install', arch: 'aarch64' }] },
    preview: {
      version: 1,
      ok: true,
      dryRun: true,
      results: [{ op: 'install', arch: 'aarch64', name: 'qemu-aarch64', ok: true, changed: true, message: 'register qemu-aarch64', register: REG, files: ['/var/lib/archway/state.json'] }],
    },
    skipped: [],
    elevation: 'pkexec',
    refused: [],
    ...over,
  };
}

