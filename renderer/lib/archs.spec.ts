import { describe, expect, it } from 'vitest';
import { makeStatus, mixedStatus, AARCH64_EMU } from '../testing/statuses';
import { actionsFor, decodeMagic, matchesQuery, missingInstallable, rowFor, visibleRows } from './archs';

describe('Architectures rows', () => {
  const s = mixedStatus();

  it('Docker scope lists Docker platforms in Docker\'s order; all lists every CPU', () => {
    const docker = visibleRows(s, 'docker', '');
    expect(docker.map((r) => r.platforms[0])).toEqual([
      'linux/amd64', 'linux/arm64', 'linux/arm/v7', 'linux/riscv64', 'linux/ppc64le', 'linux/s390x', 'linux/386', 'linux/mips64le', 'linux/mips64', 'linux/loong64',
    ]);
    expect(visibleRows(s, 'all', '').length).toBe(s.archs.length);
  });

  it('a row carries state, emulator, flags, persistence and owner', () => {
    const arm = rowFor(s.archs.find((a) => a.cpu === 'aarch64')!, s);
    expect(arm).toMatchObject({ state: 'ready', qemu: 'qemu-aarch64', ownedByArchway: true, persistent: false, emulator: { source: 'distro', version: '7.2.13', path: AARCH64_EMU } });
    expect(arm.flags.map((f) => f.letter)).toEqual(['P', 'F']);
    const s390 = rowFor(s.archs.find((a) => a.cpu === 's390x')!, s);
    expect(s390.owner?.kind).toBe('docker-binfmt');
    expect(s390.ownedByArchway).toBe(false);
    const amd = rowFor(s.archs.find((a) => a.cpu === 'x86_64')!, s);
    expect(amd.emulator).toBeUndefined();
  });

  it('search matches platforms, aliases, QEMU names and states', () => {
    const rows = visibleRows(s, 'all', '');
    const names = (q: string) => rows.filter((r) => matchesQuery(r, q)).map((r) => r.cpu);
    expect(names('arm64')).toEqual(['aarch64', 'aarch64_be']); // arm64be is aarch64_be's alias
    expect(names('qemu-s390x')).toEqual(['s390x']);
    expect(names('mips64le')).toEqual(['mips64el']);
    expect(names('ready')).toEqual(['aarch64', 's390x']);
    expect(names('linux/arm64 ready')).toEqual(['aarch64']);
    expect(names('no such thing')).toEqual([]);
  });

  it('one-click actions fit the state, and changes to others\' handlers are flagged to ask first', () => {
    const ids = (cpu: string) => actionsFor(rowFor(s.archs.find((a) => a.cpu === cpu)!, s));
    expect(ids('aarch64').map((a) => [a.id, a.foreign])).toEqual([['disable', false], ['persist-on', false], ['uninstall', false]]);
    expect(ids('s390x').map((a) => [a.id, a.foreign])).toEqual([['disable', true], ['uninstall', true]]);
    expect(ids('riscv64').map((a) => a.intent)).toEqual([{ action: 'install', archs: ['riscv64'] }]);
    expect(ids('x86_64')).toEqual([]);
    const disabled = makeStatus([{ cpu: 'aarch64', interpreter: AARCH64_EMU, flags: 'POCF', archway: true, enabled: false }]);
    expect(actionsFor(rowFor(disabled.archs.find((a) => a.cpu === 'aarch64')!, disabled)).map((a) => a.id)).toEqual(['enable', 'uninstall']);
    // An enabled handler with C (here another tool's OCF): Drop C is offered, flagged as a change to another's handler.
    const withC = makeStatus([{ cpu: 'aarch64', interpreter: '/usr/bin/qemu-aarch64-static', flags: 'OCF' }]);
    expect(actionsFor(rowFor(withC.archs.find((a) => a.cpu === 'aarch64')!, withC))[0]).toMatchObject({ id: 'drop-c', foreign: true, intent: { action: 'drop-c', archs: ['aarch64'] } });
  });

  it('"Install all missing" takes Docker platforms that are missing and have an emulator', () => {
    expect(missingInstallable(s)).toEqual(['riscv64']);
    expect(new Set(missingInstallable(makeStatus()))).toEqual(new Set(['s390x', 'aarch64', 'riscv64']));
  });

  it('"Install all missing" and "can use" follow the planner: an emulator on disk it would refuse is not offered', () => {
    const st = makeStatus();
    const riscv = st.archs.find((a) => a.cpu === 'riscv64')!;
    expect(rowFor(riscv, st).emulator).toMatchObject({ source: 'can use: distro', path: '/usr/bin/qemu-riscv64-static' });
    riscv.install = { ok: false, code: 'unsafe-interpreter', message: '/usr/bin/qemu-riscv64-static is owned by uid 1000, not root' };
    expect(missingInstallable(st)).not.toContain('riscv64');
    expect(rowFor(riscv, st).emulator).toBeUndefined();
  });

  it('decodes magic and mask byte by byte', () => {
    const h = s.handlers.find((x) => x.name === 'qemu-aarch64')!;
    const m = decodeMagic(h)!;
    expect(m.offset).toBe(0);
    expect(m.bytes.slice(0, 4).map((b) => b.magic)).toEqual(['7f', '45', '4c', '46']);
    expect(m.bytes[7]).toEqual({ magic: '00', mask: '00', compared: false });
    expect(m.bytes[16]).toMatchObject({ mask: 'fe', compared: true });
  });
});
