/**
 * Where an emulator in Archway's store came from, as the process that extracted it *reported* it.
 * Nobody verified it (the helper verifies only the bytes' sha256, which an administrator approved),
 * so every face shows it through this one sentence: "reported: from IMAGE@DIGEST, QEMU x.y". Pure.
 */
import { cleanText } from './sanitize';

export interface ReportedProvenance {
  image: string;
  digest?: string;
  qemuVersion?: string;
  /** `archway emulators import`: the file or directory the emulator was read from (no engine involved). */
  importedFrom?: string;
}

const field = (s: string | undefined, max: number) => (s === undefined ? '' : cleanText(s).slice(0, max));

export function describeReported(p: ReportedProvenance | undefined): string {
  if (!p) return 'reported: nothing';
  const image = field(p.image, 256) || 'an unnamed image';
  const digest = field(p.digest, 100);
  const version = field(p.qemuVersion, 64);
  const from = field(p.importedFrom, 256);
  if (from) {
    const img = field(p.image, 256);
    return `reported: imported from ${from}${img ? `, image ${img}${digest ? `@${digest}` : ''}` : ''}${version ? `, QEMU ${version}` : ''}`;
  }
  return `reported: from ${image}${digest ? `@${digest}` : ''}${version ? `, QEMU ${version}` : ''}`;
}
