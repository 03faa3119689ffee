import { describe, expect, it } from 'vitest';
import { MAX_API_VERSION, MIN_API_VERSION, negotiateApiVersion } from './api-version';
import { toContainerEngineError } from './errors';

const AT = 'unix:///var/run/docker.sock';
const none = {};

describe('API version negotiation (as the docker CLI does it)', () => {
  it('uses the lower of the daemon\'s newest and the newest Archway speaks', () => {
    expect(negotiateApiVersion({ apiVersion: '1.41', minApiVersion: '1.12' }, none, AT)).toEqual({ version: '1.41', how: 'negotiated' });
    expect(negotiateApiVersion({ apiVersion: '1.45', minApiVersion: '1.24' }, none, AT)).toEqual({ version: '1.45', how: 'negotiated' });
    // Docker 29: 1.52 newest, 1.44 oldest accepted.
    expect(negotiateApiVersion({ apiVersion: '1.52', minApiVersion: '1.44' }, none, AT)).toEqual({ version: MAX_API_VERSION, how: 'negotiated' });
    expect(MAX_API_VERSION).toBe('1.51');
  });

  it('an engine older than Archway needs: the engine must be upgraded, both versions named', () => {
    expect(() => negotiateApiVersion({ apiVersion: '1.40', minApiVersion: '1.12' }, none, AT)).toThrow(
      expect.objectContaining({
        code: 'api-too-old',
        message: `the engine at ${AT} speaks Docker API 1.40; Archway needs ${MIN_API_VERSION} or newer (to choose a platform per container)`,
        hint: expect.stringMatching(/^Upgrade the engine/),
      }),
    );
    // A daemon that does not say is taken as 1.24, as the docker CLI takes it.
    expect(() => negotiateApiVersion({}, none, AT)).toThrow(expect.objectContaining({ code: 'api-too-old', message: expect.stringContaining('API 1.24;') }));
  });

  it('an engine that no longer accepts anything Archway speaks: Archway must be upgraded', () => {
    expect(() => negotiateApiVersion({ apiVersion: '1.60', minApiVersion: '1.55' }, none, AT)).toThrow(
      expect.objectContaining({
        code: 'client-too-old',
        message: `the engine at ${AT} accepts Docker API 1.55 or newer; Archway used ${MAX_API_VERSION}`,
        hint: expect.stringMatching(/^Upgrade Archway/),
      }),
    );
  });

  it('DOCKER_API_VERSION pins the version (no negotiation), checked against both sides', () => {
    expect(negotiateApiVersion({ apiVersion: '1.52', minApiVersion: '1.44' }, { DOCKER_API_VERSION: '1.47' }, AT)).toEqual({ version: '1.47', how: 'DOCKER_API_VERSION' });
    expect(negotiateApiVersion({ apiVersion: '1.41' }, { DOCKER_API_VERSION: 'v1.41' }, AT)).toEqual({ version: '1.41', how: 'DOCKER_API_VERSION' });
    expect(() => negotiateApiVersion({ apiVersion: '1.52', minApiVersion: '1.44' }, { DOCKER_API_VERSION: '1.43' }, AT)).toThrow(
      expect.objectContaining({ code: 'client-too-old', message: expect.stringContaining('DOCKER_API_VERSION=1.43'), hint: expect.stringMatching(/Unset DOCKER_API_VERSION/) }),
    );
    expect(() => negotiateApiVersion({ apiVersion: '1.41' }, { DOCKER_API_VERSION: '1.44' }, AT)).toThrow(
      expect.objectContaining({ code: 'api-too-old', message: expect.stringContaining('speaks Docker API 1.41 at most, but DOCKER_API_VERSION=1.44') }),
    );
    expect(() => negotiateApiVersion({ apiVersion: '1.41' }, { DOCKER_API_VERSION: '1.40' }, AT)).toThrow(expect.objectContaining({ code: 'bad-endpoint', message: expect.stringContaining('Archway needs 1.41') }));
    expect(() => negotiateApiVersion({ apiVersion: '1.41' }, { DOCKER_API_VERSION: 'latest' }, AT)).toThrow(expect.objectContaining({ code: 'bad-endpoint' }));
  });
});

describe('a daemon\'s own version refusals (HTTP 400) name the right side', () => {
  const http400 = (message: string) => Object.assign(new Error(`(HTTP code 400) bad parameter - ${message} `), { statusCode: 400, json: { message } });
  it('"client version … is too old" (Docker 29 with an old pinned client) blames the client, not the engine', () => {
    const e = toContainerEngineError(http400('client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version'), { endpoint: AT, kind: 'unix' });
    expect(e.code).toBe('client-too-old');
    expect(e.message).toBe(`the engine at ${AT} accepts Docker API 1.44 or newer; Archway used 1.41`);
    expect(e.hint).toMatch(/^Upgrade Archway/);
    expect(e.message + (e.hint ?? '')).not.toMatch(/upgrade the engine/i);
    const pinned = toContainerEngineError(http400('client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version'), { endpoint: AT, kind: 'unix', apiPinned: true });
    expect(pinned.message).toContain('DOCKER_API_VERSION=1.41');
  });
  it('"client version … is too new" blames the engine', () => {
    const e = toContainerEngineError(http400('client version 1.41 is too new. Maximum supported API version is 1.40'), { endpoint: AT, kind: 'unix' });
    expect(e).toMatchObject({ code: 'api-too-old', message: expect.stringContaining('speaks Docker API 1.40; Archway needs 1.41'), hint: expect.stringMatching(/^Upgrade the engine/) });
    const pinned = toContainerEngineError(http400('client version 1.45 is too new. Maximum supported API version is 1.43'), { endpoint: AT, kind: 'unix', apiPinned: true });
    expect(pinned).toMatchObject({ code: 'api-too-old', message: `the engine at ${AT} speaks Docker API 1.43 at most; Archway used 1.45 (DOCKER_API_VERSION)`, hint: expect.stringMatching(/Unset DOCKER_API_VERSION/) });
  });
});
