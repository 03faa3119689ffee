/**
 * Which handler a rootless engine's container uses, and why — the one decision the CLI's status,
 * the window's scope switch and the probe's fix share. Pure.
 *
 * The kernel's rule (Linux ≥ 6.7, fs/binfmt_misc.c load_binfmt_misc): a process execs through the
 * binfmt_misc instance of the nearest user namespace, walking up towards the host's, that HAS an
 * instance. So once a rootless engine's namespace has its own instance, its containers see only
 * that table: the host's handlers no longer apply to them at all (for every architecture, not only
 * those the engine's instance has), until the namespace ends (podman system migrate, reboot).
 */
import type { FixIntent } from './actions';
import type { Cpu } from './arch/catalog';
import type { Status } from './status';

export const SCOPES = ['host', 'podman', 'docker'] as const;
export type Scope = (typeof SCOPES)[number];
export type RootlessScopeName = Exclude<Scope, 'host'>;

export const SCOPE_LABEL: Record<Scope, string> = { host: 'this machine', podman: 'my rootless Podman', docker: 'my rootless Docker' };
const ENGINE_WORDS: Record<RootlessScopeName, string> = { podman: 'your rootless Podman', docker: 'your rootless Docker' };

/** The engine's view at /proc/sys/fs/binfmt_misc in its namespace (electron/rootless/detect.ts decides it). */
export type InstanceKind = 'own' | 'inherited' | 'none';

export interface EngineUse {
  cpu: Cpu;
  /** Where a container of the engine finds its handler. */
  uses: 'native' | 'engine' | 'host' | 'none';
  handler?: string;
  why: string;
  /** What makes it run inside the engine, without a password. */
  fix?: FixIntent;
}

/** The `archway` command of a fix, for a scope (the same words as intentCommand, plus --scope). */
export function scopedCommand(command: string, scope: Scope): string {
  return scope === 'host' ? command : `${command} --scope ${scope}`;
}

function ready(s: Status | null, cpu: Cpu): string | undefined {
  const a = s?.archs.find((x) => x.cpu === cpu);
  return a && a.state === 'ready' ? (a.winner ?? a.handlers[0]) : undefined;
}

/**
 * For each foreign architecture that has a handler on the host or in the engine's instance (or is
 * named in `also`): what a container of `scope` uses. `engine` is the engine instance's status when it has its own
 * instance (null otherwise).
 */
export function engineUses(scope: RootlessScopeName, host: Status | null, engine: Status | null, instance: InstanceKind, also: readonly Cpu[] = []): EngineUse[] {
  const who = ENGINE_WORDS[scope];
  const cpus = new Set<Cpu>(also);
  for (const s of [host, engine]) for (const a of s?.archs ?? []) if (a.handlers.length > 0 && a.native !== 'yes') cpus.add(a.cpu);
  const out: EngineUse[] = [];
  for (const cpu of cpus) {
    const hostArch = host?.archs.find((a) => a.cpu === cpu) ?? engine?.archs.find((a) => a.cpu === cpu);
    if (hostArch?.native === 'yes') {
      out.push({ cpu, uses: 'native', why: 'runs natively on this machine' });
      continue;
    }
    const fix: FixIntent = { action: 'install', archs: [cpu], scope };
    const own = instance === 'own';
    const mine = own ? ready(engine, cpu) : undefined;
    const hosts = ready(host, cpu);
    if (mine) {
      out.push({ cpu, uses: 'engine', handler: mine, why: `${who}'s own binfmt_misc instance has ${mine}${hosts ? ` (it hides the host's ${hosts})` : ''}` });
    } else if (own) {
      const disabled = engine?.archs.find((a) => a.cpu === cpu);
      out.push({
        cpu,
        uses: 'none',
        why: `${who} has its own binfmt_misc instance without a ready handler for ${cpu}${disabled && disabled.handlers.length ? ` (${disabled.state})` : ''}; the kernel does not look at the host's table for its containers${hosts ? ` (so the host's ${hosts} does not apply)` : ''}`,
        fix: disabled && disabled.state === 'disabled' ? { action: 'enable', archs: [cpu], scope } : fix,
      });
    } else if (hosts) {
      out.push({ cpu, uses: 'host', handler: hosts, why: `${who} has no binfmt_misc instance of its own, so its containers use the host's ${hosts}` });
    } else {
      out.push({ cpu, uses: 'none', why: `no handler on the host, and ${who} has no binfmt_misc instance of its own`, fix });
    }
  }
  return out.sort((a, b) => a.cpu.localeCompare(b.cpu));
}

/** One rootless engine of the current user, as every face shows it (electron/rootless/report.ts makes it). */
export interface ScopeView {
  scope: RootlessScopeName;
  label: string;
  running: boolean;
  pid?: number;
  instance: InstanceKind;
  /** Its own instance's status, or the empty table the planner sees before the first install (absent when not running). */
  status?: Status;
  uses: EngineUse[];
  /** Asked for (Archway's record for this engine) but not in its instance now: re-apply brings them back. */
  missing: string[];
  why?: string;
}

/** What turning on an engine's own instance takes away: the host's ready handlers its containers stop seeing. */
export function hiddenByInstance(host: Status | null, keep: readonly Cpu[] = []): string[] {
  return (host?.archs ?? []).filter((a) => a.state === 'ready' && a.native !== 'yes' && !keep.includes(a.cpu)).map((a) => a.cpu);
}
