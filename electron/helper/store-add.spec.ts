import { describe, expect, it } from 'vitest';
import { checkCallerCanRead } from './store-add';

/** A fake directory tree: path → owner and mode (what lstat would say). */
const tree = (dirs: Record<string, [number, number]>) => (p: string) => {
  const d = dirs[p];
  if (!d) throw new Error(`ENOENT ${p}`);
  return { uid: d[0], mode: d[1], isDirectory: () => true };
};
const CALLER = 1000;
const base = { '/': [0, 0o755], '/tmp': [0, 0o1777], '/home': [0, 0o755] } as Record<string, [number, number]>;
const code = (f: () => void) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

describe('store-add: could the caller read this file themselves? (owners and modes, never access() as root)', () => {
  it('the caller\'s own file in their own private directory: yes', () => {
    const lstat = tree({ ...base, '/tmp/x': [CALLER, 0o700] });
    expect(code(() => checkCallerCanRead('/tmp/x/qemu', { uid: CALLER, mode: 0o100700 }, CALLER, lstat))).toBe('ok');
  });
  it('another user\'s file, whatever its mode: no', () => {
    const lstat = tree({ ...base, '/tmp/x': [CALLER, 0o755] });
    expect(code(() => checkCallerCanRead('/tmp/x/qemu', { uid: 1001, mode: 0o100644 }, CALLER, lstat))).toBe('not-readable');
  });
  it('root\'s file: only when world-readable, and only through directories the caller may search', () => {
    const open = tree({ ...base, '/home/bob': [1001, 0o755] });
    const closed = tree({ ...base, '/home/bob': [1001, 0o700] });
    const groupOnly = tree({ ...base, '/home/bob': [1001, 0o750] });
    expect(code(() => checkCallerCanRead('/home/bob/prog', { uid: 0, mode: 0o100755 }, CALLER, open))).toBe('ok');
    expect(code(() => checkCallerCanRead('/home/bob/prog', { uid: 0, mode: 0o100700 }, CALLER, open))).toBe('not-readable');
    expect(code(() => checkCallerCanRead('/home/bob/prog', { uid: 0, mode: 0o100755 }, CALLER, closed))).toBe('not-readable');
    // Group membership is not assumed: a directory open only to its group is refused.
    expect(code(() => checkCallerCanRead('/home/bob/prog', { uid: 0, mode: 0o100755 }, CALLER, groupOnly))).toBe('not-readable');
  });
  it('the caller\'s own file with no read bit: no', () => {
    const lstat = tree({ ...base, '/tmp/x': [CALLER, 0o700] });
    expect(code(() => checkCallerCanRead('/tmp/x/qemu', { uid: CALLER, mode: 0o100000 }, CALLER, lstat))).toBe('not-readable');
  });
  it('root as the caller (sudo, no pkexec) may store any file', () => {
    expect(code(() => checkCallerCanRead('/root/x', { uid: 1001, mode: 0o100600 }, 0, tree({})))).toBe('ok');
  });
});
