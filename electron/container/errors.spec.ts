import { describe, expect, it } from 'vitest';
import { compareApiVersions, daemonMessage, ContainerEngineError, toContainerEngineError } from './errors';

const unix = { endpoint: 'unix:///var/run/docker.sock', kind: 'unix' as const };
const tcp = { endpoint: 'tcp://box:2375', kind: 'tcp' as const };
const sysErr = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('toContainerEngineError', () => {
  it('explains a missing or dead daemon', () => {
    const e = toContainerEngineError(sysErr('ENOENT'), unix);
    expect(e.code).toBe('daemon-not-running');
    expect(e.message).toMatch(/no socket at unix:\/\/\/var\/run\/docker.sock/);
    expect(e.hint).toMatch(/systemctl start docker/);
    expect(toContainerEngineError(sysErr('ECONNREFUSED'), unix).code).toBe('daemon-not-running');
  });

  it('explains permission denied, the docker group and that it is root-equivalent', () => {
    const e = toContainerEngineError(sysErr('EACCES'), unix);
    expect(e.code).toBe('permission-denied');
    expect(e.hint).toMatch(/usermod -aG docker/);
    expect(e.hint).toMatch(/root-equivalent/);
  });

  it('tcp failures are "unreachable"', () => {
    for (const c of ['ECONNREFUSED', 'EHOSTUNREACH', 'ETIMEDOUT', 'ENOTFOUND']) expect(toContainerEngineError(sysErr(c), tcp).code).toBe('unreachable');
  });

  it('a dropped connection is "connection-lost"', () => {
    expect(toContainerEngineError(sysErr('ECONNRESET'), unix).code).toBe('connection-lost');
    expect(toContainerEngineError(new Error('socket hang up'), unix).code).toBe('connection-lost');
  });

  it('HTTP answers keep the daemon\'s words', () => {
    const http = (statusCode: number, message: string) => Object.assign(new Error(`(HTTP code ${statusCode}) x - ${message} `), { statusCode, json: { message } });
    const nf = toContainerEngineError(http(404, 'No such image: x'), unix);
    expect(nf).toMatchObject({ code: 'not-found', message: 'No such image: x', statusCode: 404 });
    expect(toContainerEngineError(http(409, 'conflict'), unix).code).toBe('conflict');
    const old = toContainerEngineError(http(400, 'client version 1.41 is too new. Maximum supported API version is 1.40'), unix);
    expect(old.code).toBe('api-too-old');
    expect(old.message).toMatch(/API 1\.40/);
    const r = toContainerEngineError(http(500, 'boom'), { ...unix, doing: 'starting' });
    expect(r).toMatchObject({ code: 'engine-refused', detail: 'boom' });
    expect(r.message).toBe('the engine refused while starting: boom');
  });

  it('passes EngineErrors through', () => {
    const e = new ContainerEngineError('timeout', 't');
    expect(toContainerEngineError(e, unix)).toBe(e);
  });

  it('compares API versions numerically', () => {
    expect(compareApiVersions('1.41', '1.41')).toBe(0);
    expect(compareApiVersions('1.9', '1.41')).toBeLessThan(0);
    expect(compareApiVersions('1.43', '1.41')).toBeGreaterThan(0);
    expect(daemonMessage({ message: '(HTTP code 500) server error - oops ' })).toBe('oops');
  });
});
