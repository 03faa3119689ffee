/**
 * The helper's flag rules, as a dry run over a scratch root (binfmt_misc not mounted there, so no
 * handler exists): F always, C only by explicit opt-in and then with its risk named. Uses Debian's
 * qemu-user-static emulators of this machine (installed in CI by scripts/test.mjs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SETUID_RISK } from '../../shared/binfmt/flags';
import { PROTOCOL_VERSION, type HelperOp } from '../../shared/helper-protocol';
import { hostFacts } from '../engine/host';
import { archwayPaths } from '../engine/paths';
import { Helper } from './ops';

const root = mkdtempSync(join(tmpdir(), 'archway-flags-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function dryRun(op: HelperOp) {
  const helper = new Helper({ paths: archwayPaths(root, join(root, 'binfmt')), host: hostFacts(), callerUid: 0 });
  return helper.run({ version: PROTOCOL_VERSION, ops: [op] }, { dryRun: true });
}

describe('helper: safe default flags', () => {
  it('defaults to PF with Debian\'s *-binfmt-P wrapper: F, never C', async () => {
    const r = (await dryRun({ op: 'install', arch: 'aarch64' })).results[0]!;
    expect(r.ok, r.message).toBe(true);
    expect(r.register).toMatch(/aarch64-binfmt-P:PF$/);
    expect(r.risks).toBeUndefined();
  });

  it('C only with the explicit opt-in, and the plan names the risk (typed + one sentence)', async () => {
    const opted = (await dryRun({ op: 'install', arch: 'aarch64', allowSetuid: true })).results[0]!;
    expect(opted.register).toMatch(/:POCF$/);
    expect(opted.risks).toEqual([{ id: 'setuid-credentials', message: SETUID_RISK }]);
    const sneaky = (await dryRun({ op: 'install', arch: 'aarch64', flags: 'PFC' })).results[0]!;
    expect(sneaky.ok).toBe(false);
    expect(sneaky.error).toMatchObject({ code: 'bad-flags', hint: expect.stringContaining('--allow-setuid') });
    const explicit = (await dryRun({ op: 'install', arch: 'aarch64', flags: 'PFC', allowSetuid: true })).results[0]!;
    expect(explicit.register).toMatch(/:POCF$/);
  });

  it('refuses flags without F, with a hint that adds it', async () => {
    for (const flags of ['P', '', 'PO']) {
      const r = (await dryRun({ op: 'install', arch: 'aarch64', flags })).results[0]!;
      expect(r.ok).toBe(false);
      expect(r.error).toMatchObject({ code: 'bad-flags', message: expect.stringContaining('lack F'), hint: expect.stringContaining('--flags') });
    }
  });
});
