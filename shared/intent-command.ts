/**
 * The `archway` command line that carries out an intent: the one place a fix becomes words.
 * Zod-free (types only from actions.ts), so status can offer fixes without loading the schemas.
 */
import type { Intent } from './actions';

export function intentCommand(intent: Pick<Intent, 'action' | 'archs'> & Partial<Intent>): string {
  const words = ['archway'];
  if (intent.action === 'use') {
    const e = intent.emulator ?? 'distro';
    return ['archway', 'emulators', 'use', ...intent.archs, e === 'distro' ? 'distro' : e.sha256].join(' ');
  }
  if (intent.action === 'persist-on' || intent.action === 'persist-off') words.push('persist', intent.action === 'persist-on' ? 'on' : 'off');
  else words.push(intent.action);
  words.push(...intent.archs);
  if (intent.flags !== undefined) words.push('--flags', intent.flags || '""');
  if (intent.allowSetuid) words.push('--allow-setuid');
  if (intent.persist) words.push('--persist');
  if (intent.takeOver) words.push('--take-over');
  if (intent.force) words.push('--force');
  if (intent.scope) words.push('--scope', intent.scope);
  return words.join(' ');
}
