import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../shared/probe';
import { applyDone, applyEvent, cellMark, fixLabel, newRun, sanitiseOutput, splitCommand, terminalText } from './run';

const result = (over: Partial<ProbeResult> = {}): ProbeResult => ({
  platform: 'linux/arm64',
  image: 'busybox',
  command: ['uname', '-m'],
  status: 'ok',
  message: 'linux/arm64: runs',
  expected: ['aarch64'],
  exitCode: 0,
  stdout: { text: 'aarch64\n', totalBytes: 8, droppedBytes: 0 },
  stderr: { text: '', totalBytes: 0, droppedBytes: 0 },
  durationMs: 420,
  pulled: false,
  ...over,
});

describe('a test run as events arrive', () => {
  it('folds phases, pull progress and results per platform, ignoring other runs', () => {
    let s = newRun('r1', ['linux/arm64', 'linux/s390x'], 0);
    s = applyEvent(s, { runId: 'r1', event: { type: 'phase', platform: 'linux/arm64', phase: 'pulling' } });
    s = applyEvent(s, { runId: 'r1', event: { type: 'pull', platform: 'linux/arm64', image: 'busybox', progress: { status: 'Downloading', layersDone: 0, layersTotal: 1, bytesDone: 5, bytesTotal: 10, percent: 50 } } });
    s = applyEvent(s, { runId: 'other', event: { type: 'result', result: result({ platform: 'linux/s390x' }) } });
    expect(s.platforms[0]).toMatchObject({ phase: 'pulling', pull: { percent: 50 } });
    expect(cellMark(s.platforms[1]!)).toMatchObject({ mark: '…', tone: 'idle' });
    s = applyEvent(s, { runId: 'r1', event: { type: 'result', result: result() } });
    expect(cellMark(s.platforms[0]!)).toEqual({ mark: '✓', label: 'ok', tone: 'ok' });
    s = applyDone(s, { runId: 'r1', results: [result(), result({ platform: 'linux/s390x', status: 'no-handler', exitCode: 1 })], durationMs: 900 });
    expect(s.running).toBe(false);
    expect(cellMark(s.platforms[1]!)).toEqual({ mark: '✗', label: 'no-handler', tone: 'bad' });
    expect(s.durationMs).toBe(900);
  });

  it('terminal text: CRLF, stderr in red, platform tags only for matrices', () => {
    expect(terminalText({ type: 'output', platform: 'linux/arm64', stream: 'stdout', text: 'a\nb\n' }, false)).toBe('a\r\nb\r\n');
    expect(terminalText({ type: 'output', platform: 'linux/arm64', stream: 'stderr', text: 'boom\n' }, false)).toBe('\x1b[31mboom\r\n\x1b[0m');
    expect(terminalText({ type: 'output', platform: 'linux/arm64', stream: 'stdout', text: 'x' }, true)).toContain('[linux/arm64]');
    expect(terminalText({ type: 'result', result: result() }, false)).toContain('ok: exit 0, 420 ms');
  });

  it('container output cannot drive the terminal: only colours survive', () => {
    expect(sanitiseOutput('\x1b[31mred\x1b[0m')).toBe('\x1b[31mred\x1b[0m');
    expect(sanitiseOutput('a\x1b[2Jb\x1b]0;title\x07c\x1b[?1049hd')).toBe('abcd');
    expect(sanitiseOutput('bell\x07 null\x00 tab\tok\r\n')).toBe('bell null tab\tok\r\n');
    expect(sanitiseOutput('lone\x1b escape')).toBe('lone escape');
  });

  it('one-click fixes are labelled from their typed intent', () => {
    expect(fixLabel({ action: 'install', archs: ['arm64'] })).toBe('Install arm64');
    expect(fixLabel({ action: 'enable', archs: ['arm'] })).toBe('Enable arm');
    expect(fixLabel({ action: 'drop-c', archs: ['aarch64'] })).toBe('Drop C from aarch64');
    expect(fixLabel({ action: 'install', archs: ['arm64'], allowSetuid: true })).toMatch(/setuid/);
  });

  it('splits a command line like a shell would, without running one', () => {
    expect(splitCommand('uname -m')).toEqual(['uname', '-m']);
    expect(splitCommand(`sh -c "echo 'hi there'; uname -m"`)).toEqual(['sh', '-c', "echo 'hi there'; uname -m"]);
    expect(splitCommand("echo 'a b' c")).toEqual(['echo', 'a b', 'c']);
    expect(splitCommand('   ')).toEqual([]);
  });
});
