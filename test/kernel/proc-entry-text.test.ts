/**
 * procEntryText is the text the Kubernetes registration program (build/kube/archway-binfmt.c)
 * compares with what the kernel shows after registering, byte for byte: a difference fails the
 * node ("the entry does not read back as expected"). Checked against the real kernel: every
 * catalog rule that does not match this host's own programs, registered in a private binfmt_misc
 * instance and read back. The x86 rules (i386, i486 here; x86_64 on an arm64 node) have magic
 * bytes their mask clears: the kernel shows the magic as registered, not masked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG } from '../../shared/arch/catalog';
import { buildRegister } from '../../shared/binfmt/register';
import { procEntryText } from '../../shared/binfmt/entry';
import { catalogRule, hijacksHost } from '../../shared/plan/rules';
import { hostFacts } from '../../electron/engine/host';
import { privateBinfmt, type PrivateBinfmt } from './namespace';

let ns: PrivateBinfmt;

beforeAll(async () => {
  ns = await privateBinfmt();
});

afterAll(async () => {
  await ns?.close();
});

describe('procEntryText reads as the kernel shows an entry', () => {
  it('for every catalog rule this host can carry, with flags F and none', async () => {
    const host = hostFacts();
    const rules = CATALOG.flatMap((c) => ['F', ''].map((flags) => ({ ...catalogRule(c.cpu, '/usr/bin/true', flags), name: `t-${c.cpu}-${flags || 'none'}` }))).filter((r) => !hijacksHost(r, host));
    expect(rules.map((r) => r.name)).toContain('t-i386-F'); // a rule whose mask clears magic bits
    const script = 'for r in "$@"; do printf "%s" "$r" > /proc/sys/fs/binfmt_misc/register || exit 1; done';
    const reg = await ns.run(['sh', '-c', script, 'sh', ...rules.map(buildRegister)]);
    expect(reg.code, reg.stderr).toBe(0);
    const shown = await ns.snapshot();
    for (const r of rules) expect(shown[r.name], r.name).toBe(procEntryText(r));
  });
});
