import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheFileName, codeCacheDir, commandKey } from './code-cache';

describe('commandKey: what the code cache files are kept per', () => {
  it('the command and its long options, sorted, without values', () => {
    expect(commandKey(['status'])).toBe('status');
    expect(commandKey(['status', '--json'])).toBe('status+json');
    expect(commandKey(['status', '--json', '--all'])).toBe(commandKey(['status', '--all', '--json']));
    expect(commandKey(['probe', '--platform=linux/arm64', '--image', 'busybox'])).toBe('probe+image+platform');
  });

  it('no command word: "-"; what follows -- (a container command) never counts', () => {
    expect(commandKey(['--version'])).toBe('-+version');
    expect(commandKey([])).toBe('-');
    expect(commandKey(['shell', '--platform', 'linux/s390x', 'img', '--', 'sh', '--login', '--x'])).toBe('shell+platform');
  });

  it('odd words are not names: at most six options, each a plain lower-case word', () => {
    expect(commandKey(['../../etc/passwd'])).toBe('-');
    expect(commandKey(['status', '--A', '--a/b', '--ok'])).toBe('status+ok');
    expect(commandKey(['x', '--a', '--b', '--c', '--d', '--e', '--f', '--g']).split('+')).toHaveLength(7);
  });
});

describe('codeCacheDir: only a folder the user alone may write', () => {
  let base: string | undefined;
  afterEach(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });
  const uid = process.geteuid!();

  it('made under XDG_CACHE_HOME (0700) and found again', () => {
    base = mkdtempSync(join(tmpdir(), 'archway-ccd-'));
    const dir = codeCacheDir({ XDG_CACHE_HOME: base }, uid);
    expect(dir).toBe(join(base, 'archway', 'code-cache'));
    expect(statSync(dir!).mode & 0o777).toBe(0o700);
    expect(codeCacheDir({ XDG_CACHE_HOME: base }, uid)).toBe(dir);
  });

  it('none for a relative or missing cache home, another uid, or a folder others may write', () => {
    base = mkdtempSync(join(tmpdir(), 'archway-ccd-'));
    expect(codeCacheDir({ XDG_CACHE_HOME: 'relative/cache' }, uid)).toBeUndefined();
    expect(codeCacheDir({}, uid)).toBeUndefined();
    expect(codeCacheDir({ XDG_CACHE_HOME: base }, uid + 1)).toBeUndefined();
    expect(existsSync(join(base, 'archway'))).toBe(false); // nothing made for someone else
    mkdirSync(join(base, 'archway', 'code-cache'), { recursive: true, mode: 0o700 });
    chmodSync(join(base, 'archway'), 0o777);
    expect(codeCacheDir({ XDG_CACHE_HOME: base }, uid)).toBeUndefined();
  });
});

describe('cacheFileName', () => {
  it('folder key, script, command, Node and identity, so installations and versions never share a file', () => {
    const a = cacheFileName({ dir: '/usr/lib/archway/cli/chunks', script: 'chunk-A.cjs', command: 'status+json', node: 'v24.22.3-x64', identity: '1-2-3-4' });
    expect(a).toMatch(/^[0-9a-f]{8}~chunk-A\.cjs~status\+json~v24\.22\.3-x64~1-2-3-4$/);
    expect(cacheFileName({ dir: '/home/u/archway/dist/cli/chunks', script: 'chunk-A.cjs', command: 'status+json', node: 'v24.22.3-x64', identity: '1-2-3-4' }).slice(0, 8)).not.toBe(a.slice(0, 8));
  });
});
