/** How a change will be authorised. Kept apart from elevate.ts so reading status never loads child_process. */
export type ElevationMode = 'auto' | 'direct' | 'pkexec';

export function elevationMode(opts: { mode?: ElevationMode } = {}): Exclude<ElevationMode, 'auto'> {
  if (opts.mode && opts.mode !== 'auto') return opts.mode;
  return process.geteuid?.() === 0 ? 'direct' : 'pkexec';
}
