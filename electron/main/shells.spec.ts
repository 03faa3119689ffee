import { describe, expect, it } from 'vitest';
import type { ShellExit, ShellSession } from '../container/shell';
import type { Status } from '../../shared/status';
import { createShellTable, type ShellOpener } from './shells';

/** A session standing in for the engine's (the table's bookkeeping is what is tested here; test/docker/shell.test.ts runs the real one). */
function fakeOpener() {
  let onOutput: ((d: Buffer) => void) | undefined;
  let finish: ((e: ShellExit) => void) | undefined;
  const written: string[] = [];
  const opener: ShellOpener = {
    openShell: async (_req, _status, hooks) => {
      onOutput = hooks.onOutput;
      const exited = new Promise<ShellExit>((r) => (finish = r));
      const s: ShellSession = {
        containerId: 'c1', platform: 'linux/arm64', imagePlatform: 'linux/arm64/v8', choice: { command: ['/bin/sh'], source: 'fallback', why: 'runs /bin/sh' },
        write: (d) => void written.push(String(d)), endInput: () => undefined, resize: async () => undefined, exited,
        close: async () => (finish!({ exitCode: null }), exited),
      };
      return s;
    },
  };
  return { opener, written, output: (s: Buffer) => onOutput!(s), exit: (e: ShellExit) => finish!(e) };
}

describe('the shell table of the window', () => {
  it('sends output (a UTF-8 character split between chunks stays whole), input, the exit; then forgets the shell', async () => {
    const f = fakeOpener();
    const events: [string, unknown][] = [];
    const table = createShellTable({ opener: f.opener, emit: (k, p) => void events.push([k, p]), status: () => ({}) as Status, newId: () => 'shell-0001' });
    const { shellId } = table.open({ image: 'busybox', platform: 'linux/arm64', cols: 80, rows: 24 });
    await expect.poll(() => events.map((e) => e[0])).toContain('shellOpened');
    const euro = Buffer.from('€ / # ');
    f.output(euro.subarray(0, 1));
    f.output(euro.subarray(1));
    await expect.poll(() => events.filter((e) => e[0] === 'shellOutput').map((e) => (e[1] as { data: string }).data).join('')).toBe('€ / # ');
    expect(table.input(shellId, 'uname -m\r')).toBe(true);
    expect(f.written).toEqual(['uname -m\r']);
    f.exit({ exitCode: 3 });
    await expect.poll(() => events.at(-1)).toEqual(['shellExit', { shellId, exitCode: 3 }]);
    expect(table.size).toBe(0);
    expect(() => table.input(shellId, 'x')).toThrow(/has ended/);
  });

  it('closeAll waits for every shell to be over', async () => {
    const f = fakeOpener();
    const events: [string, unknown][] = [];
    const table = createShellTable({ opener: f.opener, emit: (k, p) => void events.push([k, p]), status: () => ({}) as Status, newId: () => 'shell-0002' });
    table.open({ image: 'busybox', platform: 'linux/arm64', cols: 80, rows: 24 });
    await expect.poll(() => events.length).toBe(1);
    await table.closeAll();
    expect(table.size).toBe(0);
    expect(events.at(-1)).toEqual(['shellExit', { shellId: 'shell-0002', exitCode: null }]);
  });
});
