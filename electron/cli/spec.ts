/**
 * The one description of the `archway` command line: commands, synopsis, options (with their
 * argument names, enumerated values and descriptions), examples and exit codes. Everything a user
 * reads about the CLI comes from here — `archway --help`, `archway <command> --help`,
 * `archway help [command]`, the shell completions and the man page archway(1) — and the option
 * parser (parse.ts) accepts exactly the options written here, so an option documented is an option
 * accepted. Pure data.
 */
import { EXIT } from './exit-codes';

/** What a value (an option's argument or a positional word) can be completed with. */
export type Completer =
  | { kind: 'arch' }
  | { kind: 'file' }
  | { kind: 'command' }
  | { kind: 'none' }
  /** These words; with `files`, also file names (`--source /abs/path`). */
  | { kind: 'words'; words: readonly string[]; files?: boolean };

export interface OptionSpec {
  /** `--flags` */
  name: string;
  /** `-h` */
  short?: string;
  /** Argument name shown in help (`LETTERS`); absent for a switch. */
  arg?: string;
  /** Only these values are accepted (checked by the parser, offered by completion). */
  values?: readonly string[];
  /** Completion of the argument when it is not a closed list (`values`). */
  complete?: Completer;
  /** May be given several times (values are collected). */
  repeatable?: boolean;
  description: string;
}

export interface PositionalSpec {
  /** `ARCH…` as shown in the synopsis. */
  name: string;
  /** Completion of this word. With `words`, only those words are accepted. */
  complete: Completer;
  /** This and every following word (ARCH…). */
  variadic?: boolean;
  optional?: boolean;
}

export interface CommandSpec {
  name: string;
  /** One line: what the command does (the command list, completion descriptions). */
  summary: string;
  /** Lines after `archway ` (without it). */
  synopsis: readonly string[];
  /** Longer text, paragraphs separated by blank lines. */
  description?: string;
  positionals: readonly PositionalSpec[];
  options: readonly OptionSpec[];
  /** `archway probe … -- CMD…`: words after `--` belong to the command. */
  takesRest?: boolean;
  examples: readonly { command: string; note: string }[];
  /** What the exit codes mean for this command, where it says more than the table. */
  exits?: Partial<Record<keyof typeof EXIT, string>>;
  /** Parsed by the command itself (probe): the spec documents it, a test keeps the two in step. */
  ownParser?: boolean;
}

/** Options every command takes. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: '--help', short: '-h', description: 'show help for the command and exit' },
  { name: '--color', description: 'colour the output even when it is not a terminal' },
  { name: '--no-color', description: 'never colour the output (as does NO_COLOR=1 or TERM=dumb)' },
];

/** Options only the bare `archway` takes. */
export const TOP_OPTIONS: readonly OptionSpec[] = [{ name: '--version', description: 'print the version and exit' }];

const json: OptionSpec = { name: '--json', description: 'print one JSON document instead of text' };
const dryRun: OptionSpec = { name: '--dry-run', description: 'print the exact register strings and files; change nothing' };
const force: OptionSpec = { name: '--force', description: "also change handlers Archway does not own (another tool's)" };
const backend: OptionSpec = {
  name: '--backend',
  arg: 'BACKEND',
  values: ['helper', 'engine'],
  description:
    'helper (default): the root helper, through pkexec unless root. engine: a short-lived privileged container through the Docker socket, no sudo; no ownership record and no boot-time file',
};
const registrar: OptionSpec = { name: '--registrar', arg: 'IMAGE', complete: { kind: 'none' }, description: 'the image that writes the register strings with --backend engine (default: busybox, pinned)' };
const ARCHS: PositionalSpec = { name: 'ARCH…', complete: { kind: 'arch' }, variadic: true };

/** uninstall, enable, disable: the same arguments and options. */
function handlerCommand(name: string, summary: string, example: [string, string], description?: string): CommandSpec {
  return {
    name,
    summary,
    synopsis: [`${name} ARCH…|all [--force] [--dry-run] [--json]`],
    ...(description ? { description } : {}),
    positionals: [ARCHS],
    options: [force, dryRun, json, backend, registrar],
    examples: [{ command: example[0], note: example[1] }],
  };
}

export const ARCH_NOTE =
  'Architectures can be named as people name them: arm64, aarch64, linux/arm64, linux/arm/v7, armhf, riscv64, s390x, ppc64le, 386, mips64le, qemu-aarch64, or all.';

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'status',
    summary: 'show which architectures run here, their handlers, health, owners and conflicts',
    synopsis: ['status [--all] [--json]', 'status --check PLATFORM… [--json]'],
    description:
      'Without --check: every architecture with a handler or a Docker platform, its state (native, ready, disabled, missing, broken, conflict), the handler, flags, owner, whether it comes back after reboot, the emulator and interpreter; then everything that needs attention.\n\n' +
      'With --check: exit 0 only when each named platform runs here (natively or through a ready handler), else exit 1 with one line per platform saying why not and the command that fixes it. For CI, instead of `docker run … uname -m`.',
    positionals: [{ name: 'PLATFORM…', complete: { kind: 'arch' }, variadic: true, optional: true }],
    options: [
      { name: '--all', description: 'also list architectures without a handler or Docker platform' },
      { name: '--check', description: 'check that each PLATFORM (linux/arm64, riscv64, …) runs here; exit 1 if one does not' },
      { ...json, description: 'print one JSON document (tonistiigi/binfmt keys supported and emulators, plus detail)' },
    ],
    examples: [
      { command: 'archway status', note: 'what runs here and why' },
      { command: 'archway status --check linux/arm64 linux/riscv64', note: 'in CI: fail unless both platforms run here' },
      { command: 'archway status --json | jq .supported', note: 'the Docker platforms that run here' },
    ],
    exits: { failed: 'with --check: some platform does not run here' },
  },
  {
    name: 'install',
    summary: 'register QEMU handlers for architectures',
    synopsis: ['install ARCH…|all [options]'],
    description:
      'Registers a binfmt_misc handler for each architecture, with the emulator from the distribution (/usr/bin/qemu-*-static, or Debian\'s P wrappers), from Archway\'s store, or from a path. Says what it will do before asking for administrator rights.',
    positionals: [ARCHS],
    options: [
      { name: '--flags', arg: 'LETTERS', complete: { kind: 'words', words: ['F', 'PF', 'OF', 'POF'] }, description: 'binfmt_misc flags from P, O, C, F (F: works in every container; P only with an emulator that expects it)' },
      { name: '--persist', description: 'keep after reboot (/etc/binfmt.d/qemu-<cpu>.conf, read by systemd-binfmt)' },
      { name: '--source', arg: 'SOURCE', complete: { kind: 'words', words: ['distro', 'store'], files: true }, description: 'where the emulator comes from: distro (default), store (archway emulators fetch), or an absolute path' },
      { name: '--allow-dynamic', description: 'accept a dynamically linked emulator (it fails inside foreign containers)' },
      {
        name: '--allow-setuid',
        description:
          'allow flag C: setuid programs in foreign images work, but any local user who can run a setuid-root foreign program gets QEMU running as root with their QEMU_* variables',
      },
      { name: '--take-over', description: "replace another tool's handler of the same name (restored on uninstall)" },
      dryRun,
      json,
      backend,
      registrar,
    ],
    examples: [
      { command: 'archway install arm64 riscv64', note: 'run arm64 and riscv64 programs and containers' },
      { command: 'archway install all --persist', note: 'every architecture, kept after reboot' },
      { command: 'archway install s390x --dry-run', note: 'see the exact register string first' },
    ],
  },
  handlerCommand('uninstall', "remove Archway's handlers", ['archway uninstall arm64', 'arm64 programs fail again with "exec format error"'],
    'Removes the handlers (and their boot-time files). A handler Archway took over is put back as it was.'),
  handlerCommand('enable', 'enable registered handlers', ['archway enable arm64', 'the kernel uses the handler again']),
  handlerCommand('disable', 'disable handlers without removing them', ['archway disable arm64', 'the kernel ignores the handler until enabled']),
  {
    name: 'drop-c',
    summary: 'remove the risky flag C from handlers (same emulator and magic)',
    synopsis: ['drop-c ARCH…|all [--dry-run] [--json]'],
    description:
      "Re-registers each handler that has flag C without it: same emulator, same magic. With C, any local user who can run a setuid-root foreign program gets QEMU running as root with their QEMU_* variables. Another tool's handler (tonistiigi/binfmt registers CF) is taken over and put back as it was on uninstall.",
    positionals: [ARCHS],
    options: [dryRun, json],
    examples: [{ command: 'archway drop-c all', note: 'no handler runs setuid foreign programs as root any more' }],
  },
  {
    name: 'persist',
    summary: 'keep handlers after reboot, or stop keeping them',
    synopsis: ['persist on|off ARCH…|all [--dry-run] [--json]'],
    description: 'on writes /etc/binfmt.d/qemu-<cpu>.conf (read by systemd-binfmt at boot), atomically, one file per handler; off removes it.',
    positionals: [{ name: 'on|off', complete: { kind: 'words', words: ['on', 'off'] } }, ARCHS],
    options: [dryRun, json],
    examples: [{ command: 'archway persist on arm64', note: 'arm64 comes back after reboot' }],
  },
  {
    name: 'mount',
    summary: 'mount binfmt_misc if it is not mounted',
    synopsis: ['mount [--dry-run] [--json]'],
    positionals: [],
    options: [dryRun, json],
    examples: [{ command: 'archway mount', note: 'mount /proc/sys/fs/binfmt_misc' }],
  },
  {
    name: 'log',
    summary: 'show the audit log of privileged changes',
    synopsis: ['log [--json]'],
    description: 'Every change the helper made: when, by whom (uid), what, and the entry before and after.',
    positionals: [],
    options: [json],
    examples: [{ command: 'archway log', note: 'who changed what, newest last' }],
  },
  {
    name: 'emulators',
    summary: "fetch static QEMU emulators from a pinned image into Archway's store",
    synopsis: ['emulators fetch ARCH…|all [--image REPO:TAG@sha256:DIGEST] [--json]'],
    description:
      "Pulls a pinned tonistiigi/binfmt image through the container engine, copies the static qemu-<cpu> out without starting anything, and has the helper keep it in /var/lib/archway/emulators with its provenance. Then: archway install ARCH --source store.",
    positionals: [{ name: 'fetch', complete: { kind: 'words', words: ['fetch'] } }, ARCHS],
    options: [{ name: '--image', arg: 'REPO:TAG@sha256:DIGEST', complete: { kind: 'none' }, description: 'take the emulators from this image instead (a digest is required)' }, json],
    examples: [{ command: 'archway emulators fetch riscv64 && archway install riscv64 --source store', note: 'a newer QEMU than the distribution\'s' }],
  },
  {
    name: 'probe',
    summary: 'prove that an image really runs on each platform',
    synopsis: ['probe --platform P[,P…] --image IMAGE [options] [-- CMD…]'],
    description: 'Runs CMD (default: uname -m) in a container of each platform through the container engine and says whether it really ran there, with the fix when it did not.',
    positionals: [],
    takesRest: true,
    ownParser: true,
    options: [
      { name: '--platform', arg: 'P[,P…]', complete: { kind: 'arch' }, repeatable: true, description: 'linux/arm64, linux/arm/v7, s390x… (repeatable)' },
      { name: '--image', arg: 'IMAGE', complete: { kind: 'none' }, description: 'the image to test; its platforms are listed first' },
      { name: '--timeout', arg: 'SECONDS', complete: { kind: 'none' }, description: 'seconds each container may run (default 60)' },
      { name: '--concurrency', arg: 'N', complete: { kind: 'none' }, description: 'probes at once (default: number of platforms, at most 8)' },
      { name: '--pull', arg: 'POLICY', values: ['missing', 'always', 'never'], description: 'when to pull the image: missing (default), always, never' },
      { name: '--json', description: 'print one JSON document with every result' },
    ],
    examples: [
      { command: 'archway probe --platform linux/arm64,linux/s390x --image alpine', note: 'does alpine run on both?' },
      { command: 'archway probe --platform arm64 --image debian -- dpkg --print-architecture', note: 'run another command' },
    ],
    exits: { failed: 'some probe was not ok', unavailable: 'the container engine is unreachable or too old' },
  },
  {
    name: 'watch',
    summary: 'print what happens to the handlers as JSON lines, until interrupted',
    synopsis: ['watch [--interval SECONDS] [--fail-on-vanish]'],
    description:
      'Reads the handler table every interval and prints one JSON object per line for each change: {"time","event","name","arch",…}, where event is vanished (a handler Archway installed is gone: a reboot, a systemd-binfmt restart, a flush), removed (another handler left), appeared, changed (enabled, flags, emulator or rule, with "changes" and "before"), broken (with "reason") or recovered; "notable" is true for what the desktop app notifies about (vanished, broken). The first reading is the baseline. The desktop app is sent the same events (its handlerEvents event). Stops on Ctrl-C, SIGTERM, or when its output is closed.',
    positionals: [],
    options: [
      { name: '--interval', arg: 'SECONDS', complete: { kind: 'none' }, description: 'seconds between readings, 0.2 to 3600 (default 2)' },
      { name: '--fail-on-vanish', description: 'exit 1 as soon as a handler Archway installed vanishes (within one interval)' },
    ],
    examples: [
      { command: 'archway watch', note: 'follow handler changes as JSON lines' },
      { command: 'archway watch --fail-on-vanish --interval 5 & build.sh', note: 'in CI: notice when emulation disappears mid-build' },
    ],
    exits: { ok: 'interrupted, or its output was closed', failed: 'with --fail-on-vanish: a handler Archway installed vanished' },
  },
  {
    name: 'engines',
    summary: 'list the container engines found on this machine and which one Archway uses',
    synopsis: ['engines [--json]', 'engines use NAME|SOCKET|default [--json]'],
    description:
      'The endpoint the docker CLI would use (DOCKER_HOST, DOCKER_CONTEXT, the current context, else /var/run/docker.sock) and other sockets found (rootless Docker, Podman), with what each is. `engines use` remembers a choice for this user (DOCKER_HOST and DOCKER_CONTEXT still win while set); `engines use default` forgets it.',
    positionals: [
      { name: 'use', complete: { kind: 'words', words: ['use'] }, optional: true },
      { name: 'NAME|SOCKET|default', complete: { kind: 'none' }, optional: true },
    ],
    options: [json],
    examples: [
      { command: 'archway engines', note: 'which daemon does archway talk to?' },
      { command: 'archway engines use podman', note: 'use the Podman socket found here from now on' },
    ],
  },
  {
    name: 'completion',
    summary: 'print a shell completion script',
    synopsis: ['completion bash|zsh|fish'],
    description:
      'Prints the completion script for the shell. Load it for this session with `source <(archway completion bash)`, or install it where your shell looks: see EXAMPLES.',
    positionals: [{ name: 'bash|zsh|fish', complete: { kind: 'words', words: ['bash', 'zsh', 'fish'] } }],
    options: [],
    examples: [
      { command: 'archway completion bash > ~/.local/share/bash-completion/completions/archway', note: 'bash' },
      { command: 'archway completion zsh > "${fpath[1]}/_archway"', note: 'zsh' },
      { command: 'archway completion fish > ~/.config/fish/completions/archway.fish', note: 'fish' },
    ],
  },
  {
    name: 'version',
    summary: 'print the version',
    synopsis: ['version'],
    positionals: [],
    options: [],
    examples: [{ command: 'archway version', note: 'as archway --version' }],
  },
  {
    name: 'help',
    summary: 'show help for archway or one of its commands',
    synopsis: ['help [COMMAND]'],
    positionals: [{ name: 'COMMAND', complete: { kind: 'command' }, optional: true }],
    options: [],
    examples: [{ command: 'archway help install', note: 'as archway install --help' }],
  },
];

export const EXIT_MEANING: Record<keyof typeof EXIT, string> = {
  ok: 'done: the work succeeded',
  failed: 'the work ran and did not succeed: an operation failed, a probe was not ok, a check was not met',
  usage: 'usage error, or a request refused before anything changed',
  unavailable: 'something Archway needs is unavailable: the container engine is unreachable or too old, the helper is missing, or the action was not authorized',
};

export const ENVIRONMENT: readonly { name: string; description: string }[] = [
  { name: 'NO_COLOR', description: 'any non-empty value: no colour (https://no-color.org)' },
  { name: 'TERM', description: 'dumb: no colour' },
  { name: 'COLUMNS', description: 'the width tables and text are fitted to (default: the terminal\'s, else 80)' },
  { name: 'LC_ALL, LC_CTYPE, LANG', description: 'the first one set decides the character set: ASCII symbols unless it names UTF-8' },
  { name: 'DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG', description: 'the container engine, chosen as the docker CLI chooses it' },
];

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** Every option a command accepts: its own and the global ones. */
export function optionsOf(cmd: CommandSpec | undefined): readonly OptionSpec[] {
  return cmd ? [...cmd.options, ...GLOBAL_OPTIONS] : [...TOP_OPTIONS, ...GLOBAL_OPTIONS];
}

/** `archway install ARCH…|all [options]` — the first synopsis line, for error messages. */
export function usageLine(cmd: CommandSpec | undefined): string {
  return cmd ? cmd.synopsis.map((s) => `archway ${s}`).join('\n       ') : 'archway COMMAND [options]';
}
