import * as fs from 'node:fs';

/**
 * SIGKILL every process whose command line matches (`argv`: its words; `raw`: them joined by NUL).
 * Processes that are gone, or not ours to read, are skipped. For test daemons' leftovers (container
 * shims, conmon) that outlive the daemon.
 */
export function killProcessesMatching(matches: (argv: string[], raw: string) => boolean): void {
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (matches(raw.split('\0'), raw)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already, or not ours to read
    }
  }
}
