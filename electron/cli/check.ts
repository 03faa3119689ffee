/**
 * `archway status --check PLATFORM…`: does each platform run here? The answer is the status
 * model's own per-architecture state (native, ready, conflict: programs run; anything else: they
 * do not) — this module only looks it up and names the command that fixes it. Pure.
 */
import { resolveOne } from '../../shared/arch/resolve';
import type { ArchState, ArchStatus, Status } from '../../shared/status';

/** States in which the status model counts an architecture's programs as running here (its `supported`). */
export const RUNS_HERE: readonly ArchState[] = ['native', 'ready', 'conflict'];

export interface PlatformCheck {
  /** As the user typed it. */
  input: string;
  cpu: string;
  /** The Docker platform it names, when it names one. */
  platform: string | null;
  runs: boolean;
  state: ArchState;
  /** Why, in one sentence (the status model's summary). */
  why: string;
  /** The command that makes it run, when it does not. */
  fix?: string;
}

function fixFor(a: ArchStatus, s: Status): string | undefined {
  switch (a.state) {
    case 'missing':
      return a.available.length > 0 ? `archway install ${a.cpu}` : `archway emulators fetch ${a.cpu} && archway install ${a.cpu} --source store`;
    case 'disabled':
      return `archway enable ${a.cpu}`;
    case 'broken': {
      const h = s.handlers.find((x) => x.name === a.winner);
      return h?.checks.find((c) => c.level === 'error' && c.fix)?.fix ?? `archway status (see ${a.winner ?? a.cpu})`;
    }
    default:
      return undefined;
  }
}

/** Throws UnknownArchError (a usage error) for a name that is no architecture. */
export function checkPlatforms(s: Status, inputs: readonly string[]): PlatformCheck[] {
  return inputs.map((input) => {
    const entry = resolveOne(input);
    const a = s.archs.find((x) => x.cpu === entry.cpu);
    const named = input.trim().toLowerCase().replace(/^(linux\/)?/, 'linux/');
    const platform = entry.platforms.find((p) => p.platform === named)?.platform ?? entry.platforms[0]?.platform ?? null;
    if (!a) return { input, cpu: entry.cpu, platform, runs: false, state: 'missing', why: `${entry.cpu} is not in the status`, fix: `archway install ${entry.cpu}` };
    let runs = RUNS_HERE.includes(a.state);
    let why = a.summary;
    let fix = runs ? undefined : fixFor(a, s);
    // The kernel ignores every handler while binfmt_misc is globally disabled.
    if (runs && a.state !== 'native' && s.globalEnabled === false) {
      runs = false;
      why = 'binfmt_misc is globally disabled: the kernel uses no handler';
      fix = `echo 1 | sudo tee ${s.mount.path}/status`;
    }
    return { input, cpu: a.cpu, platform, runs, state: a.state, why, ...(fix ? { fix } : {}) };
  });
}
