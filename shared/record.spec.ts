import { describe, expect, it } from 'vitest';
import { emptyRecord, parseRecord, RecordFormatError } from './record';

const handler = { cpu: 'aarch64', register: ':qemu-aarch64:M::\\x7f:\\xff:/usr/bin/qemu-aarch64-static:F', source: 'distro', installedAt: '2026-11-30T08:00:00.000Z', installedBy: 1000, persist: false };

describe('parseRecord: the one check of state.json', () => {
  it('accepts a record as the helper writes it, with a take-over and a pending step', () => {
    const rec = { version: 1, handlers: { 'qemu-aarch64': { ...handler, previous: { register: ':x:E::x::/bin/true:', owner: 'tonistiigi/binfmt' } } }, pending: [{ name: 'qemu-aarch64', op: 'install', register: '', startedAt: 't', handler }] };
    expect(parseRecord(JSON.parse(JSON.stringify(rec)))).toEqual(rec);
    expect(parseRecord(emptyRecord())).toEqual(emptyRecord());
  });

  it.each([
    ['an unknown top-level field', { version: 1, handlers: {}, extra: 1 }, /unknown field "extra"/],
    ['another version', { version: 2, handlers: {} }, /version: expected 1/],
    ['an unknown handler field', { version: 1, handlers: { a: { ...handler, evil: true } } }, /handlers\.a: unknown field "evil"/],
    ['a negative uid', { version: 1, handlers: { a: { ...handler, installedBy: -1 } } }, /installedBy/],
    ['a fractional uid', { version: 1, handlers: { a: { ...handler, installedBy: 1.5 } } }, /installedBy/],
    ['an unknown source', { version: 1, handlers: { a: { ...handler, source: 'web' } } }, /source: expected one of/],
    ['an over-long register string', { version: 1, handlers: { a: { ...handler, register: 'x'.repeat(1921) } } }, /longer than 1920/],
    ['an over-long name', { version: 1, handlers: { ['n'.repeat(65)]: handler } }, /longer than 64/],
    ['a missing field', { version: 1, handlers: { a: { ...handler, persist: undefined } } }, /persist: missing/],
    ['a list of handlers', { version: 1, handlers: [] }, /handlers: expected an object/],
    ['too many pending steps', { version: 1, handlers: {}, pending: Array.from({ length: 129 }, () => ({ name: 'a', op: 'install', register: '', startedAt: 't' })) }, /more than 128/],
    ['a pending step of another kind', { version: 1, handlers: {}, pending: [{ name: 'a', op: 'rm', register: '', startedAt: 't' }] }, /pending\.0\.op/],
  ])('refuses %s', (_what, value, message) => {
    expect(() => parseRecord(JSON.parse(JSON.stringify(value)))).toThrow(RecordFormatError);
    expect(() => parseRecord(JSON.parse(JSON.stringify(value)))).toThrow(message);
  });

  it('keeps a handler named __proto__ as data, never as the prototype', () => {
    const rec = parseRecord(JSON.parse(`{"version":1,"handlers":{"__proto__":${JSON.stringify(handler)}}}`));
    expect(Object.getPrototypeOf(rec.handlers)).toBe(Object.prototype);
    expect(Object.keys(rec.handlers)).toEqual(['__proto__']);
  });
});
