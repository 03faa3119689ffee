/**
 * The command spec and everything generated from it: parser, help, usage errors, terminal
 * abilities, fitting text to $COLUMNS, status --check, completion scripts (run in real shells) and
 * the man page (checked by groff and mandoc).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { catalogRule, buildStatus, type RawStatus, type Status } from '../../shared/status';
import { hexToBytes } from '../../shared/arch/catalog';
import { emptyRecord } from '../../shared/record';
import type { Engine } from '../engine';
import { parseProbeArgs } from './probe';
import { checkPlatforms } from './check';
import { bashCompletion, completionScript, fishCompletion, zshCompletion } from './completion';
import { EXIT, exitForErrorCode } from './exit-codes';
import { formatStatus } from './format';
import { commandHelp, topHelp } from './help';
import { main } from './main';
import { manPage } from './man';
import { parseLine, UsageError } from './parse';
import { COMMANDS, GLOBAL_OPTIONS, commandSpec, type OptionSpec } from './spec';
import { asciify, detectTerm, localeIsUtf8, terminalSafe } from './term';
import { fitTable, truncate, width, wrap } from './text';
import { archwayVersion } from './version';

const noEngine = {} as Engine; // these paths never reach the engine: a call would throw

async function run(argv: string[], env: NodeJS.ProcessEnv = { LANG: 'C.UTF-8' }, tty = false) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env, stdoutTTY: { isTTY: tty }, stderrTTY: { isTTY: tty } }, noEngine);
  return { code, stdout, stderr };
}

function sampleValue(o: OptionSpec): string {
  return o.values?.[0] ?? (o.complete?.kind === 'words' ? o.complete.words[0]! : o.name === '--timeout' || o.name === '--concurrency' ? '2' : 'x');
}

describe('the command spec', () => {
  it('names each command once, each option once per command, and every synopsis starts with its command', () => {
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
    for (const c of COMMANDS) {
      const names = [...c.options, ...GLOBAL_OPTIONS].map((o) => o.name);
      expect(new Set(names).size, c.name).toBe(names.length);
      for (const s of c.synopsis) expect(s.split(' ')[0]).toBe(c.name);
      expect(c.examples.length, `${c.name} has an example`).toBeGreaterThan(0);
      for (const e of c.examples) expect(e.command.startsWith(`archway ${c.name}`), e.command).toBe(true);
    }
  });

  it('the parser accepts every documented option of every command (an option documented is an option accepted)', () => {
    for (const c of COMMANDS.filter((x) => !x.ownParser)) {
      const words = c.positionals.filter((p) => !p.optional).map((p) => (p.complete.kind === 'words' ? p.complete.words[0]! : 'arm64'));
      for (const o of [...c.options, ...GLOBAL_OPTIONS]) {
        const argv = [c.name, ...words, o.name, ...(o.arg ? [sampleValue(o)] : [])];
        const p = parseLine(argv);
        expect(p.options.has(o.name), argv.join(' ')).toBe(true);
        if (o.arg) expect(parseLine([c.name, ...words, `${o.name}=${sampleValue(o)}`]).options.get(o.name)).toEqual([sampleValue(o)]);
      }
    }
  });

  it('probe parses its own options: every option its spec documents is accepted there, and nothing else', () => {
    const probe = commandSpec('probe')!;
    for (const o of probe.options) {
      const argv = ['--platform', 'arm64', '--image', 'alpine', o.name, ...(o.arg ? [o.name === '--platform' ? 'linux/s390x' : sampleValue(o)] : [])];
      expect(() => parseProbeArgs(argv), argv.join(' ')).not.toThrow();
    }
    for (const v of probe.options.find((o) => o.name === '--pull')!.values!) expect(parseProbeArgs(['--platform', 'arm64', '--image', 'a', '--pull', v]).pull).toBe(v);
    expect(parseProbeArgs(['--help']).help).toBe(true);
    expect(() => parseProbeArgs(['--platform', 'arm64', '--image', 'a', '--bogus'])).toThrow(/unknown option/);
  });

  it('refuses undocumented options, bad enumerated values and missing values with a usage error naming the command', () => {
    expect(() => parseLine(['status', '--force'])).toThrow(/^status does not take --force \(uninstall, enable, disable do\)$/);
    expect(() => parseLine(['status', '--yolo'])).toThrow(/^unknown option --yolo for status$/);
    expect(() => parseLine(['install', 'arm64', '--backend', 'ssh'])).toThrow(/--backend is one of helper, engine/);
    expect(() => parseLine(['install', 'arm64', '--flags'])).toThrow(/needs a value/);
    expect(() => parseLine(['install', 'arm64', '--persist=yes'])).toThrow(/takes no value/);
    expect(() => parseLine(['persist', 'maybe', 'arm64'])).toThrow(/persist: say on or off, not "maybe"/);
    expect(() => parseLine(['completion', 'csh'])).toThrow(/say bash, zsh or fish/);
    expect(() => parseLine(['install'])).toThrow(/at least one architecture/);
    expect(() => parseLine(['mount', 'arm64'])).toThrow(/takes no arguments/);
    expect(() => parseLine(['instal', 'arm64'])).toThrow(/did you mean "install"/);
    expect(() => parseLine(['--json'])).toThrow(/belongs after a command/);
    try {
      parseLine(['install', 'arm64', '--bogus']);
    } catch (e) {
      expect((e as UsageError).command?.name).toBe('install');
    }
    // words after -- are not options (probe's command line)
    expect(parseLine(['probe', '--platform', 'arm64', '--image', 'x', '--', 'sh', '--help']).help).toBe(false);
    // probe parses its own options, but the global ones are taken before it sees them
    const probe = parseLine(['probe', '--no-color', '--platform', 'arm64', '--image', 'x', '--', 'ls', '--color']);
    expect(probe.options.has('--no-color')).toBe(true);
    expect(probe.rest).toEqual(['--platform', 'arm64', '--image', 'x', '--', 'ls', '--color']);
    expect(() => parseProbeArgs(probe.rest)).not.toThrow();
  });
});

describe('help and usage from the spec', () => {
  it('every command has --help, -h and `archway help COMMAND`: exit 0, its synopsis and every option on stdout', async () => {
    for (const c of COMMANDS) {
      for (const argv of [[c.name, '--help'], [c.name, '-h'], ['help', c.name]]) {
        const r = await run(argv);
        expect(r.code, argv.join(' ')).toBe(0);
        expect(r.stderr).toBe('');
        expect(r.stdout.replace(/\s+/g, ' ')).toContain(`Usage: archway ${c.synopsis[0]}`);
        for (const o of c.options) expect(r.stdout).toContain(o.name);
        expect(r.stdout).toMatch(/Exit status:\n\s+0 /);
      }
    }
  });

  it('the top-level help lists every command and the exit-code table', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c.name} +`, 'm'));
    for (const code of Object.values(EXIT)) expect(r.stdout).toMatch(new RegExp(`^  ${code}  `, 'm'));
    expect((await run(['help'])).stdout).toBe(r.stdout);
  });

  it('an unknown option exits 2 with the command\'s usage line on stderr; nothing on stdout', async () => {
    const r = await run(['install', 'arm64', '--bogus']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^archway: unknown option --bogus for install\nUsage: archway install ARCH…\|all \[options\]\n/);
  });

  it('--version and version print package.json\'s version', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default as { version: string };
    expect(archwayVersion()).toBe(version);
    expect((await run(['--version'])).stdout).toBe(`archway ${version}\n`);
    expect((await run(['version'])).stdout).toBe(`archway ${version}\n`);
  });

  it('help fits the width it is given', () => {
    for (const columns of [50, 72, 100]) {
      for (const text of [topHelp({ color: false, unicode: true, columns }), ...COMMANDS.map((c) => commandHelp(c, { color: false, unicode: true, columns }))]) {
        for (const line of text.split('\n')) expect(width(line), line).toBeLessThanOrEqual(columns);
      }
    }
  });
});

describe('terminal abilities', () => {
  it('colour only on a TTY, never with NO_COLOR (any non-empty value) or TERM=dumb; --color/--no-color override the TTY test', () => {
    expect(detectTerm({}, { isTTY: true }).color).toBe(true);
    expect(detectTerm({}, { isTTY: false }).color).toBe(false);
    expect(detectTerm({ NO_COLOR: '1' }, { isTTY: true }).color).toBe(false);
    expect(detectTerm({ NO_COLOR: '0' }, { isTTY: true }).color).toBe(false);
    expect(detectTerm({ NO_COLOR: '' }, { isTTY: true }).color).toBe(true);
    expect(detectTerm({ TERM: 'dumb' }, { isTTY: true }).color).toBe(false);
    expect(detectTerm({}, { isTTY: false }, 'always').color).toBe(true);
    expect(detectTerm({ NO_COLOR: 'x' }, { isTTY: false }, 'always').color).toBe(false);
    expect(detectTerm({}, { isTTY: true }, 'never').color).toBe(false);
  });

  it('UTF-8 symbols only when the first of LC_ALL, LC_CTYPE, LANG that is set names UTF-8', () => {
    expect(localeIsUtf8({ LANG: 'en_US.UTF-8' })).toBe(true);
    expect(localeIsUtf8({ LANG: 'C.utf8' })).toBe(true);
    expect(localeIsUtf8({})).toBe(false);
    expect(localeIsUtf8({ LANG: 'C' })).toBe(false);
    expect(localeIsUtf8({ LC_ALL: 'C', LC_CTYPE: 'en_US.UTF-8', LANG: 'en_US.UTF-8' })).toBe(false);
    expect(localeIsUtf8({ LC_ALL: '', LC_CTYPE: 'de_DE.UTF-8', LANG: 'C' })).toBe(true);
    expect(localeIsUtf8({ LC_CTYPE: 'POSIX', LANG: 'en_US.UTF-8' })).toBe(false);
    expect(localeIsUtf8({ LANG: 'de_DE.ISO-8859-1' })).toBe(false);
  });

  it('width: $COLUMNS, else the TTY\'s, else 80', () => {
    expect(detectTerm({ COLUMNS: '60' }, { isTTY: true, columns: 120 }).columns).toBe(60);
    expect(detectTerm({ COLUMNS: 'wide' }, { isTTY: true, columns: 120 }).columns).toBe(120);
    expect(detectTerm({}, { isTTY: false, columns: 120 }).columns).toBe(80);
  });

  it('untrusted text reaches the terminal without control sequences (colour kept only when painting)', () => {
    const evil = 'qemu\x1b]0;pwned\x07-arm\x1b[2J\r\x9b1m\x00';
    expect(terminalSafe(evil)).toBe('qemu-arm');
    expect(terminalSafe('\x1b[32m✓ ready\x1b[0m\tx\n', true)).toBe('\x1b[32m✓ ready\x1b[0m\tx\n');
    expect(terminalSafe('\x1b[32mok\x1b[0m')).toBe('ok');
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => !/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(terminalSafe(s))));
  });

  it('main: a status summary carrying escape sequences is printed without them', async () => {
    const s = status();
    s.archs[0]!.summary = 'x\x1b]0;owned\x07y';
    s.warnings.push('look \x1b[2J here');
    const engine = { status: () => s } as unknown as Engine;
    let out = '';
    await main(['status', '--all'], { stdout: (x) => (out += x), stderr: () => undefined, env: { LANG: 'C.UTF-8' } }, engine);
    expect(out).toContain('look  here');
    expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  });

  it('asciify leaves ASCII alone and spells the symbols out', () => {
    expect(asciify('✓ ready → fix — now…')).toBe('+ ready -> fix - now...');
    fc.assert(fc.property(fc.string(), (s) => /^[\x00-\x7f]*$/.test(asciify(s))));
  });

  it('usage errors, help and --no-color output carry no escape bytes; --color does', async () => {
    expect((await run(['--help'], {}, true)).stdout).toContain('\x1b[');
    for (const [argv, env, tty] of [
      [['--help'], { NO_COLOR: '1' }, true],
      [['--help'], { TERM: 'dumb' }, true],
      [['--help'], {}, false],
      [['--help', '--no-color'], {}, true],
      [['status', '--bogus'], {}, false],
    ] as const) {
      const r = await run([...argv], env, tty);
      expect(r.stdout + r.stderr, JSON.stringify(argv)).not.toContain('\x1b');
    }
    expect((await run(['--help', '--color'], {}, false)).stdout).toContain('\x1b[1m');
  });
});

describe('fitting text', () => {
  it('wrap never makes a line wider than asked, and keeps every word', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z/…]{1,30}$/), { maxLength: 30 }), fc.integer({ min: 10, max: 120 }), (words, cols) => {
        const lines = wrap(words.join(' '), cols, '  ', '  ');
        for (const l of lines) expect(width(l)).toBeLessThanOrEqual(cols);
        expect(lines.join('').replace(/\s/g, '')).toBe(words.join(''));
      }),
    );
  });

  it('colour takes no columns: a painted line wraps as the plain one does', () => {
    expect(width('\x1b[31m✗\x1b[0m ok')).toBe(4);
    const plain = wrap('✗ arm64: does not run here (missing): no handler: aarch64 programs fail', 60);
    const painted = wrap('\x1b[31m✗\x1b[0m arm64: does not run here (missing): no handler: aarch64 programs fail', 60);
    expect(painted.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''))).toEqual(plain);
  });

  it('paths are shortened from the front, keeping the file name', () => {
    expect(truncate('/usr/libexec/qemu-binfmt/aarch64-binfmt-P', 20)).toBe('…/aarch64-binfmt-P');
    expect(truncate('linux/arm/v7,linux/arm/v6', 12)).toBe('linux/arm/v…');
    expect(truncate('short', 12)).toBe('short');
    expect(truncate('(can use /usr/libexec/qemu-binfmt/arm-binfmt-P)', 30)).toBe('(can use …/arm-binfmt-P)');
  });

  it('a table fits any width: shrink the path column, then drop columns, then cut', () => {
    const columns = [{ head: 'ARCH' }, { head: 'STATE' }, { head: 'OWNER', drop: 0 }, { head: 'PATH', drop: 1, shrink: 1 as const, min: 12 }];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 15 }), fc.string({ maxLength: 10 }), fc.string({ maxLength: 12 }), fc.string({ maxLength: 60 })), { maxLength: 8 }), fc.integer({ min: 8, max: 160 }), (rows, cols) => {
        const clean = rows.map((r) => r.map((c) => c.replace(/\s/g, '_')));
        const t = fitTable(columns, clean, cols);
        for (const l of t.lines) expect(width(l)).toBeLessThanOrEqual(cols);
      }),
    );
  });
});

// --- status fixtures built with the status model itself -------------------------------------------
const X86_64_HEADER = hexToBytes('7f454c4602010100000000000000000003003e00010000000000000000000000');
const HOST_ELF = { class: 64, endian: 'little', type: 3, machine: 62, dynamic: true } as const;
const STATIC_QEMU = { exists: true, regular: true, uid: 0, mode: 0o100755, elf: { class: 64, endian: 'little', type: 3, machine: 62, dynamic: false } } as const;
function entry(cpu: string, interpreter: string, enabled = true) {
  const r = catalogRule(cpu, interpreter, 'F');
  return `${enabled ? 'enabled' : 'disabled'}\ninterpreter ${r.interpreter}\nflags: ${r.flags}\noffset 0\nmagic ${r.magic}\nmask ${r.mask}\n`;
}
function status(over: Partial<RawStatus> = {}): Status {
  const longPath = '/opt/some/very/long/vendor/directory/for/emulators/bin/qemu-aarch64-static';
  return buildStatus(
    {
      mount: { path: '/proc/sys/fs/binfmt_misc', mounted: true },
      globalEnabled: true,
      entries: [
        { name: 'qemu-aarch64', text: entry('aarch64', longPath), seq: 1 },
        { name: 'qemu-s390x', text: entry('s390x', '/usr/bin/qemu-s390x-static', false), seq: 2 },
        { name: 'qemu-ppc64le', text: entry('ppc64le', '/nonexistent/qemu-ppc64le-static'), seq: 3 },
      ],
      interpreters: { [longPath]: { path: longPath, ...STATIC_QEMU }, '/usr/bin/qemu-s390x-static': { path: '/usr/bin/qemu-s390x-static', ...STATIC_QEMU }, '/nonexistent/qemu-ppc64le-static': { path: '/nonexistent/qemu-ppc64le-static', ...STATIC_QEMU, elf: null } },
      hostMachine: 'x86_64',
      hostHeader: X86_64_HEADER,
      binfmtd: [],
      binfmtSupport: [],
      record: emptyRecord(),
      available: { riscv64: [{ path: '/usr/bin/qemu-riscv64-static', source: 'distro' }] },
      ...over,
    },
    HOST_ELF,
  );
}

describe('status for people', () => {
  it('every line fits $COLUMNS (60, 80, 40), with Unicode and in ASCII', () => {
    const s = status();
    for (const columns of [40, 60, 80]) {
      for (const unicode of [true, false]) {
        const text = formatStatus(s, { term: { color: false, unicode, columns }, all: true });
        for (const line of text.split('\n')) expect(width(line), `${columns}: ${line}`).toBeLessThanOrEqual(columns);
        if (!unicode) expect(text).toMatch(/^[\x00-\x7f]*$/);
      }
    }
    expect(formatStatus(s, { term: { color: false, unicode: true, columns: 200 } })).toContain('/opt/some/very/long/vendor/directory/for/emulators/bin/qemu-aarch64-static');
  });

  it('colours state marks only when the term allows it', () => {
    const s = status();
    expect(formatStatus(s, { term: { color: true, unicode: true, columns: 100 } })).toContain('\x1b[32m✓ ready\x1b[0m');
    expect(formatStatus(s, { term: { color: false, unicode: true, columns: 100 } })).not.toContain('\x1b');
  });
});

describe('status --check', () => {
  it('runs only for native and ready (the status model\'s states), with the fixing command otherwise', () => {
    const s = status();
    const [arm64, riscv, s390x, ppc, amd64] = checkPlatforms(s, ['linux/arm64', 'riscv64', 's390x', 'ppc64le', 'amd64']);
    expect(arm64).toMatchObject({ runs: true, state: 'ready', cpu: 'aarch64', platform: 'linux/arm64' });
    expect(riscv).toMatchObject({ runs: false, state: 'missing', fix: 'archway install riscv64', platform: 'linux/riscv64' });
    expect(s390x).toMatchObject({ runs: false, state: 'disabled', fix: 'archway enable s390x' });
    expect(ppc).toMatchObject({ runs: false, state: 'broken' });
    expect(amd64).toMatchObject({ runs: true, state: 'native' });
    // agrees with the model's own `supported` list for every Docker platform
    for (const p of ['linux/arm64', 'linux/riscv64', 'linux/s390x', 'linux/ppc64le', 'linux/amd64', 'linux/386', 'linux/arm/v7']) {
      expect(checkPlatforms(s, [p])[0]!.runs, p).toBe(s.supported.includes(p));
    }
    expect(checkPlatforms(s, ['mips64le'])[0]!.fix).toBe('archway emulators fetch mips64el && archway install mips64el --source store');
  });

  it('nothing emulated runs while binfmt_misc is globally disabled', () => {
    const [arm64, amd64] = checkPlatforms(status({ globalEnabled: false }), ['arm64', 'amd64']);
    expect(arm64).toMatchObject({ runs: false, fix: 'echo 1 | sudo tee /proc/sys/fs/binfmt_misc/status' });
    expect(amd64!.runs).toBe(true);
  });

  it('main: exit 0 when all run, 1 with one line each otherwise, 2 for an unknown platform; --json', async () => {
    const s = status();
    const engine = { status: () => s } as unknown as Engine;
    const go = async (argv: string[]) => {
      let out = '';
      let err = '';
      const code = await main(argv, { stdout: (x) => (out += x), stderr: (x) => (err += x), env: { LANG: 'C.UTF-8', COLUMNS: '200' } }, engine);
      return { code, out, err };
    };
    expect((await go(['status', '--check', 'linux/arm64', 'amd64'])).code).toBe(EXIT.ok);
    const bad = await go(['status', '--check', 'linux/arm64', 'linux/riscv64']);
    expect(bad.code).toBe(EXIT.failed);
    expect(bad.out.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^✓ linux\/arm64: runs here/),
      expect.stringMatching(/^✗ linux\/riscv64: does not run here \(missing\).* fix: archway install riscv64$/),
    ]);
    const j = await go(['status', '--check', 'arm64,riscv64', '--json']);
    expect(j.code).toBe(EXIT.failed);
    expect(JSON.parse(j.out)).toMatchObject({ ok: false, platforms: [{ input: 'arm64', runs: true }, { input: 'riscv64', runs: false, fix: 'archway install riscv64' }] });
    expect((await go(['status', '--check', 'sparc99'])).code).toBe(EXIT.usage);
    expect((await go(['status', '--check'])).code).toBe(EXIT.usage);
    expect((await go(['status', 'arm64'])).code).toBe(EXIT.usage);
  });
});

describe('exit codes', () => {
  it('main: a missing helper or refused authorization exits 3, a refusal 2, a failed operation 1', async () => {
    const { ArchwayError } = await import('../../shared/helper-protocol');
    const s = status();
    const planThrows = (err: Error) => ({ status: () => s, plan: async () => { throw err; } }) as unknown as Engine;
    const go = async (engine: Engine, argv = ['install', 'riscv64']) => {
      let err = '';
      const code = await main(argv, { stdout: () => undefined, stderr: (x) => (err += x), env: { LANG: 'C.UTF-8' } }, engine);
      return { code, err };
    };
    const missing = await go(planThrows(new ArchwayError('helper-missing', 'the privileged helper is missing (/x)', 'Build it with `npm run build`.')));
    expect(missing.code).toBe(EXIT.unavailable);
    expect(missing.err).toMatch(/helper is missing.*\n  → Build it/s);
    expect((await go(planThrows(new ArchwayError('not-authorized', 'not authorized')))).code).toBe(EXIT.unavailable);
    expect((await go(planThrows(new ArchwayError('native-arch', 'runs natively')))).code).toBe(EXIT.usage);
    const engineDown = Object.assign(new Error('cannot reach the engine'), { name: 'ContainerEngineError', code: 'daemon-not-running' });
    expect((await go(planThrows(engineDown))).code).toBe(EXIT.unavailable);
    // the whole request refused by the helper (not authorized) → 3; an operation that failed → 1
    const preview = { version: 1, ok: true, dryRun: true, results: [{ op: 'install', ok: true, changed: true, message: 'install riscv64' }] };
    const applying = (response: object) =>
      ({ status: () => s, plan: async () => ({ request: {}, preview, skipped: [], elevation: 'direct' }), apply: async () => ({ response }) }) as unknown as Engine;
    expect((await go(applying({ ok: false, dryRun: false, results: [], error: { code: 'not-authorized', message: 'no' } }))).code).toBe(EXIT.unavailable);
    expect((await go(applying({ ok: false, dryRun: false, results: [{ op: 'install', ok: false, changed: false, message: 'kernel said no' }] }))).code).toBe(EXIT.failed);
    expect((await go(applying({ ok: true, dryRun: false, results: [] }))).code).toBe(EXIT.ok);
    expect((await go(noEngine, ['help', 'bogus'])).code).toBe(EXIT.usage);
  });

  it('unavailable for a missing helper, refused authorization or an unusable engine; 2 for refusals', () => {
    for (const c of ['helper-missing', 'not-authorized', 'daemon-not-running', 'api-too-old', 'permission-denied']) expect(exitForErrorCode(c)).toBe(EXIT.unavailable);
    for (const c of ['bad-request', 'native-arch', 'not-owned', 'invalid-request', 'unknown-arch']) expect(exitForErrorCode(c)).toBe(EXIT.usage);
    expect(exitForErrorCode('kernel-refused')).toBe(EXIT.failed);
    expect(exitForErrorCode('kernel-refused', EXIT.usage)).toBe(EXIT.usage);
  });
});

// --- completion scripts, run by the real shells ----------------------------------------------------
function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
const dir = mkdtempSync(join(tmpdir(), 'archway-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bashComplete(line: string): string[] {
  const file = join(dir, 'archway.bash');
  writeFileSync(file, bashCompletion());
  // Split the line as bash does for completion (spaces; `=` is its own word in COMP_WORDBREAKS).
  const words = line.replace(/=/g, ' = ').split(' ').filter((w, i, a) => w !== '' || i === a.length - 1);
  const script = `source ${file}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})\nCOMP_CWORD=${words.length - 1}\n_archway\nprintf '%s\\n' "\${COMPREPLY[@]}"\n`;
  const r = spawnSync('bash', ['--norc', '-c', script], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('completion', () => {
  it('bash: commands, options, enumerated values and architecture names from the catalog', () => {
    expect(bashComplete('archway ins')).toEqual(['install']);
    expect(bashComplete('archway ')).toEqual(COMMANDS.map((c) => c.name));
    expect(bashComplete('archway install --so')).toEqual(['--source']);
    expect(bashComplete('archway install arm64 --backend ')).toEqual(['helper', 'engine']);
    expect(bashComplete('archway probe --pull=')).toEqual(['missing', 'always', 'never']);
    expect(bashComplete('archway probe --platform linux/ri')).toEqual(['linux/riscv64']);
    expect(bashComplete('archway install ris')).toEqual(['riscv32', 'riscv64']);
    expect(bashComplete('archway install --flags F s39')).toEqual(['s390x']);
    expect(bashComplete('archway persist ')).toEqual(['on', 'off']);
    expect(bashComplete('archway persist on aarch')).toEqual(['aarch64', 'aarch64_be']);
    expect(bashComplete('archway status --check linux/s3')).toEqual(['linux/s390x']);
    expect(bashComplete('archway help inst')).toEqual(['install']);
    expect(bashComplete('archway completion ')).toEqual(['bash', 'zsh', 'fish']);
    expect(bashComplete('archway status --')).toEqual(expect.arrayContaining(['--all', '--check', '--json', '--help', '--no-color']));
    expect(bashComplete('archway --ver')).toEqual(['--version']);
  });

  it.runIf(have('fish'))('fish: the same, through fish itself', () => {
    const file = join(dir, 'archway.fish');
    writeFileSync(file, fishCompletion());
    const complete = (line: string) => {
      const r = spawnSync('fish', ['--no-config', '-c', `source ${file}; complete -C '${line}'`], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
    };
    expect(complete('archway ins')).toEqual(['install']);
    expect(complete('archway probe --pull ')).toEqual(['always', 'missing', 'never']);
    expect(complete('archway install ris')).toEqual(['riscv32', 'riscv64']);
    expect(complete('archway install --per')).toEqual(['--persist']);
  });

  it.runIf(have('zsh'))('zsh: the script parses and defines _archway', () => {
    const file = join(dir, '_archway');
    writeFileSync(file, zshCompletion());
    expect(spawnSync('zsh', ['-n', file], { encoding: 'utf8' }).stderr).toBe('');
    const r = spawnSync('zsh', ['-f', '-c', `autoload -U compinit && compinit -u -d ${dir}/zcompdump; source ${file}; whence -w _archway; echo $_comps[archway]`], { encoding: 'utf8' });
    expect(r.stdout).toBe('_archway: function\n_archway\n');
  });

  it('archway completion SHELL prints the script; another shell is a usage error', async () => {
    expect((await run(['completion', 'bash'])).stdout).toBe(completionScript('bash'));
    expect((await run(['completion', 'tcsh'])).code).toBe(EXIT.usage);
  });
});

describe('man page', () => {
  const page = manPage('9.9.9', '2026-01-01');
  it('covers every command, option and exit code', () => {
    for (const c of COMMANDS) {
      expect(page).toContain(`.SS ${c.name.replace(/-/g, '\\-')}`);
      for (const o of c.options) expect(page).toContain(`\\fB${o.name.replace(/-/g, '\\-')}\\fR`);
    }
    for (const code of Object.values(EXIT)) expect(page).toContain(`.TP\n\\fB${code}\\fR`);
    expect(page).toMatch(/^[\x00-\x7f]*$/);
  });

  it.runIf(have('groff'))('groff renders it without a warning', () => {
    const file = join(dir, 'archway.1');
    writeFileSync(file, page);
    const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', file], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });

  it.runIf(have('mandoc'))('mandoc -T lint finds nothing to say', () => {
    const file = join(dir, 'archway.1');
    writeFileSync(file, page);
    const r = spawnSync('mandoc', ['-T', 'lint', '-W', 'style', file], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
  });
});
