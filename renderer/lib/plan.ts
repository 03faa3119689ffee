/**
 * The plan preview, in words: for each operation what the helper will write (the exact register
 * string) and which files it touches, what it refuses, and how it will be authorised. Pure.
 */
import { SCOPE_LABEL } from '../../shared/rootless';
import type { Intent } from '../../shared/actions';
import type { OpResult } from '../../shared/helper-protocol';
import type { PlanView } from '../../shared/ipc/contract';

export interface PlanStep {
  title: string;
  ok: boolean;
  /** Nothing to do (already in that state). */
  noop: boolean;
  message: string;
  register?: string;
  files: string[];
  warnings: string[];
  /** Risks the step takes (typed), each with its one sentence: shown where the user chooses. */
  risks: { id: string; message: string }[];
  error?: { code: string; message: string; hint?: string };
}

export interface PlanSummary {
  title: string;
  steps: PlanStep[];
  skipped: { arch: string; why: string }[];
  /** Whether Apply can run (something to do, nothing refused). */
  canApply: boolean;
  /** Refusals that a person can override: handlers owned by another tool. */
  override?: { kind: 'force' | 'takeOver'; label: string; explain: string };
  authorisation: string;
  /** For an emulator fetch: where each emulator comes from (image, digest, size, sha256, QEMU). */
  provenance?: string[];
}

const VERB: Record<Intent['action'], string> = {
  install: 'Install',
  uninstall: 'Uninstall',
  enable: 'Enable',
  disable: 'Disable',
  'persist-on': 'Keep after reboot',
  'persist-off': 'Stop keeping after reboot',
  mount: 'Mount binfmt_misc',
  'drop-c': 'Drop flag C from',
  use: 'Switch the emulator of',
};

function stepTitle(r: OpResult): string {
  const what = r.name ?? r.arch ?? '';
  return `${r.op}${what ? ` ${what}` : ''}`;
}

export function summarisePlan(plan: PlanView): PlanSummary {
  const results = plan.preview?.results ?? [];
  const steps: PlanStep[] = results.map((r) => ({
    title: stepTitle(r),
    ok: r.ok,
    noop: r.ok && !r.changed,
    message: r.message,
    ...(r.register ? { register: r.register } : {}),
    files: r.files ?? [],
    warnings: r.warnings ?? [],
    risks: r.risks ?? [],
    ...(r.error ? { error: r.error } : {}),
  }));
  const refused = steps.filter((s) => !s.ok);
  const notOwned = refused.length > 0 && refused.every((s) => s.error?.code === 'not-owned');
  const intent = plan.intent;
  const isInstall = intent?.action === 'install';
  const override =
    intent && notOwned && !intent.force && !intent.takeOver && intent.action !== 'use'
      ? isInstall
        ? {
            kind: 'takeOver' as const,
            label: 'Take over and replace',
            explain: 'Another tool registered this handler. Archway can replace it with its own; the old one is recorded and put back if you uninstall.',
          }
        : {
            kind: 'force' as const,
            label: `${VERB[intent.action]} anyway`,
            explain: 'Archway did not install this handler: another tool (or a package) owns it and may expect it to stay.',
          }
      : undefined;
  const wholeError = plan.preview?.error;
  const changes = steps.filter((s) => s.ok && !s.noop).length;
  return {
    title: intent
      ? `${VERB[intent.action]} ${intent.archs.join(', ')}${intent.scope ? ` for ${SCOPE_LABEL[intent.scope]}` : ''}`.trim()
      : `${plan.fetch?.importedFrom ? 'Import' : 'Fetch'} emulators: ${(plan.fetch?.emulators.map((e) => e.cpu) ?? plan.fetch?.archs ?? []).join(', ')}`,
    steps,
    skipped: plan.skipped,
    canApply: !!plan.request && !wholeError && refused.length === 0 && changes > 0,
    ...(override ? { override } : {}),
    authorisation: intent?.scope
      ? `No password: the changes go to ${SCOPE_LABEL[intent.scope]}'s own binfmt_misc instance, as you; nobody else is affected. Once it has its own instance, its containers no longer use this machine's handlers.`
      : plan.elevation === 'pkexec'
        ? 'You will be asked for an administrator password once, for all of these changes (polkit).'
        : 'Archway runs as root: the changes are applied directly.',
    ...(plan.fetch
      ? {
          provenance: [
            ...(plan.fetch.route ? [`Pull: ${plan.fetch.route}`] : []),
            ...(plan.fetch.importedFrom ? [`Read from ${plan.fetch.importedFrom} (no container engine involved)`] : []),
            ...plan.fetch.emulators.map(
            // The sha256 is what the helper checks (it stores those bytes or nothing); the rest is
            // what the extracting process reported, shown as reported.
            (e) => `${e.emulator}: ${e.size} bytes, sha256 ${e.sha256} (the helper stores exactly these bytes); ${e.reported}`,
            ),
          ],
        }
      : {}),
  };
}
