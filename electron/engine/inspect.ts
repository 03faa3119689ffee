/**
 * Status, unprivileged: one snapshot read by the one reader (electron/core/snapshot.ts
 * readHostSnapshot, with its status facts), and everything decided from it by shared/status.ts
 * (statusOf: buildStatus plus the planner's own install readiness per CPU).
 */
import { rawStatusOf, statusOf, type RawStatus, type Status } from '../../shared/status';
import { readHostSnapshot, statusScope } from '../core/snapshot';
import { hostFacts } from './host';
import type { ArchwayPaths } from './paths';

// Where they were first written (the reader owns them now).
export { distroQemuVersion, interpreterFacts } from '../core/snapshot';

/** The status facts of `paths`'s instance, and what could not be read (compatible form of statusOf's input). */
export function readRawStatus(paths: ArchwayPaths): { raw: RawStatus; problems: string[] } {
  const snap = readHostSnapshot(paths, hostFacts(), statusScope(hostFacts()));
  return { raw: rawStatusOf(snap), problems: [...(snap.status?.problems ?? []), ...(snap.recordProblem ? [snap.recordProblem] : [])] };
}

export function readStatus(paths: ArchwayPaths): Status {
  return statusOf(readHostSnapshot(paths, hostFacts(), statusScope(hostFacts())));
}
