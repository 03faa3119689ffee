import { describe, expect, it } from 'vitest';
import { BINFMT_IMAGE, describePin, parseImageRef, PinError, pullRoute, registryOf } from './pins';

const D = `sha256:${'c'.repeat(64)}`;

describe('--image references', () => {
  it('takes REPO:TAG@DIGEST as before, and a mirror reference by digest alone', () => {
    expect(parseImageRef(`docker.io/tonistiigi/binfmt:qemu-v8.1.5@${D}`)).toMatchObject({ repo: 'docker.io/tonistiigi/binfmt', tag: 'qemu-v8.1.5', digest: D, samePin: false });
    const m = parseImageRef(`mirror.example:5000/tonistiigi/binfmt@${BINFMT_IMAGE.digest}`);
    // The pinned digest from a mirror: the same image, so the pin's tag stays in the provenance.
    expect(m).toMatchObject({ repo: 'mirror.example:5000/tonistiigi/binfmt', tag: BINFMT_IMAGE.tag, digest: BINFMT_IMAGE.digest, samePin: true });
    const other = parseImageRef(`mirror.example:5000/tonistiigi/binfmt@${D}`);
    expect(other).toMatchObject({ tag: '', digest: D, samePin: false });
    expect(describePin(other)).toBe(`mirror.example:5000/tonistiigi/binfmt@${D}`);
  });
  it('refuses a reference without a digest, or a short one', () => {
    for (const bad of ['mirror.example:5000/tonistiigi/binfmt', 'tonistiigi/binfmt:latest', 'x@sha256:abc', `mirror.example:5000/@${D}`]) expect(() => parseImageRef(bad)).toThrow(PinError);
  });
});

describe('where the engine pulls from', () => {
  it("names the registry as Docker does", () => {
    expect(registryOf('docker.io/tonistiigi/binfmt')).toBe('docker.io');
    expect(registryOf('tonistiigi/binfmt')).toBe('docker.io');
    expect(registryOf('127.0.0.1:5000/tonistiigi/binfmt')).toBe('127.0.0.1:5000');
    expect(registryOf('localhost/x')).toBe('localhost');
  });
  it('registry-mirrors apply to Docker Hub references only', () => {
    expect(pullRoute(BINFMT_IMAGE, ['http://127.0.0.1:5000'])).toMatchObject({ registry: 'docker.io', mirrors: ['http://127.0.0.1:5000'] });
    expect(pullRoute(BINFMT_IMAGE, ['http://127.0.0.1:5000']).words).toMatch(/through its registry-mirrors \(http:\/\/127\.0\.0\.1:5000\), then Docker Hub/);
    expect(pullRoute(BINFMT_IMAGE, undefined).words).toMatch(/from Docker Hub \(it has no registry-mirrors\)/);
    const direct = pullRoute(parseImageRef(`mirror.example:5000/tonistiigi/binfmt@${D}`), ['http://127.0.0.1:5000']);
    expect(direct).toMatchObject({ registry: 'mirror.example:5000', mirrors: [] });
    expect(direct.words).toMatch(/directly \(registry-mirrors apply to Docker Hub only\)/);
  });
});
