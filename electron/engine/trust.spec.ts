// checkPathSyntax's canonical test is a regular expression; it must refuse exactly what the plain
// definition refuses (posix.normalize changes the path, or it ends in "/"). The file checks
// themselves run against real files: test/trust/store.test.ts, test/kernel/bad-input.test.ts.
import { posix } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArchwayError } from '../../shared/errors';
import { checkPathSyntax } from './trust';

const plainCanonical = (p: string): boolean => posix.normalize(p) === p && !p.endsWith('/');
const refusedAsNotCanonical = (p: string): boolean => {
  try {
    checkPathSyntax(p);
    return false;
  } catch (err) {
    expect(err).toBeInstanceOf(ArchwayError);
    return /not a canonical path/.test((err as Error).message);
  }
};

describe('checkPathSyntax: canonical paths, as posix.normalize defines them', () => {
  it('agrees with the plain definition on absolute paths of slashes, dots and names', () => {
    const path = fc.array(fc.constantFrom('/', '.', '..', 'a', 'qemu-arm', '...', '.a'), { maxLength: 9 }).map((parts) => `/${parts.join('')}`);
    fc.assert(
      fc.property(path, (p) => {
        expect(refusedAsNotCanonical(p), p).toBe(!plainCanonical(p));
      }),
      { numRuns: 5000 },
    );
  });
  it('the usual emulator paths pass; each way of being non-canonical is refused', () => {
    for (const ok of ['/usr/bin/qemu-aarch64-static', '/usr/libexec/qemu-binfmt/arm-binfmt-P', '/opt/a..b/.hidden/x...']) {
      expect(() => checkPathSyntax(ok), ok).not.toThrow();
    }
    for (const bad of ['/', '/usr//bin/x', '/usr/./bin/x', '/usr/bin/../x', '/usr/bin/x/', '/usr/bin/.', '/usr/bin/..', '//usr/x']) {
      expect(refusedAsNotCanonical(bad), bad).toBe(true);
    }
  });
});
