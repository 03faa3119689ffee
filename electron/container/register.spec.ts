import { describe, expect, it } from 'vitest';
import { buildRegister } from '../../shared/binfmt/register';
import { catalogRule } from '../../shared/status';
import type { Modem } from './api';
import { planContainerEngineRule, registerThroughContainerEngine } from './register';

describe('planContainerEngineRule (the helper\'s validation, for the engine backend)', () => {
  it('builds exactly the catalog register string', () => {
    const p = planContainerEngineRule({ cpu: 'arm64', interpreter: '/usr/bin/qemu-aarch64-static', flags: 'F' }, 'x86_64');
    expect(p.register).toBe(buildRegister(catalogRule('aarch64', '/usr/bin/qemu-aarch64-static', 'F')));
    expect(p).toMatchObject({ cpu: 'aarch64', name: 'qemu-aarch64', hostPath: '/usr/bin/qemu-aarch64-static' });
    expect(planContainerEngineRule({ cpu: 's390x', interpreter: '/usr/bin/qemu-s390x-static' }, 'x86_64').rule.flags).toBe('F');
  });

  it('refuses flags without F, by name and in a catalog register string', () => {
    expect(() => planContainerEngineRule({ cpu: 's390x', interpreter: '/usr/bin/qemu-s390x-static', flags: 'OC' }, 'x86_64')).toThrow(/lack F/);
    expect(() => planContainerEngineRule({ cpu: 's390x', interpreter: '/usr/bin/qemu-s390x-static', flags: '' }, 'x86_64')).toThrow(/lack F/);
    expect(() => planContainerEngineRule({ register: buildRegister(catalogRule('s390x', '/usr/bin/qemu-s390x-static', 'OC')) }, 'x86_64')).toThrow(/lack F/);
  });

  it('accepts a catalog register string back (re-register) and nothing else', () => {
    const reg = buildRegister(catalogRule('s390x', '/usr/bin/qemu-s390x-static', 'F'));
    expect(planContainerEngineRule({ register: reg }, 'x86_64').register).toBe(reg);
    const foreignMagic = ':qemu-s390x:M::\\x7fELF:\\xff\\xff\\xff\\xff:/usr/bin/qemu-s390x-static:F';
    expect(() => planContainerEngineRule({ register: foreignMagic }, 'x86_64')).toThrow(/catalog/);
    expect(() => planContainerEngineRule({ register: ':python:E::py::/usr/bin/python3:' }, 'x86_64')).toThrow(/magic/);
  });

  it('refuses native CPUs, bad flags and unsafe paths', () => {
    expect(() => planContainerEngineRule({ cpu: 'x86_64', interpreter: '/usr/bin/qemu-x86_64-static' }, 'x86_64')).toThrow(/natively/);
    expect(() => planContainerEngineRule({ cpu: '386', interpreter: '/usr/bin/qemu-i386-static' }, 'x86_64')).toThrow(/natively/);
    expect(() => planContainerEngineRule({ cpu: 'arm64', interpreter: '/usr/bin/qemu-aarch64-static', flags: 'FX' }, 'x86_64')).toThrow(/flags/);
    expect(() => planContainerEngineRule({ cpu: 'arm64', interpreter: 'qemu-aarch64' }, 'x86_64')).toThrow(/absolute/);
    expect(() => planContainerEngineRule({ cpu: 'arm64', interpreter: '/usr/bin/../bin/qemu' }, 'x86_64')).toThrow(/canonical/);
    expect(() => planContainerEngineRule({ cpu: 'arm64', interpreter: '/usr/bin/qemu:x' }, 'x86_64')).toThrow(/":"/);
    expect(() => planContainerEngineRule({ cpu: 'nonsense', interpreter: '/x' }, 'x86_64')).toThrow(/unknown architecture/);
  });
});

describe('rootless engines', () => {
  it('are refused before any container is made', async () => {
    const t = { modem: {} as Modem, endpointName: 'unix:///run/user/1000/docker.sock', kind: 'unix' as const, info: { arch: 'amd64', hostMachine: 'x86_64', rootless: true } };
    await expect(registerThroughContainerEngine(t, [{ cpu: 'arm64', interpreter: '/usr/bin/qemu-aarch64-static' }])).rejects.toMatchObject({ message: expect.stringMatching(/rootless/), hint: expect.stringMatching(/archway install/) });
  });
});
