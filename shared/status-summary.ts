/**
 * The status in one line, for the tray icon's tooltip (electron/main/tray.ts) and anywhere else a
 * single line must do: what is wrong first (handlers gone from the kernel, broken, in conflict,
 * disabled), then what runs. Pure; `level` is for code (which icon), `text` for people.
 */
import type { ArchStatus, Status } from './status';
import { cleanText } from './sanitize';

export interface StatusSummary {
  /** 'bad': something Archway installed is gone or broken; 'warn': a conflict or a disabled handler; 'ok' otherwise. */
  level: 'ok' | 'warn' | 'bad';
  text: string;
}

const name = (a: ArchStatus) => a.platforms[0] ?? a.cpu;
const list = (names: readonly string[]) => (names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', '));

export function statusSummary(status: Status | null): StatusSummary {
  if (!status) return { level: 'ok', text: 'Archway: reading binfmt_misc…' };
  if (!status.mount.mounted) return { level: 'bad', text: 'Archway: binfmt_misc is not mounted: no foreign program runs' };
  if (status.globalEnabled === false) return { level: 'bad', text: 'Archway: binfmt_misc is switched off: no foreign program runs' };
  const foreign = status.archs.filter((a) => a.native !== 'yes');
  const by = (s: ArchStatus['state']) => foreign.filter((a) => a.state === s).map(name);
  const problems: string[] = [];
  if (status.vanished.length) problems.push(`${list(status.vanished.map((v) => cleanText(v.name)))} gone from the kernel`);
  const broken = by('broken');
  if (broken.length) problems.push(`${list(broken)} broken`);
  const conflict = [...by('conflict'), ...status.archs.filter((a) => a.native === 'yes' && a.state === 'conflict').map(name)];
  if (conflict.length) problems.push(`${list(conflict)} in conflict`);
  const disabled = by('disabled');
  if (disabled.length) problems.push(`${list(disabled)} disabled`);
  const ready = by('ready');
  const runs = ready.length ? `${ready.length} foreign ${ready.length > 1 ? 'architectures' : 'architecture'} ready (${list(ready)})` : 'no foreign architecture ready';
  const level = status.vanished.length || broken.length ? 'bad' : conflict.length || disabled.length ? 'warn' : 'ok';
  return { level, text: `Archway: ${[...problems, runs].join('; ')}` };
}
