/**
 * Probes: run a tiny command (default `uname -m`) in a container of a given platform and say what
 * the result means. Everything here is pure (no Node, no DOM): the result and event types with
 * their schemas (the desktop IPC carries them), platform matching, the expected `uname -m` per
 * platform and host, the classifier, and the bounded output buffer.
 */
import * as z from 'zod/mini';
import { DOCKER_PLATFORMS, nativeCpus, type DockerPlatform, type Nativeness } from './arch/catalog';
import { FixIntentSchema, intentCommand, type FixIntent } from './actions';
import { SETUID_RISK, SETUID_RISK_MARKER, type Risk } from './binfmt/flags';

// ---------------------------------------------------------------------------------------------
// Statuses and schemas

/**
 * - ok: the command ran on the requested platform (for `uname -m`: it printed what that platform prints)
 * - no-handler: the kernel refused the program ("exec format error"): no binfmt_misc handler
 * - wrong-arch: the image, or what really ran, is another platform
 * - pull-failed: the image could not be pulled (not found, auth, offline)
 * - engine-error: the engine failed (daemon died, refused a call, unreachable)
 * - timeout / cancelled: stopped by Archway (the container was killed and removed)
 * - failed: the command ran on the right platform but exited non-zero or printed nonsense
 */
export const PROBE_STATUSES = ['ok', 'no-handler', 'wrong-arch', 'pull-failed', 'engine-error', 'timeout', 'cancelled', 'failed'] as const;
export type ProbeStatus = (typeof PROBE_STATUSES)[number];
export const ProbeStatusSchema = z.enum(PROBE_STATUSES);

export const DEFAULT_PROBE_COMMAND: readonly string[] = ['uname', '-m'];
/** Bytes of stdout and of stderr kept per probe (the tail). */
export const DEFAULT_OUTPUT_CAP = 64 * 1024;
/** Bytes of output forwarded live as events per probe and stream; the rest only counts. */
export const DEFAULT_LIVE_OUTPUT_LIMIT = 16 * 1024;
export const DEFAULT_PROBE_TIMEOUT_MS = 60_000;
export const MAX_MATRIX_CONCURRENCY = 8;

const opt = z.optional;
const count = () => z.number().check(z.int(), z.minimum(0));
const amount = () => z.number().check(z.minimum(0));

export const CapturedOutputSchema = z.strictObject({
  /** The last bytes, decoded as UTF-8 (invalid sequences become U+FFFD). */
  text: z.string(),
  /** Everything the container wrote to this stream. */
  totalBytes: count(),
  /** Bytes that did not fit and were dropped from the front. */
  droppedBytes: count(),
});
export type CapturedOutput = z.infer<typeof CapturedOutputSchema>;

export const ImagePlatformSchema = z.strictObject({ os: z.string(), architecture: z.string(), variant: opt(z.string()) });
export type ImagePlatform = z.infer<typeof ImagePlatformSchema>;

export const ProbeResultSchema = z.strictObject({
  platform: z.string(),
  image: z.string(),
  /** The image ID the container ran (or would have run). */
  imageId: opt(z.string()),
  /** The platform recorded in the image configuration. */
  imagePlatform: opt(z.string()),
  command: z.array(z.string()),
  status: ProbeStatusSchema,
  /** One sentence a person can read. */
  message: z.string(),
  /** What to do about it, in words (for a command: intentCommand(intent)). */
  fix: opt(z.string()),
  /** The fix as a typed intent, when one Archway operation carries it out: faces run this, never parse `fix`. */
  intent: opt(FixIntentSchema),
  /** The risk the offered fix takes (e.g. setuid-credentials for the C opt-in), with its one sentence. */
  risk: opt(z.strictObject({ id: z.enum(['setuid-credentials']), message: z.string() })),
  /** Something worth knowing that does not change the status. */
  note: opt(z.string()),
  /** `uname -m` values that count as ok (empty for custom commands). */
  expected: z.array(z.string()),
  /** First line of stdout, for `uname -m`. */
  observed: opt(z.string()),
  exitCode: z.nullable(z.number().check(z.int())),
  stdout: CapturedOutputSchema,
  stderr: CapturedOutputSchema,
  durationMs: amount(),
  pulled: z.boolean(),
});
export type ProbeResult = z.infer<typeof ProbeResultSchema>;

export const PullProgressSchema = z.strictObject({
  /** The last status line from the engine ("Downloading", "Pull complete"…). */
  status: z.string(),
  layer: opt(z.string()),
  layersDone: count(),
  layersTotal: count(),
  bytesDone: amount(),
  /** Sum of the sizes the engine announced so far (grows as layers start). */
  bytesTotal: amount(),
  /** 0–100, over all layers. */
  percent: z.number().check(z.minimum(0), z.maximum(100)),
});
export type PullProgress = z.infer<typeof PullProgressSchema>;

export const ProbePhaseSchema = z.enum(['resolving', 'pulling', 'creating', 'running', 'removing']);
export type ProbePhase = z.infer<typeof ProbePhaseSchema>;

export const ProbeEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('phase'), platform: z.string(), phase: ProbePhaseSchema }),
  z.strictObject({ type: z.literal('pull'), platform: z.string(), image: z.string(), progress: PullProgressSchema }),
  z.strictObject({
    type: z.literal('output'),
    platform: z.string(),
    stream: z.enum(['stdout', 'stderr']),
    text: z.string(),
  }),
  /** Live output stopped being forwarded (it is still counted, and its tail kept). */
  z.strictObject({ type: z.literal('output-limited'), platform: z.string(), stream: z.enum(['stdout', 'stderr']), limitBytes: z.number() }),
  /** The platforms an image offers, before a matrix runs. */
  z.strictObject({
    type: z.literal('platforms'),
    image: z.string(),
    platforms: z.array(z.string()),
    source: z.enum(['registry', 'local']),
  }),
  z.strictObject({ type: z.literal('result'), result: ProbeResultSchema }),
]);
export type ProbeEvent = z.infer<typeof ProbeEventSchema>;

export const ContainerEngineInfoSchema = z.strictObject({
  /** Where Archway connected, e.g. `unix:///var/run/docker.sock`. */
  endpoint: z.string(),
  /** How the endpoint was chosen: DOCKER_HOST, docker context, rootless socket… */
  source: z.string(),
  /** `Docker Engine`, `Podman Engine`… */
  name: z.string(),
  version: z.string(),
  apiVersion: z.string(),
  minApiVersion: opt(z.string()),
  /** The API version Archway speaks with it (negotiated, or DOCKER_API_VERSION). */
  usingApiVersion: opt(z.string()),
  os: z.string(),
  /** Docker's architecture name for the engine host (amd64). */
  arch: z.string(),
  /** `uname -m` of the engine host (x86_64): what native containers report. */
  hostMachine: z.string(),
  kernel: opt(z.string()),
  /** classic: a tag holds one platform (Docker ≤ 24 without the containerd store). */
  imageStore: z.enum(['classic', 'containerd']),
  rootless: z.boolean(),
  /** The engine's `registry-mirrors` (daemon.json / --registry-mirror): Docker pulls docker.io images through them first. */
  registryMirrors: opt(z.array(z.string())),
});
export type ContainerEngineInfo = z.infer<typeof ContainerEngineInfoSchema>;

/** A container engine found on this machine (`archway engines`, the Engine view): offered, not chosen. */
export const ContainerEngineOfferSchema = z.strictObject({
  /** Short name for `archway engines use NAME`: docker, docker-rootless, podman, podman-rootless, current. */
  name: z.string(),
  endpoint: z.string(),
  /** What it is and why it is listed: "Podman (rootless)", "Docker (system), in use (default)". */
  what: z.string(),
  /** Archway uses this one now. */
  current: z.boolean(),
  engine: opt(z.string()),
  version: opt(z.string()),
  apiVersion: opt(z.string()),
  rootless: opt(z.boolean()),
  /** Why it could not be asked (not running, permission denied…). */
  error: opt(z.strictObject({ code: z.string(), message: z.string(), hint: opt(z.string()) })),
});
export type ContainerEngineOffer = z.infer<typeof ContainerEngineOfferSchema>;

// ---------------------------------------------------------------------------------------------
// Platforms

export class PlatformError extends Error {
  readonly code = 'bad-platform';
}

/** Default variants, as containerd's platform matcher normalises them. */
function normaliseVariant(architecture: string, variant: string | undefined): string | undefined {
  if (architecture === 'arm64') return variant === undefined || variant === '' || variant === 'v8' ? 'v8' : variant;
  if (architecture === 'arm') return variant === undefined || variant === '' ? 'v7' : variant;
  return variant === '' ? undefined : variant;
}

const OSES = new Set(['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'illumos', 'aix', 'android', 'ios', 'plan9', 'js', 'wasip1']);

/** `linux/arm/v7` -> { os, architecture, variant }. Accepts `arm64` (os linux implied). */
export function parsePlatform(input: string): ImagePlatform {
  const s = input.trim().toLowerCase();
  const parts = s.split('/');
  if (parts.length === 0 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new PlatformError(`"${input}" is not a platform: write os/architecture[/variant], e.g. linux/arm64 or linux/arm/v7`);
  }
  // `arm/v7` and `arm64` leave the OS out (linux); a first part that is an OS is one.
  const [os, architecture, variant] = OSES.has(parts[0]!) ? parts : ['linux', ...parts];
  if (parts.length > 3 || !architecture || (OSES.has(parts[0]!) ? parts.length > 3 : parts.length > 2)) {
    throw new PlatformError(`"${input}" is not a platform: write os/architecture[/variant], e.g. linux/arm64 or linux/arm/v7`);
  }
  if (os !== 'linux') throw new PlatformError(`"${input}": only linux platforms run through binfmt_misc`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: { os?: string; architecture: string; variant?: string | undefined }): string {
  return `${p.os ?? 'linux'}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/**
 * The catalog record for a platform name. Exact catalog platforms first (`linux/arm/v7`); other
 * ARM variants (`linux/arm/v5`, `linux/arm64/v8`) borrow the record of their architecture.
 */
export function platformRecord(input: string): DockerPlatform {
  const p = parsePlatform(input);
  const name = formatPlatform(p);
  const exact = DOCKER_PLATFORMS.find((d) => d.platform === name);
  if (exact) return exact;
  if (p.architecture === 'arm64' && normaliseVariant('arm64', p.variant) === 'v8') {
    return DOCKER_PLATFORMS.find((d) => d.platform === 'linux/arm64')!;
  }
  if (p.architecture === 'arm' && p.variant) {
    // QEMU's default ARM CPU reports armv7l whatever the userland; the variant's own name is also fine.
    const machine = `arm${p.variant}${p.variant === 'v5' ? 'tel' : 'l'}`;
    return { platform: name, os: 'linux', architecture: 'arm', variant: p.variant, cpu: 'arm', unameM: ['armv7l', machine] };
  }
  const byArch = DOCKER_PLATFORMS.filter((d) => d.architecture === p.architecture && !p.variant);
  if (byArch.length > 0) return byArch[0]!;
  const known = DOCKER_PLATFORMS.map((d) => d.platform).join(', ');
  throw new PlatformError(`unknown platform "${input}": Archway knows ${known}`);
}

/** Does an image's configuration (architecture/variant) satisfy the requested platform? */
export function imageMatchesPlatform(requested: DockerPlatform, image: { os?: string; architecture?: string; variant?: string }): boolean {
  if ((image.os ?? 'linux') !== 'linux' || image.architecture !== requested.architecture) return false;
  return normaliseVariant(requested.architecture, requested.variant) === normaliseVariant(image.architecture, image.variant);
}

// ---------------------------------------------------------------------------------------------
// Expected `uname -m`

/** What a 32-bit program on a 64-bit kernel may see when the container sets the 32-bit personality. */
const COMPAT32: Readonly<Record<string, string>> = {
  x86_64: 'i686',
  aarch64: 'armv8l',
  ppc64: 'ppc',
  s390x: 's390',
  mips64: 'mips',
  sparc64: 'sparc',
};

export interface ExpectedUname {
  /** Values that count as ok. */
  values: string[];
  /** How the host runs this platform: natively for sure, maybe natively, or only through a handler. */
  native: Nativeness | null;
  /** Values QEMU would print (differs from `values` when the host runs the platform natively). */
  emulated: string[];
  why?: string;
}

/**
 * What `uname -m` prints in a container of `platform` on a host whose kernel says `hostMachine`.
 * A platform the host runs natively reports the host (linux/386 on x86_64 prints x86_64, or i686
 * under the 32-bit personality); an emulated one reports QEMU's CPU (linux/arm/v7 -> armv7l).
 */
export function expectedUname(platform: DockerPlatform, hostMachine: string): ExpectedUname {
  const host = hostMachine.trim();
  const nat = nativeCpus(host).find((n) => n.cpu === platform.cpu);
  const emulated = [...platform.unameM];
  if (!nat) return { values: emulated, native: null, emulated };
  const nativeValues = [host, ...(COMPAT32[host] && platform.cpu !== nativeCpus(host)[0]?.cpu ? [COMPAT32[host]!] : [])];
  if (nat.native === 'yes') {
    return { values: unique(nativeValues), native: 'yes', emulated, why: nat.why };
  }
  return { values: unique([...emulated, ...nativeValues]), native: 'maybe', emulated, why: nat.why };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** Every machine name a probe could print, mapped to the platforms that print it. */
function knownMachines(hostMachine: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  const add = (machine: string, platform: string) => m.set(machine, [...(m.get(machine) ?? []), platform]);
  for (const p of DOCKER_PLATFORMS) for (const u of p.unameM) add(u, p.platform);
  for (const [k, v] of Object.entries(COMPAT32)) {
    if (!m.has(k)) m.set(k, []);
    if (!m.has(v)) m.set(v, []);
  }
  for (const extra of ['armv5tel', 'armv6l', 'armv8l', 'i386', 'i486', 'i586', 'mips', 'ppc', 'ppc64', 's390', 'sparc64', 'riscv32']) {
    if (!m.has(extra)) m.set(extra, []);
  }
  if (hostMachine && !m.has(hostMachine)) m.set(hostMachine, []);
  return m;
}

/** First non-empty line of the output, trimmed. */
export function observedMachine(stdout: string): string | undefined {
  const line = stdout.split('\n').find((l) => l.trim().length > 0);
  return line?.trim();
}

/** Install a handler for a platform (Docker's architecture name, which Archway resolves), as a typed intent. */
export function installIntent(platform: DockerPlatform, extra: Partial<FixIntent> = {}): FixIntent {
  return { action: 'install', archs: [platform.architecture], ...extra };
}

/**
 * The current user's rootless engine a connection reaches, if it is one: a local socket of an
 * engine that says it is rootless. Its containers live in the user's namespace (issue 10).
 */
export function rootlessScopeOf(info: { rootless?: boolean; name?: string; endpoint?: string }): 'podman' | 'docker' | undefined {
  if (!info.rootless || !info.endpoint?.startsWith('unix://')) return undefined;
  return /podman/i.test(info.name ?? '') ? 'podman' : /docker/i.test(info.name ?? '') ? 'docker' : undefined;
}

/** `archway install <arch>` for a platform: the words of installIntent. */
export function installFix(platform: DockerPlatform): string {
  return intentCommand(installIntent(platform));
}

// ---------------------------------------------------------------------------------------------
// Classification

export type ProbeErrorKind = 'pull-failed' | 'engine-error' | 'timeout' | 'cancelled';

export interface ClassifyInput {
  platform: DockerPlatform;
  /** `uname -m` of the engine host. */
  hostMachine: string;
  command: readonly string[];
  /** Exit code of the container; null when it did not run to the end. */
  exitCode: number | null;
  stdoutTail: string;
  stderrTail: string;
  /** Set when the probe stopped before the container finished. */
  errorKind?: ProbeErrorKind;
  /** The engine's or Archway's own words for errorKind, or for a refused start. */
  errorMessage?: string;
  /** Platform recorded in the image that ran (or was found). */
  image?: { os?: string; architecture?: string; variant?: string };
  /** What Archway knows of the handler for this platform's CPU, if it looked. */
  handler?: 'ready' | 'disabled' | 'missing';
  /** The probe ran through the current user's rootless engine (rootlessScopeOf): its fix needs no password. */
  scope?: 'podman' | 'docker';
  timeoutMs?: number;
}

export interface Classification {
  status: ProbeStatus;
  message: string;
  fix?: string;
  intent?: FixIntent;
  risk?: Risk;
  note?: string;
  expected: string[];
  observed?: string;
}

const EXEC_FORMAT = /exec format error/i;
const EXEC_ENOENT = /exec [^\n]*: no such file or directory/i;

function isDefaultCommand(command: readonly string[]): boolean {
  return command.length === DEFAULT_PROBE_COMMAND.length && command.every((c, i) => c === DEFAULT_PROBE_COMMAND[i]);
}

/** Decide what a probe's outcome means. Pure; every branch returns a sentence a person can act on. */
export function classifyProbe(input: ClassifyInput): Classification {
  const { platform } = input;
  const name = platform.platform;
  const uname = isDefaultCommand(input.command);
  const exp = expectedUname(platform, input.hostMachine);
  const expected = uname ? exp.values : [];
  const base = { expected };

  if (input.errorKind === 'cancelled') {
    return { ...base, status: 'cancelled', message: `${name}: cancelled; the container was stopped and removed` };
  }
  if (input.errorKind === 'timeout') {
    const secs = input.timeoutMs !== undefined ? ` after ${Math.round(input.timeoutMs / 100) / 10} s` : '';
    return {
      ...base,
      status: 'timeout',
      message: `${name}: no result${secs}; the container was killed and removed`,
      fix: 'Emulated programs run slower: retry with a longer --timeout, or check the command ends on its own.',
    };
  }
  if (input.errorKind === 'pull-failed') {
    return {
      ...base,
      status: 'pull-failed',
      message: `${name}: could not pull the image: ${input.errorMessage ?? 'unknown error'}`,
      fix: pullFix(input.errorMessage ?? ''),
    };
  }

  const imgName = input.image?.architecture ? formatPlatform({ os: input.image.os ?? 'linux', architecture: input.image.architecture, variant: input.image.variant }) : undefined;
  if (input.image?.architecture && !imageMatchesPlatform(platform, input.image)) {
    return {
      ...base,
      status: 'wrong-arch',
      message: `${name}: the image is ${imgName}, not ${name}; the engine would run another platform`,
      fix: `Use an image that offers ${name} (a multi-platform tag), or pull it with --platform ${name}.`,
    };
  }

  const text = `${input.stderrTail}\n${input.errorMessage ?? ''}`;
  if (EXEC_FORMAT.test(text)) {
    if (input.handler === 'ready') {
      return {
        ...base,
        status: 'wrong-arch',
        message: `${name}: the kernel refused the program although a handler for ${platform.cpu} is ready: the image's programs are not ${name}`,
        fix: 'Check how the image was built: its configuration says one platform, its binaries are another.',
      };
    }
    const disabled = input.handler === 'disabled';
    const message = `${name}: exec format error: ${disabled ? `the ${platform.cpu} handler is disabled` : `no binfmt_misc handler runs ${platform.cpu} programs`}${exp.native === 'maybe' ? ` (and this ${input.hostMachine} host does not run them natively)` : ''}`;
    if (input.scope) {
      // A rootless engine: the fix is the user's own, in the engine's instance — no password, nobody
      // else affected — and the host-wide one may not even reach its containers (their own instance hides it).
      const intent = installIntent(platform, { scope: input.scope });
      const who = input.scope === 'podman' ? 'your rootless Podman' : 'your rootless Docker';
      return { ...base, status: 'no-handler', message: `${name}: exec format error: ${who}'s containers have no binfmt_misc handler for ${platform.cpu}`, fix: `enable ${platform.architecture} for ${who} — no password: ${intentCommand(intent)}`, intent };
    }
    return {
      ...base,
      status: 'no-handler',
      message,
      ...fixOf(disabled ? { action: 'enable', archs: [platform.architecture] } : installIntent(platform)),
    };
  }

  if (input.errorKind === 'engine-error') {
    return { ...base, status: 'engine-error', message: `${name}: ${input.errorMessage ?? 'the engine failed'}`, fix: engineFix(input.errorMessage ?? '') };
  }

  if (!uname) {
    if (input.exitCode === 0) return { ...base, status: 'ok', message: `${name}: the command ran and exited 0` };
    return commandFailed(input, expected);
  }

  const observed = observedMachine(input.stdoutTail);
  if (observed !== undefined && expected.includes(observed) && input.exitCode === 0) {
    const viaQemu = exp.native === 'yes' && observed !== input.hostMachine.trim();
    return {
      ...base,
      observed,
      status: 'ok',
      message: `${name}: runs (uname -m says ${observed}${exp.native === 'yes' ? ', natively' : ''})`,
      ...(viaQemu ? { note: 'the 32-bit personality or a registered handler is in use' } : {}),
    };
  }
  if (observed !== undefined && input.exitCode === 0) {
    const machines = knownMachines(input.hostMachine);
    if (machines.has(observed)) {
      const who = machines.get(observed)!;
      const isHost = observed === input.hostMachine;
      return {
        ...base,
        observed,
        status: 'wrong-arch',
        message: `${name}: expected uname -m ${expected.join(' or ')}, the container reported ${observed}${isHost ? ' (this host\'s own architecture)' : who.length ? ` (${who.join(', ')})` : ''}: the engine ran another platform`,
        fix: isHost
          ? `The image's programs are for this host, not ${name}: use an image that really offers ${name}.`
          : `The image's programs are not ${name}: check how it was built, or pick its ${name} variant.`,
      };
    }
    return {
      ...base,
      observed,
      status: 'failed',
      message: `${name}: uname -m printed "${observed.slice(0, 80)}", which is no machine name: the image's entrypoint or uname is unusual`,
    };
  }
  return commandFailed(input, expected, observed);
}

/** A typed fix and its words (built by intentCommand, the one place). */
function fixOf(intent: FixIntent): { fix: string; intent: FixIntent } {
  return { fix: intentCommand(intent), intent };
}

/** How setuid programs fail when the handler lacks C: they run with the caller's credentials. */
const SETUID_FAILURE = /effective uid is not 0|must be owned by uid 0 and have the setuid bit set/i;

function commandFailed(input: ClassifyInput, expected: string[], observed?: string): Classification {
  const name = input.platform.platform;
  const stderrLine = input.stderrTail.trim().split('\n').pop()?.slice(0, 200) ?? '';
  const base = { expected, ...(observed !== undefined ? { observed } : {}) };
  if (SETUID_FAILURE.test(input.stderrTail) && expectedUname(input.platform, input.hostMachine).native !== 'yes') {
    const intent = installIntent(input.platform, { allowSetuid: true });
    return {
      ...base,
      status: 'failed',
      message: `${name}: a setuid program did not gain privileges (${stderrLine}): the ${input.platform.cpu} handler has no flag C, so programs run under QEMU keep the caller's credentials`,
      fix: `If this image needs setuid programs (sudo, su), opt in to C: ${intentCommand(intent)}. Risk: ${SETUID_RISK}`,
      intent,
      risk: SETUID_RISK_MARKER,
    };
  }
  if (EXEC_ENOENT.test(input.stderrTail) && input.platform && expectedUname(input.platform, input.hostMachine).native !== 'yes') {
    return {
      ...base,
      status: 'failed',
      message: `${name}: ${stderrLine}`,
      fix: `If the program exists in the image, the ${input.platform.cpu} handler was probably registered without F, so its emulator is looked up inside the container: ${installFix(input.platform)} registers it with F.`,
      intent: installIntent(input.platform),
    };
  }
  return {
    ...base,
    status: 'failed',
    message: `${name}: the command exited with ${input.exitCode ?? 'no exit code'}${stderrLine ? `: ${stderrLine}` : ''}`,
  };
}

function pullFix(message: string): string {
  if (/unauthorized|authentication required|denied/i.test(message)) {
    return 'Log in to the registry (docker login) or check the image name: private and misspelled images look alike to registries.';
  }
  if (/not found|manifest unknown|no matching manifest|does not exist/i.test(message)) {
    return 'Check the image name and tag, and that the image offers this platform (archway probe --image IMAGE lists them).';
  }
  if (/no such host|dial tcp|timeout|network is unreachable|connection refused|i\/o timeout/i.test(message)) {
    return 'The engine cannot reach the registry: check the network or proxy of the Docker daemon, or pull the image while online.';
  }
  return 'Try `docker pull --platform PLATFORM IMAGE` to see the engine\'s full answer.';
}

function engineFix(message: string): string {
  if (/ECONNRESET|socket hang up|ECONNREFUSED|ENOENT|EPIPE|closed/i.test(message)) {
    return 'The Docker daemon stopped answering: check `systemctl status docker`, then run the probe again (Archway removes leftovers at start-up).';
  }
  return 'Run the probe again; if it keeps failing, check the daemon log (journalctl -u docker).';
}

// ---------------------------------------------------------------------------------------------
// Output capture

/**
 * Keeps the last `limit` bytes written and counts everything, so a container printing gigabytes
 * costs at most `limit` bytes of memory.
 */
export class OutputCap {
  private readonly buf: Uint8Array;
  /** Index of the oldest kept byte. */
  private start = 0;
  private size = 0;
  private total = 0;

  constructor(readonly limit: number = DEFAULT_OUTPUT_CAP) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('OutputCap limit must be a whole number ≥ 1');
    this.buf = new Uint8Array(limit);
  }

  push(chunk: Uint8Array): void {
    this.total += chunk.length;
    const n = this.buf.length;
    if (chunk.length >= n) {
      this.buf.set(chunk.subarray(chunk.length - n));
      this.start = 0;
      this.size = n;
      return;
    }
    const end = (this.start + this.size) % n;
    const first = Math.min(chunk.length, n - end);
    this.buf.set(chunk.subarray(0, first), end);
    if (first < chunk.length) this.buf.set(chunk.subarray(first), 0);
    const overflow = Math.max(0, this.size + chunk.length - n);
    this.size = Math.min(n, this.size + chunk.length);
    this.start = (this.start + overflow) % n;
  }

  get totalBytes(): number {
    return this.total;
  }

  get droppedBytes(): number {
    return this.total - this.size;
  }

  /** The kept bytes, oldest first. */
  tail(): Uint8Array {
    const out = new Uint8Array(this.size);
    const n = this.buf.length;
    const first = Math.min(this.size, n - this.start);
    out.set(this.buf.subarray(this.start, this.start + first));
    if (first < this.size) out.set(this.buf.subarray(0, this.size - first), first);
    return out;
  }

  /** The kept bytes as text; a character cut in half by dropping is left out. */
  text(): string {
    let bytes = this.tail();
    if (this.droppedBytes > 0) {
      let skip = 0;
      while (skip < bytes.length && skip < 3 && (bytes[skip]! & 0xc0) === 0x80) skip++;
      bytes = bytes.subarray(skip);
    }
    return decodeUtf8(bytes);
  }

  captured(): CapturedOutput {
    return { text: this.text(), totalBytes: this.totalBytes, droppedBytes: this.droppedBytes };
  }
}

/** UTF-8 to string; invalid or truncated sequences become U+FFFD (as TextDecoder does, without needing it). */
export function decodeUtf8(bytes: Uint8Array): string {
  const out: string[] = [];
  let chunk: number[] = [];
  const flush = () => {
    out.push(String.fromCharCode(...chunk));
    chunk = [];
  };
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let cp = 0xfffd;
    let len = 1;
    if (b < 0x80) {
      cp = b;
    } else if (b >= 0xc2 && b <= 0xf4) {
      const need = b < 0xe0 ? 1 : b < 0xf0 ? 2 : 3;
      let v = b & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
      let ok = true;
      let k = 1;
      for (; k <= need && ok; k++) {
        const c = bytes[i + k];
        if (c === undefined || (c & 0xc0) !== 0x80) {
          ok = false;
          break;
        }
        // Reject overlongs and surrogates at the second byte, as the WHATWG decoder does.
        if (k === 1) {
          if (b === 0xe0 && c < 0xa0) ok = false;
          else if (b === 0xed && c > 0x9f) ok = false;
          else if (b === 0xf0 && c < 0x90) ok = false;
          else if (b === 0xf4 && c > 0x8f) ok = false;
          if (!ok) break;
        }
        v = (v << 6) | (c & 0x3f);
      }
      if (ok) {
        cp = v;
        len = need + 1;
      } else {
        // One U+FFFD for the valid prefix; the offending byte is read again.
        len = k;
      }
    }
    if (cp > 0xffff) {
      cp -= 0x10000;
      chunk.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      chunk.push(cp);
    }
    if (chunk.length >= 8192) flush();
    i += len;
  }
  flush();
  return out.join('');
}
