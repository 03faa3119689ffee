/**
 * The one description of the `archway` command line: commands, synopsis, options (with their
 * argument names, enumerated values and descriptions), examples and exit codes. Everything a user
 * reads about the CLI comes from here — `archway --help`, `archway <command> --help`,
 * `archway help [command]`, the shell completions and the man page archway(1) — and the option
 * parser (parse.ts) accepts exactly the options written here, so an option documented is an option
 * accepted. Pure data.
 */
import { EXIT } from './exit-codes';


/** --allow-setuid, with its risk in one sentence, wherever flag C can be chosen (install, fleet install). */
const allowSetuid: OptionSpec = {
  name: '--allow-setuid',
  description: 'allow flag C: setuid programs in foreign images work, but any local user who can run a setuid-root foreign program gets QEMU running as root with their QEMU_* variables',
};
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
  {
    name: '--context',
    arg: 'NAME',
    complete: { kind: 'none' },
    description: 'use this docker context (as `docker --context NAME`; wins over DOCKER_HOST and DOCKER_CONTEXT): status and changes then go to that host through its engine',
  },
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
// Rootless engines (issue 10): the binfmt_misc instance a command works on.
const scope: OptionSpec = {
  name: '--scope',
  arg: 'SCOPE',
  values: ['host', 'podman', 'docker'],
  description: "host (default): this machine's table, through the helper. podman, docker: your rootless engine's own binfmt_misc instance, as you, no password (Linux 6.7 or newer)",
};

/** uninstall, enable, disable: the same arguments and options. */
function handlerCommand(name: string, summary: string, example: [string, string], description?: string): CommandSpec {
  return {
    name,
    summary,
    synopsis: [`${name} ARCH…|all [--force] [--dry-run] [--json]`],
    ...(description ? { description } : {}),
    positionals: [ARCHS],
    options: [force, dryRun, json, backend, registrar, scope],
    examples: [{ command: example[0], note: example[1] }],
  };
}

export const ARCH_NOTE =
  'Architectures can be named as people name them: arm64, aarch64, linux/arm64, linux/arm/v7, armhf, riscv64, s390x, ppc64le, 386, mips64le, qemu-aarch64, or all.';

// --- Kubernetes (export kubernetes, kube): options shared by the two commands ---
const kubeNamespace: OptionSpec = { name: '--namespace', arg: 'NS', complete: { kind: 'none' }, description: 'the namespace of the DaemonSets (default archway-binfmt)' };
const KUBE_PLAN_OPTIONS: readonly OptionSpec[] = [
  { name: '--image', arg: 'REF@sha256:DIGEST', complete: { kind: 'none' }, description: 'the registration image, by digest: /archway-binfmt and, by default, the emulators (see the README)' },
  { name: '--node-arch', arg: 'ARCH[,ARCH…]', complete: { kind: 'none' }, repeatable: true, description: 'kubernetes.io/arch values to make a DaemonSet for (default amd64,arm64); each skips what it runs natively' },
  { name: '--flags', arg: 'LETTERS', complete: { kind: 'none' }, description: 'binfmt_misc flags (default F; F is required; flags with C count as --allow-setuid)' },
  { name: '--allow-setuid', description: 'add flag C (setuid programs in foreign images work; see "Default flags" for the risk)' },
  { name: '--toleration', arg: 'KEY[=VALUE][:EFFECT]', complete: { kind: 'none' }, repeatable: true, description: 'let the pods run on nodes with this taint (repeatable; * tolerates every taint)' },
  kubeNamespace,
  { name: '--emulators', arg: 'SOURCE', values: ['image', 'node'], description: "image (default): the image's /usr/bin/qemu-<cpu>; node: each node's /usr/bin/qemu-<cpu>-static" },
  { name: '--replace', description: 'replace an entry of the same name that differs (default: report it and leave it)' },
];
const KUBE_ARCHS: PositionalSpec = { ...ARCHS, optional: true };

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
      { name: '--registrar', arg: 'IMAGE', complete: { kind: 'none' }, description: 'with --context on another host: the helper image that reads its table (default: the pinned busybox)' },
      scope,
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
      allowSetuid,
      { name: '--take-over', description: "replace another tool's handler of the same name (restored on uninstall)" },
      dryRun,
      json,
      backend,
      registrar,
      scope,
    ],
    examples: [
      { command: 'archway install arm64 riscv64', note: 'run arm64 and riscv64 programs and containers' },
      { command: 'archway install s390x --scope podman', note: 'only for your rootless Podman: no password, nobody else affected' },
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
    synopsis: ['log [--scope host|podman|docker] [--json]'],
    description: "Every change the helper made: when, by whom (uid), what, and the entry before and after. With --scope podman|docker: your own activity in that rootless engine's instance ($XDG_STATE_HOME/archway/rootless-<engine>/activity.log).",
    positionals: [],
    options: [json, scope],
    examples: [{ command: 'archway log', note: 'who changed what, newest last' }],
  },
  {
    name: 'emulators',
    summary: "list, fetch, import and switch the static QEMU emulators in Archway's store",
    synopsis: [
      'emulators list [--all] [--json]',
      'emulators fetch ARCH…|all [--image REPO:TAG@sha256:DIGEST|MIRROR/REPO@sha256:DIGEST] [--dry-run] [--json]',
      'emulators import PATH [ARCH…] [--dry-run] [--json]',
      'emulators use ARCH VERSION|SHA256|distro [--dry-run] [--json]',
    ],
    description:
      "list: every emulator in /var/lib/archway/emulators (several versions per architecture side by side) and the distribution's, with version, sha256, reported provenance, size, and which handlers and boot-time files use it.\n\n" +
      "fetch: pulls a pinned tonistiigi/binfmt image through the container engine (through its registry-mirrors, or a mirror reference by digest), copies the static qemu-<cpu> out without starting anything, and has the helper keep it with its provenance.\n\n" +
      'import: the same, with no engine: from a `docker save` archive or an OCI layout (file or directory) of a tonistiigi/binfmt image, or a directory of qemu-* programs.\n\n' +
      "use: switches Archway's handler of ARCH, and its boot-time file, to another stored version (or the distribution's) in one administrator approval.",
    positionals: [
      { name: 'list|fetch|import|use', complete: { kind: 'words', words: ['list', 'fetch', 'import', 'use'] } },
      { name: 'ARG…', complete: { kind: 'arch' }, variadic: true, optional: true },
    ],
    options: [
      { name: '--image', arg: 'REF@sha256:DIGEST', complete: { kind: 'none' }, description: 'fetch: take the emulators from this image (REPO:TAG@sha256:… or a mirror\'s MIRROR/REPO@sha256:…; a digest is required)' },
      { name: '--all', description: "list: every distribution emulator too, not only those in use" },
      dryRun,
      json,
    ],
    examples: [
      { command: 'archway emulators fetch riscv64 && archway install riscv64 --source store', note: 'a newer QEMU than the distribution\'s' },
      { command: 'archway emulators import binfmt.tar', note: 'emulators from `docker save tonistiigi/binfmt:qemu-v9.2.2 -o binfmt.tar`, no engine needed' },
      { command: 'archway emulators use aarch64 7.2.22', note: 'go back to another stored version (the handler and its boot-time file)' },
      { command: 'archway emulators use aarch64 distro', note: "switch back to the distribution's emulator" },
    ],
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
    name: 'shell',
    summary: 'open an interactive shell in a container of another platform',
    synopsis: ['shell --platform P IMAGE [--network NET] [--pull POLICY] [-- CMD…]'],
    description:
      "Like docker run --rm -it --platform P: a container of IMAGE for platform P with a terminal (raw mode, resized with yours), removed however the shell ends (exit, Ctrl-D, SIGHUP, SIGTERM). It runs CMD, else the image's own command when that is a shell (bash, sh…), else /bin/sh; the image's entrypoint is not run. No network unless --network names one. When the shell cannot start, Archway says why and what to do: no handler (the install command), or an image of another platform (the platforms it offers). The shell's own exit status becomes archway's; the container's output reaches your terminal unfiltered, as docker's does.",
    positionals: [{ name: 'IMAGE', complete: { kind: 'none' } }],
    takesRest: true,
    ownParser: true,
    options: [
      { name: '--platform', arg: 'P', complete: { kind: 'arch' }, description: 'linux/arm64, linux/arm/v7, s390x…' },
      { name: '--network', arg: 'NET', complete: { kind: 'none' }, description: 'join this engine network (default: none, loopback only)' },
      { name: '--pull', arg: 'POLICY', values: ['missing', 'always', 'never'], description: 'when to pull the image: missing (default), always, never' },
    ],
    examples: [
      { command: 'archway shell --platform linux/arm64 debian', note: "a shell in debian's arm64 image" },
      { command: 'archway shell --platform s390x alpine -- uname -m', note: 'run one command (prints s390x)' },
      { command: 'archway shell --platform arm64 --network bridge debian -- apt-get update', note: 'with a network' },
    ],
    exits: {
      ok: 'the shell exited 0; any other status of the shell is passed through (exit 3 gives 3), 125 means it could not start, 128+N that signal N stopped it',
      failed: 'the shell exited 1',
      usage: 'usage error (before anything ran)',
      unavailable: 'the container engine is unreachable or too old (before anything ran)',
    },
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
    name: 'export',
    summary: 'write Kubernetes manifests (a DaemonSet) that register the handlers on every node',
    synopsis: ['export kubernetes ARCH…|all --image REF@sha256:DIGEST [--node-arch ARCH,…] [--flags LETTERS] [--allow-setuid] [--toleration KEY[=VALUE][:EFFECT]]… [--namespace NS] [--emulators image|node] [--replace] [--uninstall] [-o FILE]'],
    description:
      "Writes YAML documents: a Namespace, a ServiceAccount and, per node architecture, a DaemonSet whose init container registers exactly the register strings `archway install` would write (F by default; C only with --allow-setuid, its risk stated in the file and on stderr) and prints one JSON line per node (kubectl logs -n NS ds/archway-binfmt-ARCH -c register). Nodes that run an architecture natively are skipped through nodeSelector. Every document is validated against the Kubernetes API schema before it is written. --uninstall writes the DaemonSet that removes those entries instead.",
    positionals: [{ name: 'kubernetes', complete: { kind: 'words', words: ['kubernetes'] } }, ARCHS],
    options: [
      ...KUBE_PLAN_OPTIONS,
      { name: '--uninstall', description: 'write the uninstall DaemonSet (removes exactly these entries where they are as registered)' },
      { name: '--output', short: '-o', arg: 'FILE', complete: { kind: 'file' }, description: 'write to FILE instead of standard output' },
    ],
    examples: [
      { command: 'archway export kubernetes arm64 riscv64 --image registry.example/archway-binfmt@sha256:… -o binfmt.yaml && kubectl apply -f binfmt.yaml', note: 'emulation on every amd64 node' },
      { command: 'archway export kubernetes arm64 --image registry.example/archway-binfmt@sha256:… --uninstall -o unbinfmt.yaml', note: 'the DaemonSet that removes them again' },
    ],
    exits: { usage: 'a bad request (no digest, unknown architecture, flags without F, C without --allow-setuid): nothing was written' },
  },
  {
    name: 'kube',
    summary: 'register handlers on a Kubernetes cluster and show each node\'s result',
    synopsis: ['kube status [--namespace NS] [--json]', 'kube apply ARCH…|all --image REF@sha256:DIGEST [export options]', 'kube delete [--namespace NS]'],
    description:
      'Works through the cluster API with the current kubeconfig context (KUBECONFIG, else ~/.kube/config). apply sends what `archway export kubernetes` writes (server-side apply). status prints nodes × platforms from each node\'s JSON result. delete runs the uninstall DaemonSet made from the installed ones, waits for every node\'s result, then removes Archway\'s DaemonSets and namespace.',
    positionals: [{ name: 'status|apply|delete', complete: { kind: 'words', words: ['status', 'apply', 'delete'] } }, KUBE_ARCHS],
    options: [...KUBE_PLAN_OPTIONS, json, { name: '--timeout', arg: 'SECONDS', complete: { kind: 'none' }, description: 'how long apply and delete wait for every node (default 120)' }],
    examples: [
      { command: 'archway kube apply arm64 --image registry.example/archway-binfmt@sha256:…', note: 'register on the cluster of the current context' },
      { command: 'archway kube status', note: 'nodes × platforms' },
    ],
    exits: { failed: 'a node reported a conflict or a failure', unavailable: 'no cluster is reachable with the current kubeconfig context' },
  },
  {
    name: 'fleet',
    summary: 'status of many hosts at once (docker contexts), or one install applied to all of them',
    synopsis: ['fleet status [CONTEXT…] [--baseline NAME] [--kube] [--json]', 'fleet install ARCH… [--contexts A,B] [--dry-run] [--json]'],
    description:
      'Asks every docker context (or those named) at once, each within --timeout, and reads each host\'s binfmt_misc through its engine (a short-lived helper container; no agent of Archway\'s on the host). `status` prints hosts × platforms: native, ready, - (missing), disabled, BROKEN, conflict; !C marks a handler with the C flag (setuid risk); the QEMU version each host offers; with --baseline, every cell that differs from that host. Hosts that do not answer are listed as such. `install` plans the architectures on each host with the same planner as here and registers exactly those strings through its engine, all hosts at once; one host failing never stops the others.',
    positionals: [
      { name: 'status|install', complete: { kind: 'words', words: ['status', 'install'] } },
      { name: 'CONTEXT…|ARCH…', complete: { kind: 'none' }, variadic: true, optional: true },
    ],
    options: [
      { name: '--contexts', arg: 'A,B', complete: { kind: 'none' }, description: 'install: only these contexts (default: all)' },
      { name: '--baseline', arg: 'NAME', complete: { kind: 'none' }, description: 'status: show what differs from this context\'s host' },
      { name: '--kube', description: 'status: the nodes of the Kubernetes cluster of the current kubeconfig context as rows too (each node\'s result, as `archway kube status`), within the same --timeout' },
      { name: '--timeout', arg: 'SECONDS', complete: { kind: 'none' }, description: 'seconds each host gets to answer (default 10)' },
      { name: '--registrar', arg: 'IMAGE', complete: { kind: 'none' }, description: 'the helper image on the hosts (default: the pinned busybox)' },
      { name: '--flags', arg: 'LETTERS', complete: { kind: 'none' }, description: 'install: flags (default F, PF with a *-binfmt-P wrapper); C needs --allow-setuid' },
      { ...allowSetuid, description: `install: ${allowSetuid.description}` },
      dryRun,
      json,
    ],
    examples: [
      { command: 'archway fleet status', note: 'every docker context' },
      { command: 'archway fleet status builder-1 builder-2 --baseline default', note: 'what differs from this machine' },
      { command: 'archway fleet status --kube', note: 'every docker context and every node of the current kubeconfig context\'s cluster' },
      { command: 'archway fleet install arm64 riscv64 --contexts builder-1,builder-2', note: 'the same handlers everywhere' },
    ],
    exits: { failed: 'install: a host failed (the others were still done)', unavailable: 'a host did not answer (status), or every failure was an unreachable host (install)' },
  },
  {
    name: 'rootless',
    summary: "your rootless engines' own binfmt_misc instances: status, re-apply, user unit",
    synopsis: ['rootless [status] [--scope podman|docker] [--json]', 'rootless reapply [--scope podman|docker] [--json]', 'rootless unit [--json]'],
    description:
      "Since Linux 6.7 a rootless Podman or Docker can have its own binfmt_misc instance: `archway install ARCH --scope podman` registers handlers there as you, with no password, for your containers only. Once an engine has its own instance its containers use only that table, not the host's. The instance ends with the engine's namespace (podman system migrate, reboot): `rootless reapply` registers again what you asked for, and `rootless unit` writes the systemd user unit archway-rootless.service that does it when your engines start.",
    positionals: [{ name: 'status|reapply|unit', complete: { kind: 'words', words: ['status', 'reapply', 'unit'] }, optional: true }],
    options: [{ ...scope, values: ['podman', 'docker'], description: 'only this rootless engine (default: both)' }, json],
    examples: [
      { command: 'archway rootless', note: 'does this kernel allow it, and what do your rootless engines use?' },
      { command: 'archway rootless reapply --scope podman', note: 'after podman system migrate or a reboot' },
      { command: 'archway rootless unit && systemctl --user enable --now archway-rootless.service', note: 're-apply at every login' },
    ],
    exits: { failed: 'a handler could not be registered again', unavailable: 'this kernel has no binfmt_misc per user namespace' },
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
