import type { ArchState } from '../../shared/status';
import { STATE_LABEL } from '../lib/archs';

export function StateBadge({ state, summary }: { state: ArchState; summary?: string }) {
  return (
    <span className={`badge state-${state}`} title={summary}>
      {STATE_LABEL[state]}
    </span>
  );
}
