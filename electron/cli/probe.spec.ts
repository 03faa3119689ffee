import { describe, expect, it } from 'vitest';
import { formatTable, parseProbeArgs, runProbeCommand } from './probe';

describe('archway probe arguments', () => {
  it('parses platforms, image, options and the command after --', () => {
    const a = parseProbeArgs(['--platform', 'linux/arm64,linux/s390x', '--platform=arm/v7', '--image', 'alpine', '--json', '--timeout', '2.5', '--concurrency', '3', '--pull', 'never', '--', 'sh', '-c', 'echo --x']);
    expect(a).toMatchObject({ platforms: ['linux/arm64', 'linux/s390x', 'arm/v7'], image: 'alpine', json: true, timeoutMs: 2500, concurrency: 3, pull: 'never', command: ['sh', '-c', 'echo --x'] });
  });

  it('refuses mistakes with a reason', () => {
    expect(() => parseProbeArgs(['--image', 'x'])).toThrow(/--platform is required/);
    expect(() => parseProbeArgs(['--platform', 'arm64'])).toThrow(/--image is required/);
    expect(() => parseProbeArgs(['--platform', 'linux/sparc64', '--image', 'x'])).toThrow(/unknown platform/);
    expect(() => parseProbeArgs(['--platform', 'arm64', '--image', 'x', '--timeout', 'soon'])).toThrow(/seconds/);
    expect(() => parseProbeArgs(['--platform', 'arm64', '--image', 'x', 'uname'])).toThrow(/after --/);
    expect(() => parseProbeArgs(['--platform', 'arm64', '--image', 'x', '--'])).toThrow(/nothing after --/);
  });

  it('usage errors exit 2 without touching the engine', async () => {
    const err: string[] = [];
    expect(await runProbeCommand(['--image', 'x'], { stdout: () => undefined, stderr: (s) => err.push(s) })).toBe(2);
    expect(err.join('')).toMatch(/Usage: archway probe/);
  });

  it('formats a table', () => {
    const r = {
      platform: 'linux/s390x', image: 'x', command: ['uname', '-m'], status: 'no-handler' as const, message: 'm', fix: 'archway install s390x',
      expected: ['s390x'], exitCode: 1, stdout: { text: '', totalBytes: 0, droppedBytes: 0 }, stderr: { text: '', totalBytes: 0, droppedBytes: 0 }, durationMs: 1234, pulled: false,
    };
    const t = formatTable([r, { ...r, platform: 'linux/arm64', status: 'ok', observed: 'aarch64', fix: undefined }]);
    expect(t.split('\n')[0]).toMatch(/^PLATFORM\s+STATUS\s+RESULT\s+TIME\s+FIX$/);
    expect(t).toMatch(/linux\/s390x\s+no-handler\s+exit 1\s+1\.23s\s+archway install s390x/);
    expect(t).toMatch(/linux\/arm64\s+ok\s+aarch64/);
  });
});
