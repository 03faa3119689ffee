/** Mount binfmt_misc when it is not mounted. Pure. */
import type { OpResult } from '../helper-protocol';
import type { OpPlan } from './common';
import type { HostSnapshot } from './snapshot';

export function planMount(s: HostSnapshot): OpPlan {
  const result: OpResult = {
    op: 'mount',
    ok: true,
    changed: !s.mounted,
    message: s.mounted ? `binfmt_misc is already mounted at ${s.binfmtPath}` : `mount binfmt_misc at ${s.binfmtPath}`,
  };
  return { result, binds: {}, steps: s.mounted ? [] : [{ kind: 'mount' }] };
}
