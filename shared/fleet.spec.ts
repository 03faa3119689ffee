import { describe, expect, it } from 'vitest';
import { hexToBytes } from './arch/catalog';
import { buildRegister } from './binfmt/register';
import type { ElfInfo } from './elf';
import { buildMatrix, differencesFrom, fleetRow, hostEmulatorVersion, installsToMatch, shownCpus, type FleetHost } from './fleet';
import { emptyRecord } from './record';
import { buildStatus, catalogRule, type RawStatus } from './status';

const X86_64_HEADER = hexToBytes('7f454c4602010100000000000000000003003e00010000000000000000000000');
const HOST_ELF: ElfInfo = { class: 64, endian: 'little', type: 3, machine: 62, dynamic: true };
const STATIC_QEMU = { exists: true, regular: true, uid: 0, mode: 0o100755, elf: { class: 64, endian: 'little', type: 3, machine: 62, dynamic: false } } as const;

function text(rule: ReturnType<typeof catalogRule>): string {
  return `enabled\ninterpreter ${rule.interpreter}\nflags: ${rule.flags}\noffset 0\nmagic ${rule.magic}\nmask ${rule.mask}\n`;
}

function status(rules: ReturnType<typeof catalogRule>[]) {
  const raw: RawStatus = {
    mount: { path: '/proc/sys/fs/binfmt_misc', mounted: true },
    globalEnabled: true,
    entries: rules.map((r, seq) => ({ name: r.name, text: text(r), seq })),
    interpreters: Object.fromEntries(rules.map((r) => [r.interpreter, { path: r.interpreter, ...STATIC_QEMU }])),
    hostMachine: 'x86_64',
    hostHeader: X86_64_HEADER,
    binfmtd: [],
    binfmtSupport: [],
    record: emptyRecord(),
    available: { aarch64: [{ path: '/usr/bin/qemu-aarch64-static', source: 'distro', version: '7.2.22' }] },
  };
  return buildStatus(raw, HOST_ELF);
}

const host = (id: string, rules: ReturnType<typeof catalogRule>[]): FleetHost => ({ id, name: id, kind: 'docker-context', endpoint: `ssh://${id}`, reach: 'ok', machine: 'x86_64', cells: fleetRow(status(rules)) });
const arm = catalogRule('aarch64', '/usr/bin/qemu-aarch64-static', 'F');
const armC = catalogRule('aarch64', '/usr/bin/qemu-aarch64-static', 'FC');
const rv = catalogRule('riscv64', '/usr/bin/qemu-riscv64-static', 'F');

describe('the fleet matrix', () => {
  it('a row is the status model\'s state per CPU, with the winning handler and its C risk', () => {
    const cells = fleetRow(status([armC]));
    expect(cells.find((c) => c.cpu === 'x86_64')).toMatchObject({ state: 'native', cRisk: false });
    expect(cells.find((c) => c.cpu === 'aarch64')).toMatchObject({ state: 'ready', cRisk: true, handler: 'qemu-aarch64', interpreter: '/usr/bin/qemu-aarch64-static' });
    expect(cells.find((c) => c.cpu === 'riscv64')).toMatchObject({ state: 'missing', cRisk: false });
    expect(fleetRow(status([arm])).find((c) => c.cpu === 'aarch64')?.cRisk).toBe(false);
    expect(hostEmulatorVersion(status([]))).toBe('7.2.22');
  });

  it('differences from a baseline, skipping hosts that did not answer', () => {
    const a = host('a', [arm]);
    const b = host('b', [rv]);
    const down: FleetHost = { id: 'down', name: 'down', kind: 'docker-context', endpoint: 'tcp://x:1', reach: 'timeout', cells: [] };
    expect(differencesFrom([a, b, down], 'a')).toEqual([
      { host: 'b', cpu: 'aarch64', baseline: 'ready', here: 'missing' },
      { host: 'b', cpu: 'riscv64', baseline: 'missing', here: 'ready' },
    ]);
    expect(differencesFrom([a, down], 'down')).toEqual([]);
    expect(buildMatrix([a, b], 'a').differences).toHaveLength(2);
    expect(buildMatrix([a, b]).differences).toEqual([]);
  });

  it('"make this host like that one" installs only what the model runs and the target does not (never removes)', () => {
    expect(installsToMatch(host('t', [rv]), host('m', [arm]))).toEqual(['aarch64']);
    expect(installsToMatch(host('t', [arm, rv]), host('m', [arm]))).toEqual([]);
  });

  it('columns: the Docker platforms, plus any CPU some host has a handler for', () => {
    const cpus = shownCpus([host('a', [catalogRule('sparc64', '/usr/bin/qemu-sparc64-static', 'F')])]);
    expect(cpus).toContain('aarch64');
    expect(cpus).toContain('x86_64');
    expect(cpus).toContain('sparc64');
    expect(cpus).not.toContain('m68k');
    expect(buildRegister(arm)).toMatch(/^:qemu-aarch64:M:/);
  });
});
