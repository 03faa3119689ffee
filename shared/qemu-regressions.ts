/**
 * QEMU versions with known regressions in user-mode emulation, as Archway ships them: each with the
 * upstream report and one line of what that report says. Only what the threads themselves state is
 * written here (read 2026-11 through their GitHub threads); a version is matched on its upstream
 * number (`9.2.0` matches `9.2.0`, `9.2.0 (v9.2.0-51…)`, `9.2.0-51`), never on a prefix of it.
 * Status warns on a handler whose emulator names one of these versions, and offers a stored version
 * that is not listed. Pure data + one lookup.
 */

export interface QemuRegression {
  /** The upstream QEMU version the report names (x.y.z). */
  version: string;
  /** The upstream report. */
  url: string;
  /** One line: what the report says goes wrong. */
  summary: string;
  /** Architectures the report is about (guest CPUs, catalog names); absent = not limited by the report. */
  cpus?: readonly string[];
}

export const QEMU_REGRESSIONS: readonly QemuRegression[] = [
  {
    version: '9.2.0',
    url: 'https://github.com/tonistiigi/binfmt/issues/245',
    summary: 'qemu v9 regression: linux/arm64 emulation segfaults in libc-bin (ldconfig) during apt upgrade on Ubuntu (binfmt reports qemu/v9.2.0)',
    cpus: ['aarch64'],
  },
  {
    version: '9.2.0',
    url: 'https://github.com/docker/setup-qemu-action/issues/201',
    summary: 'tonistiigi/binfmt qemu-v9.2.0-51: emulated arm64 segfaults running the libc-bin configuration script; qemu-v7.0.0-28 was used as a workaround',
    cpus: ['aarch64'],
  },
  {
    version: '9.2.0',
    url: 'https://github.com/tonistiigi/binfmt/issues/240',
    summary: '"Segmentation fault in latest binfmt image" (Feb 2025): arm64 builds segfault processing libc-bin triggers; setup-qemu-action #201 (qemu-v9.2.0-51) points here for the same failure',
    cpus: ['aarch64'],
  },
  {
    version: '10.1.3',
    url: 'https://github.com/tonistiigi/binfmt/issues/298',
    summary: 'segfault on libc-bin in an Ubuntu-based image after moving from a binfmt master build to 10.1.3-60',
  },
];

const UPSTREAM = new Map<string, string | undefined>();

/** The upstream x.y.z at the start of a version string as QEMU prints it (`7.2.22 (Debian …)` → `7.2.22`). */
export function upstreamVersion(v: string | undefined): string | undefined {
  if (!v) return undefined;
  // Status asks once per handler, nearly always of the same one or two versions.
  if (UPSTREAM.has(v)) return UPSTREAM.get(v);
  const m = /^v?(\d{1,3}\.\d{1,3}(?:\.\d{1,4})?)(?![\d.]*\d)/.exec(v.trim());
  const up = !m ? undefined : m[1]!.split('.').length === 2 ? `${m[1]}.0` : m[1];
  if (UPSTREAM.size < 64) UPSTREAM.set(v, up);
  return up;
}

/** The known regressions of this version (for this CPU, when the report names CPUs). */
export function knownRegressions(version: string | undefined, cpu?: string): QemuRegression[] {
  const up = upstreamVersion(version);
  if (!up) return [];
  return QEMU_REGRESSIONS.filter((r) => r.version === up && (cpu === undefined || !r.cpus || r.cpus.includes(cpu)));
}
