import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheKey, defaultImageCacheFile, fileImageCache, isImageId, memoryImageCache, splitReference, withRefLock } from './images';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'archway-images-spec-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const id = (c: string) => `sha256:${c.repeat(64)}`;

describe('references', () => {
  it('splits repo, tag and digest as the pull API wants them', () => {
    expect(splitReference('alpine')).toEqual({ repo: 'alpine', tag: 'latest' });
    expect(splitReference('127.0.0.1:5000/a/b:1.2')).toEqual({ repo: '127.0.0.1:5000/a/b', tag: '1.2' });
    expect(splitReference('127.0.0.1:5000/a/b')).toEqual({ repo: '127.0.0.1:5000/a/b', tag: 'latest' });
    expect(splitReference(`docker.io/tonistiigi/binfmt:qemu-v9.2.2@${id('a')}`)).toEqual({ repo: 'docker.io/tonistiigi/binfmt', tag: id('a') });
    expect(splitReference(`busybox@${id('b')}`)).toEqual({ repo: 'busybox', tag: id('b') });
  });

  it('recognises image IDs (never pulled)', () => {
    expect(isImageId(id('c'))).toBe(true);
    expect(isImageId('83c8a4263df9')).toBe(true);
    expect(isImageId('alpine:3')).toBe(false);
  });
});

describe('platform image caches', () => {
  it('memory cache is bounded, most recent kept', () => {
    const c = memoryImageCache(2);
    c.set('a', id('1'));
    c.set('b', id('2'));
    c.set('c', id('3'));
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual([undefined, id('2'), id('3')]);
  });

  it('file cache survives the process and ignores junk', () => {
    const file = path.join(dir, 'sub', 'probe-images.json');
    const k = cacheKey('img:1', id('d'), 'linux/arm64');
    fileImageCache(file).set(k, id('e'));
    expect(fileImageCache(file).get(k)).toBe(id('e'));
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
    fs.writeFileSync(file, JSON.stringify({ [k]: 'rm -rf /', other: id('f') }));
    const again = fileImageCache(file);
    expect(again.get(k)).toBeUndefined();
    expect(again.get('other')).toBe(id('f'));
    fs.writeFileSync(file, '{');
    expect(fileImageCache(file).get('other')).toBeUndefined();
    expect(defaultImageCacheFile({ HOME: '/home/ada' })).toBe('/home/ada/.cache/archway/probe-images.json');
    expect(defaultImageCacheFile({ XDG_CACHE_HOME: '/c' })).toBe('/c/archway/probe-images.json');
  });
});

describe('withRefLock', () => {
  it('runs work on one reference one at a time, and survives failures', async () => {
    const order: string[] = [];
    const slow = (name: string, ms: number, fail = false) =>
      withRefLock('r', async () => {
        order.push(`${name}>`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`<${name}`);
        if (fail) throw new Error(name);
      });
    const other = withRefLock('other', async () => order.push('other'));
    await Promise.allSettled([slow('a', 30, true), slow('b', 5), other]);
    expect(order.indexOf('<a')).toBeLessThan(order.indexOf('b>'));
    expect(order.indexOf('other')).toBeLessThan(order.indexOf('<a'));
  });
});
