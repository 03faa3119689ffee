import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DOCKER_PLATFORMS } from './arch/catalog';
import { resolveOne } from './arch/resolve';
import {
  classifyProbe,
  decodeUtf8,
  DEFAULT_PROBE_COMMAND,
  expectedUname,
  imageMatchesPlatform,
  installFix,
  observedMachine,
  OutputCap,
  parsePlatform,
  platformRecord,
  ProbeEventSchema,
  ProbeResultSchema,
  rootlessScopeOf,
  type ClassifyInput,
} from './probe';

const arm64 = platformRecord('linux/arm64');
const armv7 = platformRecord('linux/arm/v7');
const i386 = platformRecord('linux/386');

function input(over: Partial<ClassifyInput>): ClassifyInput {
  return {
    platform: arm64,
    hostMachine: 'x86_64',
    command: DEFAULT_PROBE_COMMAND,
    exitCode: 0,
    stdoutTail: 'aarch64\n',
    stderrTail: '',
    ...over,
  };
}

describe('platforms', () => {
  it('parses and names platforms', () => {
    expect(parsePlatform('linux/arm/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('arm64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(parsePlatform('arm/v6')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v6' });
    expect(() => parsePlatform('arm/v7/x')).toThrow(/not a platform/);
    expect(() => parsePlatform('windows/amd64')).toThrow(/only linux/);
    expect(() => parsePlatform('linux/arm/v7/x')).toThrow(/not a platform/);
    expect(() => parsePlatform('linux/ar m')).toThrow(/not a platform/);
  });

  it('finds catalog records, including other ARM variants', () => {
    expect(platformRecord('linux/arm64/v8').platform).toBe('linux/arm64');
    expect(platformRecord('LINUX/S390X').cpu).toBe('s390x');
    const v5 = platformRecord('linux/arm/v5');
    expect(v5).toMatchObject({ platform: 'linux/arm/v5', cpu: 'arm', variant: 'v5' });
    expect(v5.unameM).toContain('armv7l');
    expect(() => platformRecord('linux/sparc64')).toThrow(/unknown platform/);
  });

  it('matches image platforms with containerd defaults for variants', () => {
    expect(imageMatchesPlatform(arm64, { architecture: 'arm64', variant: 'v8' })).toBe(true);
    expect(imageMatchesPlatform(arm64, { architecture: 'arm64' })).toBe(true);
    expect(imageMatchesPlatform(armv7, { architecture: 'arm' })).toBe(true);
    expect(imageMatchesPlatform(armv7, { architecture: 'arm', variant: 'v6' })).toBe(false);
    expect(imageMatchesPlatform(platformRecord('linux/arm/v6'), { architecture: 'arm', variant: 'v7' })).toBe(false);
    expect(imageMatchesPlatform(arm64, { architecture: 'amd64' })).toBe(false);
    expect(imageMatchesPlatform(arm64, { os: 'windows', architecture: 'arm64' })).toBe(false);
  });
});

describe('expectedUname', () => {
  it('gives QEMU names for emulated platforms', () => {
    expect(expectedUname(armv7, 'x86_64').values).toEqual(['armv7l']);
    expect(expectedUname(platformRecord('linux/mips64le'), 'x86_64').values).toEqual(['mips64']);
    expect(expectedUname(arm64, 'x86_64').native).toBeNull();
  });

  it('gives the host machine for platforms the host runs natively', () => {
    const e = expectedUname(i386, 'x86_64');
    expect(e.native).toBe('yes');
    expect(e.values[0]).toBe('x86_64');
    expect(e.values).toContain('i686'); // 32-bit personality
    expect(expectedUname(platformRecord('linux/amd64'), 'x86_64').values).toEqual(['x86_64']);
    expect(expectedUname(arm64, 'aarch64').values).toEqual(['aarch64']);
  });

  it('accepts both answers where nativeness depends on the processor', () => {
    const e = expectedUname(armv7, 'aarch64');
    expect(e.native).toBe('maybe');
    expect(e.values).toEqual(expect.arrayContaining(['armv7l', 'aarch64', 'armv8l']));
  });
});

describe('classifyProbe', () => {
  it('ok when uname -m matches', () => {
    const c = classifyProbe(input({}));
    expect(c.status).toBe('ok');
    expect(c.observed).toBe('aarch64');
    expect(classifyProbe(input({ platform: armv7, stdoutTail: 'armv7l\n' })).status).toBe('ok');
  });

  it('ok for linux/386 on x86_64 printing x86_64', () => {
    const c = classifyProbe(input({ platform: i386, stdoutTail: 'x86_64\n' }));
    expect(c.status).toBe('ok');
    expect(c.message).toMatch(/natively/);
    expect(c.note).toBeUndefined();
  });

  it('no-handler on exec format error, with the install fix', () => {
    const c = classifyProbe(input({ exitCode: 1, stdoutTail: '', stderrTail: 'exec /bin/uname: exec format error\n' }));
    expect(c.status).toBe('no-handler');
    expect(c.fix).toBe('archway install arm64');
    const s = classifyProbe(input({ platform: platformRecord('linux/s390x'), exitCode: null, stdoutTail: '', stderrTail: '', errorKind: 'engine-error', errorMessage: 'OCI runtime create failed: exec format error' }));
    expect(s.status).toBe('no-handler');
    expect(s.fix).toBe('archway install s390x');
    expect(c.intent).toEqual({ action: 'install', archs: ['arm64'] });
  });

  it('a setuid program that did not gain privileges (no C) gets its own diagnosis: the opt-in, typed, with its risk', () => {
    for (const stderrTail of ['sudo: effective uid is not 0, is /usr/bin/sudo on a file system with the \'nosuid\' option set?\n', 'sudo: /usr/bin/sudo must be owned by uid 0 and have the setuid bit set\n']) {
      const c = classifyProbe(input({ command: ['sudo', 'true'], exitCode: 1, stdoutTail: '', stderrTail }));
      expect(c.status).toBe('failed');
      expect(c.message).toMatch(/no flag C/);
      expect(c.intent).toEqual({ action: 'install', archs: ['arm64'], allowSetuid: true });
      expect(c.risk?.id).toBe('setuid-credentials');
      expect(c.fix).toContain('archway install arm64 --allow-setuid');
      expect(c.fix).toContain('QEMU_LOG_FILENAME');
    }
    // Natively run platforms are not QEMU's doing: no such diagnosis.
    const native = classifyProbe(input({ platform: platformRecord('linux/amd64'), command: ['sudo', 'true'], exitCode: 1, stdoutTail: '', stderrTail: 'sudo: effective uid is not 0\n' }));
    expect(native.intent).toBeUndefined();
  });

  it('no-handler says enable when the handler is disabled, wrong-arch when it is ready', () => {
    const base = { exitCode: 1, stdoutTail: '', stderrTail: 'exec /bin/uname: exec format error' };
    expect(classifyProbe(input({ ...base, handler: 'disabled' })).fix).toBe('archway enable arm64');
    expect(classifyProbe(input({ ...base, handler: 'disabled' })).intent).toEqual({ action: 'enable', archs: ['arm64'] });
    expect(classifyProbe(input({ ...base, handler: 'ready' })).status).toBe('wrong-arch');
  });

  it('every install fix names an architecture Archway resolves', () => {
    for (const p of DOCKER_PLATFORMS) {
      const arch = installFix(p).replace('archway install ', '');
      expect(resolveOne(arch).cpu).toBe(p.cpu);
    }
  });

  it('wrong-arch when the container reports another machine', () => {
    const c = classifyProbe(input({ stdoutTail: 's390x\n' }));
    expect(c.status).toBe('wrong-arch');
    expect(c.message).toMatch(/s390x/);
    expect(c.message).toMatch(/linux\/s390x/);
    const host = classifyProbe(input({ stdoutTail: 'x86_64\n' }));
    expect(host.status).toBe('wrong-arch');
    expect(host.message).toMatch(/host's own/);
  });

  it('wrong-arch before running when the image is another platform', () => {
    const c = classifyProbe(input({ image: { os: 'linux', architecture: 'amd64' }, exitCode: null, stdoutTail: '' }));
    expect(c.status).toBe('wrong-arch');
    expect(c.message).toMatch(/linux\/amd64, not linux\/arm64/);
  });

  it('error kinds win over output', () => {
    expect(classifyProbe(input({ errorKind: 'cancelled' })).status).toBe('cancelled');
    const t = classifyProbe(input({ errorKind: 'timeout', timeoutMs: 1500, exitCode: null }));
    expect(t.status).toBe('timeout');
    expect(t.message).toMatch(/1\.5 s/);
    const p = classifyProbe(input({ errorKind: 'pull-failed', errorMessage: 'manifest unknown', exitCode: null }));
    expect(p.status).toBe('pull-failed');
    expect(p.fix).toMatch(/image name/);
    expect(classifyProbe(input({ errorKind: 'pull-failed', errorMessage: 'unauthorized: authentication required' })).fix).toMatch(/docker login/);
    expect(classifyProbe(input({ errorKind: 'pull-failed', errorMessage: 'dial tcp: lookup registry: no such host' })).fix).toMatch(/network/);
    const e = classifyProbe(input({ errorKind: 'engine-error', errorMessage: 'socket hang up', exitCode: null, stdoutTail: '' }));
    expect(e.status).toBe('engine-error');
    expect(e.fix).toMatch(/leftovers/);
  });

  it('custom commands: ok on exit 0, failed otherwise', () => {
    expect(classifyProbe(input({ command: ['true'], stdoutTail: '' })).status).toBe('ok');
    const f = classifyProbe(input({ command: ['false'], exitCode: 3, stdoutTail: '', stderrTail: 'boom\n' }));
    expect(f.status).toBe('failed');
    expect(f.message).toMatch(/exited with 3: boom/);
    expect(f.expected).toEqual([]);
  });

  it('failed for nonsense output or a missing interpreter (handler without F)', () => {
    expect(classifyProbe(input({ stdoutTail: 'hello world\n' })).status).toBe('failed');
    const n = classifyProbe(input({ exitCode: 1, stdoutTail: '', stderrTail: 'exec /bin/uname: no such file or directory' }));
    expect(n.status).toBe('failed');
    expect(n.fix).toMatch(/without F/);
    expect(classifyProbe(input({ exitCode: 2, stdoutTail: 'aarch64\n' })).status).toBe('failed');
  });

  it('every outcome validates against the result schema', () => {
    const c = classifyProbe(input({}));
    const result = {
      platform: 'linux/arm64',
      image: 'x',
      command: ['uname', '-m'],
      ...c,
      exitCode: 0,
      stdout: { text: 'aarch64\n', totalBytes: 8, droppedBytes: 0 },
      stderr: { text: '', totalBytes: 0, droppedBytes: 0 },
      durationMs: 1,
      pulled: false,
    };
    expect(ProbeResultSchema.parse(result)).toEqual(result);
    expect(ProbeEventSchema.parse({ type: 'result', result })).toBeTruthy();
    expect(() => ProbeEventSchema.parse({ type: 'output', platform: 'p', stream: 'stdin', text: '' })).toThrow();
  });

  it('observedMachine takes the first non-empty line', () => {
    expect(observedMachine('\n  armv7l \nx')).toBe('armv7l');
    expect(observedMachine('')).toBeUndefined();
  });
});

describe('OutputCap', () => {
  it('keeps the tail and counts the rest (model check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 30 }), (limit, chunks) => {
        const cap = new OutputCap(limit);
        const all: number[] = [];
        for (const c of chunks) {
          cap.push(c);
          all.push(...c);
        }
        expect(Array.from(cap.tail())).toEqual(all.slice(Math.max(0, all.length - limit)));
        expect(cap.totalBytes).toBe(all.length);
        expect(cap.droppedBytes).toBe(Math.max(0, all.length - limit));
      }),
    );
  });

  it('costs only its limit for 100 MB of output', () => {
    const cap = new OutputCap(1024);
    const chunk = new Uint8Array(1 << 20).fill(0x61);
    for (let i = 0; i < 100; i++) cap.push(chunk);
    cap.push(new TextEncoder().encode('END\n'));
    expect(cap.totalBytes).toBe(100 * (1 << 20) + 4);
    expect(cap.droppedBytes).toBe(cap.totalBytes - 1024);
    expect(cap.text().endsWith('aaaEND\n')).toBe(true);
    expect(cap.text().length).toBe(1024);
  });

  it('drops a character cut in half at the front', () => {
    const cap = new OutputCap(4);
    cap.push(new TextEncoder().encode('aé€')); // 61 c3 a9 e2 82 ac
    expect(cap.text()).toBe('€');
    expect(cap.captured()).toEqual({ text: '€', totalBytes: 6, droppedBytes: 2 });
  });

  it('refuses a silly limit', () => {
    expect(() => new OutputCap(0)).toThrow(RangeError);
  });
});

describe('decodeUtf8', () => {
  it('agrees with TextDecoder on any bytes', () => {
    const td = new TextDecoder('utf-8');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(decodeUtf8(bytes)).toBe(td.decode(bytes));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(decodeUtf8(new TextEncoder().encode(s))).toBe(s);
      }),
    );
  });
});

describe('a probe through the user\'s rootless engine (issue 10)', () => {
  const s390x = platformRecord('linux/s390x');
  const failed = { platform: s390x, hostMachine: 'x86_64', command: ['uname', '-m'], exitCode: 1, stdoutTail: '', stderrTail: 'exec /bin/uname: exec format error' };

  it('no-handler offers the rootless fix (no password, typed scope), not the host-wide one', () => {
    const c = classifyProbe({ ...failed, scope: 'podman' });
    expect(c.status).toBe('no-handler');
    expect(c.intent).toEqual({ action: 'install', archs: ['s390x'], scope: 'podman' });
    expect(c.fix).toBe('enable s390x for your rootless Podman — no password: archway install s390x --scope podman');
    expect(classifyProbe(failed).intent).toEqual({ action: 'install', archs: ['s390x'] });
  });

  it('which connections are the user\'s rootless engine', () => {
    expect(rootlessScopeOf({ rootless: true, name: 'Podman Engine', endpoint: 'unix:///run/user/1000/podman/podman.sock' })).toBe('podman');
    expect(rootlessScopeOf({ rootless: true, name: 'Docker Engine', endpoint: 'unix:///run/user/1000/docker.sock' })).toBe('docker');
    expect(rootlessScopeOf({ rootless: false, name: 'Docker Engine', endpoint: 'unix:///var/run/docker.sock' })).toBeUndefined();
    expect(rootlessScopeOf({ rootless: true, name: 'Docker Engine', endpoint: 'ssh://build@host' })).toBeUndefined();
  });
});
