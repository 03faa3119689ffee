/**
 * The built CLI as a user meets it: `node bin/archway.cjs …` as a process (build first:
 * `node scripts/build.mjs cli`). Help for every command, usage errors, the version, colour only on
 * a terminal (a real pty from script(1)), symbols by locale, $COLUMNS, and bash completing
 * `archway ins<TAB>` in a real interactive bash inside tmux.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { machine, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../fixtures/foreign';
import { requireBuilt, runArgv } from '../kernel/namespace';
import { COMMANDS } from '../../electron/cli/spec';
import { EXIT } from '../../electron/cli/exit-codes';

const BIN = join(REPO_ROOT, 'bin/archway.cjs');
const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
// A clean environment: no inherited NO_COLOR, COLUMNS or locale decides the outcome by accident.
const BASE: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' };

function archway(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runArgv([process.execPath, BIN, ...args], { env: { ...BASE, ...env } });
}

/** Run in a real pseudo-terminal (script(1)), so stdout is a TTY. */
function inPty(args: string[], env: NodeJS.ProcessEnv = {}) {
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
  return runArgv(['script', '-qefc', cmd, '/dev/null'], { env: { ...BASE, TERM: 'xterm-256color', ...env } });
}

beforeAll(() => requireBuilt(REPO_ROOT));

describe('archway as a process', () => {
  it('--help for every command exits 0 and prints that command\'s synopsis', async () => {
    for (const c of COMMANDS) {
      const r = await archway([c.name, '--help']);
      expect(r.code, `${c.name} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout.replace(/\s+/g, ' ')).toContain(`Usage: archway ${c.synopsis[0]}`);
      expect(r.stderr).toBe('');
    }
    const top = await archway(['--help']);
    expect(top.code).toBe(0);
    for (const c of COMMANDS) expect(top.stdout).toMatch(new RegExp(`^  ${c.name} `, 'm'));
  });

  it('an unknown option exits 2 with the usage line', async () => {
    const r = await archway(['status', '--frobnicate']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('unknown option --frobnicate');
    expect(r.stderr).toContain('Usage: archway status [--all] [--json]');
    const top = await archway(['--frobnicate']);
    expect(top.code).toBe(EXIT.usage);
    expect(top.stderr).toContain('Usage: archway COMMAND [options]');
    const cmd = await archway(['instal', 'arm64']);
    expect(cmd.code).toBe(EXIT.usage);
    expect(cmd.stderr).toContain('did you mean "install"');
  });

  it('--version and version print package.json\'s version', async () => {
    for (const args of [['--version'], ['version']]) {
      const r = await archway(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`archway ${version}\n`);
    }
  });

  it('colour on a terminal only: none with NO_COLOR, TERM=dumb, --no-color or a pipe', async () => {
    const tty = await inPty(['--help']);
    expect(tty.code, tty.stderr).toBe(0);
    expect(tty.stdout).toContain('\x1b[1mUsage:\x1b[0m');
    for (const env of [{ NO_COLOR: '1' }, { TERM: 'dumb' }]) {
      const r = await inPty(['--help'], env);
      expect(r.stdout, JSON.stringify(env)).toContain('Usage:');
      expect(r.stdout, JSON.stringify(env)).not.toContain('\x1b');
    }
    expect((await inPty(['--help', '--no-color'])).stdout).not.toContain('\x1b');
    for (const args of [['--help'], ['status'], ['status', '--all'], ['install', '--help'], ['log']]) {
      const r = await archway(args);
      expect(r.stdout + r.stderr, args.join(' ')).not.toContain('\x1b');
    }
  });

  it('symbols: UTF-8 locale gets Unicode, the C locale (LC_ALL wins over LANG) gets ASCII only', async () => {
    const utf8 = await archway(['status', '--all'], { LANG: 'C.UTF-8' });
    expect(utf8.code).toBe(0);
    expect(utf8.stdout).toMatch(/[●·✓]/u);
    for (const env of [{ LANG: 'C' }, { LC_ALL: 'C', LANG: 'en_US.UTF-8' }, { LANG: '' }]) {
      for (const args of [['status', '--all'], ['--help'], ['install', '--help'], ['status', '--bogus']]) {
        const r = await archway(args, env);
        expect(r.stdout + r.stderr, `${JSON.stringify(env)} ${args.join(' ')}`).toMatch(/^[\x00-\x7f]*$/);
      }
    }
    expect((await archway(['status', '--all'], { LANG: 'C' })).stdout).toMatch(/\* native/);
  });

  it('COLUMNS=60 keeps every status line within 60 characters; --json is never cut', async () => {
    for (const args of [['status'], ['status', '--all'], ['--help'], ['install', '--help']]) {
      const r = await archway(args, { COLUMNS: '60' });
      expect(r.code).toBe(0);
      for (const line of r.stdout.split('\n')) expect([...line].length, `${args.join(' ')}: ${line}`).toBeLessThanOrEqual(60);
    }
    const json = await archway(['status', '--json'], { COLUMNS: '20', LANG: 'C' });
    expect(() => JSON.parse(json.stdout)).not.toThrow();
  });

  it('stdout on /dev/null is no terminal: Node’s tty and stream stack stay unloaded; on a pty they load', async () => {
    // A preload that reports, at exit, which of Node's own modules were loaded (write(2): no stream of its own).
    const dir = mkdtempSync(join(tmpdir(), 'archway-devnull-'));
    try {
      const probe = join(dir, 'loaded.cjs');
      writeFileSync(probe, "process.on('exit', () => require('fs').writeSync(2, '\\nLOADED ' + process.moduleLoadList.filter((m) => /^NativeModule (tty|net|stream)$/.test(m)).join(',') + '\\n'));\n");
      const loaded = (stderr: string) => /LOADED (.*)/.exec(stderr)?.[1]?.split(',').filter(Boolean) ?? ['(no report)'];
      const devnull = spawnSync('sh', ['-c', `'${process.execPath}' --require '${probe}' '${BIN}' status >/dev/null`], { env: { ...BASE }, encoding: 'utf8' });
      expect(devnull.status, devnull.stderr).toBe(0);
      expect(loaded(devnull.stderr)).toEqual([]);
      const pty = await inPty(['status'], { NODE_OPTIONS: `--require ${probe}` });
      expect(pty.stdout).toMatch(/LOADED .*tty/); // the check is real: a terminal does load them
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends as soon as its work is done, and loses no output: a full non-blocking pipe read late gets every byte', () => {
    // perl (in every Debian) makes stdout a non-blocking pipe of one page, as some parents leave it:
    // write(2) soon says EAGAIN, the rest goes through Node's stream (asynchronous for a pipe), and
    // the early exit must wait for it. The reader (a subshell) starts reading only after 300 ms.
    const perl = 'use Fcntl; fcntl(STDOUT, 1031, 4096) or die; my $f = fcntl(STDOUT, F_GETFL, 0); fcntl(STDOUT, F_SETFL, $f | O_NONBLOCK) or die; exec @ARGV or die';
    const whole = spawnSync(process.execPath, [BIN, 'status', '--json'], { env: BASE, encoding: 'utf8' });
    expect(whole.status, whole.stderr).toBe(0);
    expect(whole.stdout.length).toBeGreaterThan(16_384);
    const late = spawnSync('sh', ['-c', 'perl -e "$1" "$2" "$3" status --json | (sleep 0.3; cat)', 'sh', perl, process.execPath, BIN], { env: BASE, encoding: 'utf8' });
    expect(late.status, late.stderr).toBe(0);
    expect(late.stdout).toBe(whole.stdout);
  });

  it("status under a 32-bit personality (setarch linux32) still names the kernel's machine", () => {
    // uname(2) says i686 there on an x86_64 kernel, which still runs x86_64 programs natively:
    // the host's machine comes from /proc/sys/kernel/arch (Linux ≥ 6.0), or from uname mapped back
    // through /proc/self/personality. This test process has no personality: its uname is the kernel's.
    const kernel = machine();
    const uname = spawnSync('setarch', ['linux32', 'uname', '-m'], { encoding: 'utf8' }).stdout.trim();
    const r = spawnSync('setarch', ['linux32', process.execPath, BIN, 'status', '--json'], { env: BASE, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const st = JSON.parse(r.stdout) as { hostMachine: string; native: { cpu: string; native: string }[] };
    expect(st.hostMachine).toBe(kernel);
    if (kernel === 'x86_64') {
      expect(uname).toBe('i686'); // what the status would have said from uname(2)
      expect(st.native).toContainEqual(expect.objectContaining({ cpu: 'x86_64', native: 'yes' }));
    }
  });

  it('completion scripts come out of the CLI; an unknown shell is a usage error', async () => {
    for (const sh of ['bash', 'zsh', 'fish']) {
      const r = await archway(['completion', sh]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('archway');
    }
    expect((await archway(['completion', 'csh'])).code).toBe(EXIT.usage);
  });
});

describe('shells complete `archway ins<TAB>` in a real interactive session (tmux)', () => {
  const sessions: string[] = [];
  let bindir: string;
  beforeAll(() => {
    bindir = mkdtempSync(join(tmpdir(), 'archway-bin-'));
    symlinkSync(BIN, join(bindir, 'archway'));
  });
  afterAll(() => {
    for (const s of sessions) spawnSync('tmux', ['kill-session', '-t', s]);
    rmSync(bindir, { recursive: true, force: true });
  });

  /** An interactive shell in a detached tmux session; `type` sends keys, `until` waits for the pane to show something. */
  async function shell(name: string, argv: string) {
    const session = `archway-${name}-${process.pid}`;
    sessions.push(session);
    const env = `env -i PATH=${bindir}:${process.env.PATH} HOME=${bindir} TERM=xterm LANG=C.UTF-8 ${argv}`;
    expect(spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '150', '-y', '30', env]).status).toBe(0);
    const pane = () => spawnSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' }).stdout;
    const until = async (pred: (text: string) => boolean, what: string): Promise<string> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const text = pane();
        if (pred(text)) return text;
        if (Date.now() > deadline) throw new Error(`${name}: timed out waiting for ${what}; the pane shows:\n${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const type = (...keys: string[]) => spawnSync('tmux', ['send-keys', '-t', session, ...keys]);
    return { until, type };
  }

  it('bash, after `source <(archway completion bash)`', async () => {
    const sh = await shell('bash', "PS1='$ ' bash --norc --noprofile -i");
    sh.type('source <(archway completion bash) && echo loaded', 'Enter');
    await sh.until((t) => /^loaded$/m.test(t), 'the completion script to load');
    sh.type('archway ins', 'Tab');
    // (capture-pane drops trailing blanks: the space completion adds after `install` is not shown)
    await sh.until((t) => /^\$ archway install\s*$/m.test(t), 'archway ins<TAB> to complete to install');
    sh.type('ris', 'Tab');
    await sh.until((t) => /^\$ archway install riscv$/m.test(t), 'ris<TAB> to extend to the common prefix riscv');
    sh.type('Tab', 'Tab'); // bash lists the choices on the second Tab that makes no progress
    await sh.until((t) => t.includes('riscv32') && t.includes('riscv64'), 'the architecture names');
    sh.type('C-c');
  });

  it('zsh, after compinit and `source <(archway completion zsh)`', async () => {
    const sh = await shell('zsh', 'zsh -f -i');
    sh.type("PS1='%% '; autoload -U compinit && compinit -u && source <(archway completion zsh) && echo loaded", 'Enter');
    await sh.until((t) => /^loaded$/m.test(t), 'the completion script to load');
    sh.type('archway ins', 'Tab');
    await sh.until((t) => /^% archway install\s*$/m.test(t), 'archway ins<TAB> to complete to install');
    sh.type('C-u', 'archway probe --pull ', 'Tab');
    await sh.until((t) => /always\s+missing\s+never/.test(t), 'the --pull values');
    sh.type('C-c');
  });
});
