import { describe, expect, it } from 'vitest';
import { PullTracker } from './pull-progress';

describe('PullTracker', () => {
  it('follows layers from waiting to done', () => {
    const t = new PullTracker();
    t.push({ status: 'Pulling from archway/bb', id: 'multi' });
    t.push({ status: 'Pulling fs layer', id: 'a' });
    t.push({ status: 'Pulling fs layer', id: 'b' });
    expect(t.snapshot().layersTotal).toBe(2);
    const mid = t.push({ status: 'Downloading', id: 'a', progressDetail: { current: 500, total: 1000 } });
    expect(mid).toMatchObject({ layer: 'a', bytesDone: 500, bytesTotal: 1000, layersDone: 0 });
    expect(mid!.percent).toBeCloseTo(17.5, 1);
    t.push({ status: 'Download complete', id: 'a' });
    t.push({ status: 'Extracting', id: 'a', progressDetail: { current: 1000, total: 1000 } });
    t.push({ status: 'Pull complete', id: 'a' });
    t.push({ status: 'Already exists', id: 'b' });
    expect(t.snapshot()).toMatchObject({ layersDone: 2, percent: 100, bytesDone: 1000 });
    t.push({ status: 'Digest: sha256:abc' });
    const end = t.push({ status: 'Status: Downloaded newer image for archway/bb:multi' });
    expect(end).toMatchObject({ percent: 100 });
    expect(t.digest).toBe('sha256:abc');
    expect(t.error).toBeUndefined();
  });

  it('does not report every byte, only visible changes', () => {
    const t = new PullTracker();
    t.push({ status: 'Pulling fs layer', id: 'a' });
    t.push({ status: 'Downloading', id: 'a', progressDetail: { current: 1, total: 100000 } });
    let reports = 0;
    for (let i = 2; i < 1000; i++) if (t.push({ status: 'Downloading', id: 'a', progressDetail: { current: i, total: 100000 } })) reports++;
    expect(reports).toBe(0);
  });

  it('records the engine\'s error', () => {
    const t = new PullTracker();
    t.push({ error: 'manifest unknown', errorDetail: { message: 'manifest for x:y not found: manifest unknown' } });
    expect(t.error).toBe('manifest for x:y not found: manifest unknown');
  });
});
