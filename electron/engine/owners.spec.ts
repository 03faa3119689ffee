// readRecord: no record is an empty one, said nothing of; a record that cannot be read (a state
// path through a file, ENOTDIR) is an empty one *with* the problem status reports.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readRecord } from './owners';
import { archwayPaths } from './paths';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'archway-record-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('readRecord', () => {
  it('no record: empty, no problem', () => {
    const r = readRecord({ ...archwayPaths(dir), stateDir: join(dir, 'state') });
    expect(r.problem).toBeUndefined();
    expect(r.record.handlers).toEqual({});
  });
  it('a state path through a file: empty, with the problem named', () => {
    writeFileSync(join(dir, 'file'), '');
    const r = readRecord({ ...archwayPaths(dir), stateDir: join(dir, 'file', 'state') });
    expect(r.problem).toMatch(/cannot read Archway's record: ENOTDIR/);
    expect(r.record.handlers).toEqual({});
  });
});
