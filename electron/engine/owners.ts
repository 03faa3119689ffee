/** Who declared which handler: systemd binfmt.d files, Debian binfmt-support, Archway's record. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRegister } from '../../shared/binfmt/register';
import { ArchwayRecordSchema, emptyRecord, type ArchwayRecord } from '../../shared/record';
import type { BinfmtdRule } from '../../shared/status';
import { childPath } from '../../shared/child-path';
import { listIfPresent, recordFile, type ArchwayPaths } from './paths';

export const PERSIST_HEADER = '# Managed by Archway';

/**
 * systemd-binfmt semantics: files named *.conf; a file in an earlier directory masks a file of the
 * same name in a later one; one rule a line; '#' and ';' start comments.
 */
export function readBinfmtd(dirs: readonly string[], only?: ReadonlySet<string>): { rules: BinfmtdRule[]; problems: string[] } {
  const effective = new Map<string, string>();
  for (const dir of dirs) {
    let names: string[] | undefined;
    try {
      names = listIfPresent(dir);
    } catch {
      continue;
    }
    for (const n of names ?? []) if (n.endsWith('.conf') && !effective.has(n)) effective.set(n, childPath(dir, n));
  }
  const rules: BinfmtdRule[] = [];
  const problems: string[] = [];
  for (const file of [...effective.values()].sort()) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const archway = text.startsWith(PERSIST_HEADER);
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#') || line.startsWith(';')) continue;
      if (only && !archway && !only.has(line.slice(1, line.indexOf(line[0]!, 1)))) continue;
      try {
        rules.push({ file, rule: parseRegister(line), archway });
      } catch (err) {
        problems.push(`${file}: ${(err as Error).message}`);
      }
    }
  }
  return { rules, problems };
}

/** Debian binfmt-support keeps one file per registered format; the first line is the package. */
export function readBinfmtSupport(dir: string): { name: string; package?: string }[] {
  let names: string[] | undefined;
  try {
    names = listIfPresent(dir);
  } catch {
    return [];
  }
  return (names ?? []).map((name) => {
    try {
      const pkg = readFileSync(join(dir, name), 'utf8').split('\n')[0]?.trim();
      return pkg ? { name, package: pkg } : { name };
    } catch {
      return { name };
    }
  });
}

export function readRecord(paths: ArchwayPaths): { record: ArchwayRecord; problem?: string } {
  let text: string;
  try {
    // Not readIfPresent: a state path through a file (ENOTDIR) is a problem to report, not "no record".
    text = readFileSync(recordFile(paths), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { record: emptyRecord() };
    return { record: emptyRecord(), problem: `cannot read Archway's record: ${(err as Error).message}` };
  }
  try {
    return { record: ArchwayRecordSchema.parse(JSON.parse(text)) };
  } catch (err) {
    return { record: emptyRecord(), problem: `Archway's record ${recordFile(paths)} is damaged (${(err as Error).message.split('\n')[0]})` };
  }
}
