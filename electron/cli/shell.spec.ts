import { describe, expect, it } from 'vitest';
import { commandSpec } from './spec';
import { parseShellArgs } from './shell';

describe('archway shell: arguments', () => {
  it('takes the platform, one image, a network, a pull policy and a command after --', () => {
    expect(parseShellArgs(['--platform', 'linux/arm64', 'debian', '--network=bridge', '--pull', 'never', '--', 'sh', '-c', 'echo --x'])).toEqual({
      platform: 'linux/arm64',
      image: 'debian',
      network: 'bridge',
      pull: 'never',
      command: ['sh', '-c', 'echo --x'],
      help: false,
    });
    expect(parseShellArgs(['debian', '--platform=arm64'])).toMatchObject({ platform: 'arm64', image: 'debian', pull: 'missing' });
    expect(parseShellArgs(['--help']).help).toBe(true);
  });
  it('refuses what it cannot do, with the reason', () => {
    expect(() => parseShellArgs(['debian'])).toThrow(/--platform is required/);
    expect(() => parseShellArgs(['--platform', 'arm64'])).toThrow(/name the image/);
    expect(() => parseShellArgs(['--platform', 'arm64', 'a', 'b'])).toThrow(/one image only/);
    expect(() => parseShellArgs(['--platform', 'linux/sparc64', 'a'])).toThrow(/unknown platform/);
    expect(() => parseShellArgs(['--platform', 'arm64', 'a', '--network', 'a b'])).toThrow(/network name/);
    expect(() => parseShellArgs(['--platform', 'arm64', 'a', '--privileged'])).toThrow(/unknown option/);
    expect(() => parseShellArgs(['--platform', 'arm64', 'a', '--'])).toThrow(/nothing after --/);
  });
  it('accepts every option its spec documents (the spec is the man page and the completions)', () => {
    const spec = commandSpec('shell')!;
    expect(spec.ownParser).toBe(true);
    for (const o of spec.options) {
      const argv = ['--platform', 'arm64', 'debian', o.name, o.values?.[0] ?? (o.name === '--platform' ? 'linux/s390x' : 'bridge')];
      expect(() => parseShellArgs(argv), argv.join(' ')).not.toThrow();
    }
    for (const v of spec.options.find((o) => o.name === '--pull')!.values!) expect(parseShellArgs(['--platform', 'arm64', 'a', '--pull', v]).pull).toBe(v);
  });
});
