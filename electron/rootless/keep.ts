/**
 * Keeping rootless handlers: an engine's instance lives as long as its namespace (Podman's pause
 * process, rootlesskit), so "keep" means re-applying what the user asked for — Archway's record in
 * $XDG_STATE_HOME/archway/rootless-<engine>/state.json — when the namespace comes back without it.
 * The CLI (`archway rootless reapply`), the window and the user unit (archway-rootless.service) all
 * call reapply().
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseRegister } from '../../shared/binfmt/register';
import { ArchwayError } from '../../shared/errors';
import type { HelperResponse } from '../../shared/helper-protocol';
import type { HandlerRecord } from '../../shared/record';
import { readEntry } from '../engine/binfmtfs';
import { readRecord } from '../engine/owners';
import { xdgDir } from '../engine/paths';
import { findNamespace, isNamespace, instancePath, instanceState, type RootlessScope } from './detect';
import { ensureInstance, engineFor, requireNamespace, rootlessPaths } from './target';

export interface Wanted {
  scope: RootlessScope;
  /** Handlers the user asked for (Archway's record for this engine). */
  handlers: HandlerRecord[];
  /** Of those, the ones the engine's instance does not have now (all, when there is no namespace or instance). */
  missing: HandlerRecord[];
  /** The namespace is running. */
  running: boolean;
}

/** What the user asked for in an engine, and what of it is missing now. Reading only. */
export function wanted(scope: RootlessScope, env: NodeJS.ProcessEnv = process.env): Wanted {
  const found = findNamespace(scope, env);
  const running = isNamespace(found);
  const own = running && instanceState(found.pid) === 'own';
  const paths = rootlessPaths(scope, running ? found.pid : 0, own, env);
  const recorded = Object.entries(readRecord(paths).record.handlers);
  // The record is keyed by handler name: no name is cut out of a register string.
  const missing = recorded.flatMap(([name, h]) => {
    if (!own) return [h];
    try {
      return readEntry(instancePath(found.pid), name) ? [] : [h];
    } catch {
      return [h];
    }
  });
  return { scope, handlers: recorded.map(([, h]) => h), missing, running };
}

export interface Reapplied {
  scope: RootlessScope;
  /** CPUs registered again. */
  cpus: string[];
  responses: HelperResponse[];
  ok: boolean;
}

/**
 * Register again, through the planner, every handler the record names that the engine's instance
 * lacks (the planner keeps the recorded flags and emulator). Starts Podman's namespace when it is
 * not running (any podman command would). Nothing to do → no change, no mount.
 */
export async function reapply(scope: RootlessScope, env: NodeJS.ProcessEnv = process.env): Promise<Reapplied> {
  const w = wanted(scope, env);
  if (w.missing.length === 0) return { scope, cpus: [], responses: [], ok: true };
  const found = await requireNamespace(scope, { start: true, env });
  await ensureInstance(found.ns);
  const engine = engineFor({ ns: found.ns, state: 'own' }, env);
  const now = wanted(scope, env).missing;
  const responses: HelperResponse[] = [];
  const cpus: string[] = [];
  // One request per emulator source: the planner picks the emulator from the source, the flags from the record.
  const bySource = new Map<string, HandlerRecord[]>();
  for (const h of now) {
    const key = h.source === 'path' ? `path:${parseRegister(h.register).interpreter}` : h.source;
    bySource.set(key, [...(bySource.get(key) ?? []), h]);
  }
  for (const [key, list] of bySource) {
    const source = key.startsWith('path:') ? { path: key.slice(5) } : (key as 'distro' | 'store');
    const plan = await engine.plan({ action: 'install', archs: list.map((h) => h.cpu), source });
    if (!plan.request || !plan.preview) continue;
    if (!plan.preview.ok) {
      responses.push(plan.preview);
      continue;
    }
    const run = await engine.apply(plan.request);
    responses.push(run.response);
    if (run.response.ok) cpus.push(...list.map((h) => h.cpu));
  }
  return { scope, cpus, responses, ok: responses.every((r) => r.ok) };
}

export const UNIT_NAME = 'archway-rootless.service';

/** systemd quoting of one word of ExecStart: refused when it cannot be written plainly. */
function unitWord(word: string): string {
  if (!/^[A-Za-z0-9_./@+:=,-]+$/.test(word)) {
    throw new ArchwayError('bad-request', `cannot name ${JSON.stringify(word)} in a unit file (spaces, quotes or % in the path)`, 'Install Archway in a path without those characters.');
  }
  return word;
}

/**
 * The user unit: after the user's podman.socket and docker.service, once per login and each time
 * rootless Docker starts, re-apply what the user asked for in every rootless engine.
 */
export function unitText(argv: readonly string[]): string {
  return [
    '# Written by Archway (archway rootless unit): re-applies your QEMU handlers in your rootless',
    "# engines' own binfmt_misc instances when they start. No root, no password. Remove with:",
    `#   systemctl --user disable --now ${UNIT_NAME} && rm this file`,
    '[Unit]',
    "Description=Archway: re-apply QEMU handlers in your rootless engines' binfmt_misc instances",
    'After=podman.socket podman.service docker.service',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${argv.map(unitWord).join(' ')} rootless reapply`,
    '',
    '[Install]',
    'WantedBy=default.target docker.service',
    '',
  ].join('\n');
}

export function unitPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(xdgDir(env.XDG_CONFIG_HOME, '.config', env), 'systemd/user', UNIT_NAME);
}

export function writeUnit(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const path = unitPath(env);
  const text = unitText(argv);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode: 0o644 });
  return path;
}
