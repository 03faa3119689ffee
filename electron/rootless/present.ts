/**
 * Whether plain `archway status` has anything rootless to show, decided from a few stats and
 * without loading the rootless code (electron/cli/rootless.ts statusAllScopes and its chunk): a
 * report is shown for an engine that is running (a live process named by one of its pid files) or
 * that has something asked for (its record, `state.json` in the user's state directory). With no
 * pid file and no record of either engine there is nothing to show (electron/rootless/report.ts
 * `reports` would return none); otherwise statusAllScopes decides exactly as before.
 */
import { existsSync } from 'node:fs';
import { recordFile } from '../engine/paths';
import { pidFiles, ROOTLESS_SCOPES } from './detect';
import { rootlessPaths } from './target';

export function rootlessMayShow(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): boolean {
  return ROOTLESS_SCOPES.some((s) => pidFiles(s, env, uid).some((f) => existsSync(f)) || existsSync(recordFile(rootlessPaths(s, 0, false, env))));
}
