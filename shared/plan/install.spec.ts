/** The install decisions on in-memory facts: flags and what happens to an existing entry. */
import { describe, expect, it } from 'vitest';
import { SETUID_RISK } from '../binfmt/flags';
import { buildRegister } from '../binfmt/register';
import { decideExisting, decideFlags } from './install';
import { catalogRule } from './rules';

const WRAPPER = '/usr/libexec/qemu-binfmt/aarch64-binfmt-P';
const STATIC = '/usr/bin/qemu-aarch64-static';

describe('decideFlags', () => {
  const base = { cpu: 'aarch64', allowSetuid: false, preserveArgv0: true, interpreter: WRAPPER };
  it('defaults: PF with the wrapper, F with a plain emulator, never C', () => {
    expect(decideFlags(base)).toBe('PF');
    expect(decideFlags({ ...base, preserveArgv0: false, interpreter: STATIC })).toBe('F');
  });
  it('C only by opt-in; named C without it is refused with the risk and the opt-in as hint', () => {
    expect(decideFlags({ ...base, allowSetuid: true })).toBe('POCF');
    expect(() => decideFlags({ ...base, requested: 'PFC' })).toThrow(SETUID_RISK);
    expect(decideFlags({ ...base, requested: 'PFC', allowSetuid: true })).toBe('POCF');
  });
  it('F is required, whatever else is asked', () => {
    for (const requested of ['', 'P', 'PO', 'POC']) expect(() => decideFlags({ ...base, requested, allowSetuid: true })).toThrow(/lack F/);
  });
  it('a recorded handler keeps what was recorded (C included); a fresh default has no C', () => {
    expect(decideFlags({ ...base, recorded: 'POCF' })).toBe('POCF');
    expect(decideFlags({ ...base, recorded: 'PF' })).toBe('PF');
    expect(decideFlags({ ...base, recorded: 'PF', allowSetuid: true })).toBe('POCF');
  });
  it('P exactly with a *-binfmt-P wrapper', () => {
    expect(() => decideFlags({ ...base, preserveArgv0: false, interpreter: STATIC, requested: 'PF' })).toThrow(/flag P needs/);
    expect(() => decideFlags({ ...base, requested: 'F' })).toThrow(/expects flag P/);
  });
});

describe('decideExisting', () => {
  const rule = catalogRule('aarch64', WRAPPER, 'PF');
  const theirs = { rule: catalogRule('aarch64', '/usr/bin/qemu-aarch64', 'OCF'), enabled: true };
  const owned = { cpu: 'aarch64', register: buildRegister(rule), source: 'distro' as const, installedAt: 'now', installedBy: 0, persist: false };
  const ask = (over: Partial<Parameters<typeof decideExisting>[0]>) => decideExisting({ cpu: 'aarch64', rule, existing: undefined, owned: undefined, takeOver: false, ownerWords: () => 'tonistiigi/binfmt', ...over });
  it('nothing there: register', () => expect(ask({})).toEqual({ replace: false, warnings: [] }));
  it('Archway\'s own: replace only when it differs or is disabled', () => {
    expect(ask({ existing: { rule, enabled: true }, owned }).replace).toBe(false);
    expect(ask({ existing: { rule, enabled: false }, owned }).replace).toBe(true);
    expect(ask({ existing: { rule: { ...rule, flags: 'POCF' }, enabled: true }, owned }).replace).toBe(true);
  });
  it('another tool\'s: refused unless taken over; a take-over remembers theirs (restored on uninstall)', () => {
    expect(() => ask({ existing: theirs })).toThrow(/already registered by tonistiigi\/binfmt/);
    const d = ask({ existing: theirs, takeOver: true });
    expect(d).toMatchObject({ replace: true, previous: { register: buildRegister(theirs.rule), owner: 'tonistiigi/binfmt' } });
    expect(d.warnings[0]).toMatch(/restores theirs \(with C\)/);
  });
  it('WSL\'s interop entry is never touched, take-over or not', () => {
    const wsl = { ...rule, name: 'WSLInterop' };
    expect(() => decideExisting({ cpu: 'aarch64', rule: wsl, existing: { rule: wsl, enabled: true }, owned: undefined, takeOver: true, ownerWords: () => 'WSL' })).toThrow(/never changed/);
  });
});
