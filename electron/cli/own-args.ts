/**
 * The pieces of the commands that parse their own options (probe, shell: spec.ts documents them):
 * the walk over `--flag value` / `--flag=value` up to `--`, and the values both take. One place, so
 * the two parse alike.
 */
import { parsePlatform, platformRecord } from '../../shared/probe';
import type { PullPolicy } from '../container/images';

export class ArgsUsageError extends Error {}

/**
 * Calls `on` for every word before `--` with its flag and a `take()` for the option's value (the
 * `=value`, else the next word, which may not start with `--`); returns the words after `--`
 * (undefined when there is no `--`).
 */
export function walkArgs(argv: readonly string[], on: (flag: string, take: () => string, word: string) => void): string[] | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return argv.slice(i + 1);
    const eq = word.indexOf('=');
    const [flag, inline] = word.startsWith('--') && eq > 0 ? [word.slice(0, eq), word.slice(eq + 1)] : [word, undefined];
    on(flag, () => {
      if (inline !== undefined) return inline;
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new ArgsUsageError(`${flag} needs a value`);
      i++;
      return v;
    }, word);
  }
  return undefined;
}

export function pullPolicy(v: string): PullPolicy {
  if (v !== 'missing' && v !== 'always' && v !== 'never') throw new ArgsUsageError('--pull is missing, always or never');
  return v;
}

/** A platform Archway knows (linux/arm64, arm/v7, s390x…), or a usage error saying which it knows. */
export function checkPlatformArg(p: string): void {
  try {
    parsePlatform(p);
    platformRecord(p);
  } catch (err) {
    throw new ArgsUsageError((err as Error).message);
  }
}
