/**
 * Registration through the engine, for a user who has the Docker socket but no sudo: a short-lived
 * helper container (busybox, no shell, no network, no capabilities) with the host's binfmt_misc
 * bind-mounted writes the SAME register string the privileged helper would write —
 * buildRegister(catalogRule(cpu, interpreter, flags)) — after the same validation.
 *
 * With F the kernel opens the interpreter at registration, in the writer's mount namespace: the
 * emulator file is bind-mounted read-only at the same path inside the container, so the kernel
 * pins the host's file. Registrations live in the host's binfmt_misc instance, which must be
 * mounted on the engine host (systemd does it); an instance mounted only inside a container would
 * vanish with it.
 */
import * as fs from 'node:fs';
import { catalogEntry, nativeCpus, type Cpu } from '../../shared/arch/catalog';
import { resolveOne } from '../../shared/arch/resolve';
import { parseProcEntry } from '../../shared/binfmt/entry';
import { F_REQUIRED, lacksF, normaliseFlags } from '../../shared/binfmt/flags';
import { buildRegister, parseRegister, RuleError, sameMatch, sameRule, validateInterpreter, validateName, type MagicRule } from '../../shared/binfmt/register';
import { FlagsSchema } from '../../shared/helper-protocol';
import { catalogRule } from '../../shared/status';
import { call, type ContainerTarget } from './api';
import { createTemp, disposeTemp, execIn, type ExecResult } from './containers';
import { verifyEmulatorBytes } from './emulator-image';
import { ContainerEngineError } from './errors';
import { inspectImage, pullImage } from './images';
import { pinnedRef, REGISTRAR_IMAGE, type PinnedImage } from './pins';

export const HOST_BINFMT = '/proc/sys/fs/binfmt_misc';
/** Where the host's binfmt_misc appears inside the helper container. */
const IN_CONTAINER = '/archway/binfmt_misc';
export const DEFAULT_ENGINE_FLAGS = 'F';

export interface ContainerTargetWithInfo extends ContainerTarget {
  info: { arch: string; hostMachine: string; rootless?: boolean };
}

/** A rootless engine's root is not the host's: what it writes lands in a private instance, if anywhere. */
function refuseRootless(t: ContainerTargetWithInfo): void {
  if (t.info.rootless) {
    throw new ContainerEngineError(
      'invalid-request',
      `the engine at ${t.endpointName} is rootless: its containers cannot change the host's binfmt_misc (handlers would land in a private instance and vanish)`,
      'Use the privileged helper instead (`archway install ARCH` asks for administrator rights), or a rootful engine.',
    );
  }
}

/** A handler to register: by CPU + interpreter + flags, or as a register string from the catalog. */
export type ContainerEngineRule =
  | { cpu: string; interpreter: string; flags?: string; hostPath?: string }
  | { register: string; hostPath?: string };

export interface PlannedRule {
  cpu: Cpu;
  name: string;
  rule: MagicRule;
  /** The exact string written to binfmt_misc/register. */
  register: string;
  /** The emulator file on the engine host (bind-mounted at `rule.interpreter`). */
  hostPath: string;
}

function refuse(message: string, hint?: string): ContainerEngineError {
  return new ContainerEngineError('invalid-request', message, hint);
}

function checkPath(p: string, what: string): void {
  try {
    validateInterpreter(p);
  } catch (err) {
    throw refuse(`${what}: ${(err as RuleError).message}`);
  }
  if (!p.startsWith('/') || p.split('/').some((s, i) => i > 0 && (s === '' || s === '.' || s === '..'))) {
    throw refuse(`${what} "${p}" must be an absolute, canonical path (no //, . or ..)`);
  }
}

/**
 * Validate a handler like the privileged helper does and build its register string. Pure.
 * Throws ContainerEngineError('invalid-request').
 */
export function planContainerEngineRule(input: ContainerEngineRule, hostMachine: string): PlannedRule {
  let cpu: Cpu;
  let interpreter: string;
  let flags: string;
  if ('register' in input) {
    let parsed;
    try {
      parsed = parseRegister(input.register);
    } catch (err) {
      throw refuse(`not a valid register string: ${(err as Error).message}`);
    }
    if (parsed.type !== 'M') throw refuse('only magic (M) handlers from Archway\'s catalog can be registered through the engine');
    const entry = resolveByName(parsed.name);
    if (!entry || !sameMatch(parsed, catalogRule(entry, '/x', ''))) {
      throw refuse(`${parsed.name}: not a handler from Archway's catalog (its name or magic differs)`, 'Register catalog CPUs by name, e.g. arm64.');
    }
    cpu = entry;
    interpreter = parsed.interpreter;
    flags = parsed.flags;
  } else {
    try {
      cpu = resolveOne(input.cpu).cpu;
    } catch (err) {
      throw refuse((err as Error).message);
    }
    interpreter = input.interpreter;
    flags = input.flags ?? DEFAULT_ENGINE_FLAGS;
  }
  const nat = nativeCpus(hostMachine).find((n) => n.cpu === cpu);
  if (nat?.native === 'yes') throw refuse(`${cpu} runs natively on this ${hostMachine} host: a handler would send its own programs to an emulator`);
  if (!FlagsSchema.safeParse(flags).success) throw refuse(`flags "${flags}": use letters from P, O, C, F`);
  if (lacksF(flags)) throw refuse(`flags "${flags || 'none'}" lack F: ${F_REQUIRED}`, `Add F, e.g. --flags ${normaliseFlags(`${flags}F`)}`);
  checkPath(interpreter, 'interpreter');
  const hostPath = input.hostPath ?? interpreter;
  checkPath(hostPath, 'emulator file');
  const rule = catalogRule(cpu, interpreter, normaliseFlags(flags));
  let register: string;
  try {
    register = buildRegister(rule);
  } catch (err) {
    throw refuse((err as Error).message);
  }
  return { cpu, name: rule.name, rule, register, hostPath };
}

function resolveByName(handlerName: string): Cpu | undefined {
  const m = /^qemu-(.+)$/.exec(handlerName);
  const e = m ? catalogEntry(m[1]!) : undefined;
  return e?.cpu;
}

export interface RegistrarImage {
  /** Image reference, pulled by digest when it is a pin. */
  image: PinnedImage | { ref: string; platform: string };
  /** Path of a static busybox inside it (default /bin/busybox). */
  busybox?: string;
}

export interface SessionOptions {
  registrar?: RegistrarImage;
  /** Host path of binfmt_misc on the engine host (default /proc/sys/fs/binfmt_misc). */
  binfmtPath?: string;
  signal?: AbortSignal;
  /**
   * Read mode: also bind these directories of the engine host read-only (not recursively) under
   * /archway/host, so the helper can stat emulator files and read their first bytes. Only fixed
   * busybox applets (stat, head, grep) run there; nothing is written. (Not "/" itself: in a user
   * namespace a non-recursive bind of a tree with locked submounts is refused, and a recursive one
   * would show /proc and /sys too.)
   */
  hostDirs?: readonly string[];
}

/** Where the engine host's root file system appears inside a read-mode helper container. */
export const IN_CONTAINER_HOST = '/archway/host';

/** A file on the engine host as a read-mode helper sees it. */
export interface EngineHostFile {
  path: string;
  exists: boolean;
  symlink: boolean;
  regular: boolean;
  uid: number;
  mode: number;
  /** device:inode:size:mtime:ctime of what the path names (its identity). */
  identity: string;
}

export interface ContainerEngineEntry {
  name: string;
  text: string;
}

/** A running helper container with the host's binfmt_misc and the given emulator files mounted. */
export class ContainerBinfmtSession {
  private constructor(
    private readonly t: ContainerTargetWithInfo,
    readonly id: string,
    private readonly busybox: string,
    private readonly signal: AbortSignal | undefined,
  ) {}

  static async open(t: ContainerTargetWithInfo, emulatorBinds: { hostPath: string; target: string }[], opts: SessionOptions = {}): Promise<ContainerBinfmtSession> {
    const registrar = opts.registrar ?? { image: REGISTRAR_IMAGE };
    const { ref, platform } = 'ref' in registrar.image ? registrar.image : { ref: pinnedRef(registrar.image), platform: `linux/${t.info.arch}` };
    let img = await inspectImage(t, ref, opts.signal);
    if (!img && !('ref' in registrar.image)) {
      await pullImage(t, ref, platform, opts.signal ? { signal: opts.signal } : {});
      img = await inspectImage(t, ref, opts.signal);
    }
    if (!img) throw new ContainerEngineError('not-found', `the registration image ${ref} is not available to the engine`);
    const busybox = registrar.busybox ?? '/bin/busybox';
    const unique = [...new Map(emulatorBinds.map((b) => [b.target, b])).values()];
    // An emulator mounted over the helper image's own files (its busybox, or an applet link that
    // resolves to it) would replace the very program doing the work.
    const reserved = [`${busybox.slice(0, busybox.lastIndexOf('/'))}/`, '/dev/', '/proc/', '/sys/', '/etc/', `${IN_CONTAINER}/`, `${IN_CONTAINER_HOST}/`];
    for (const b of unique) {
      if (b.target === busybox || reserved.some((r) => b.target.startsWith(r))) {
        throw refuse(`${b.target} collides with the registration container's own files`, 'Register an emulator that lives elsewhere, e.g. in /usr/bin or Archway\'s emulator store.');
      }
    }
    const id = await createTemp(t, {
      kind: 'register',
      platform,
      lifetimeMs: 10 * 60_000,
      body: {
        Image: img.id,
        Entrypoint: [],
        // Outlives a crash of Archway by at most ten minutes; the reaper removes it afterwards.
        Cmd: [busybox, 'sleep', '600'],
        NetworkDisabled: true,
        User: '0',
        HostConfig: {
          NetworkMode: 'none',
          CapDrop: ['ALL'],
          LogConfig: { Type: 'none', Config: {} },
          Mounts: [
            { Type: 'bind', Source: opts.binfmtPath ?? HOST_BINFMT, Target: IN_CONTAINER, ReadOnly: false },
            ...(opts.hostDirs ?? []).map((d) => {
              checkPath(d, 'host directory');
              return { Type: 'bind', Source: d, Target: `${IN_CONTAINER_HOST}${d}`, ReadOnly: true, BindOptions: { NonRecursive: true } };
            }),
            ...unique.map((b) => ({ Type: 'bind', Source: b.hostPath, Target: b.target, ReadOnly: true })),
          ],
        },
      },
    }).catch((err: unknown) => {
      if (err instanceof ContainerEngineError && /bind source path does not exist/i.test(err.message)) {
        throw refuse(`an emulator file does not exist on the engine host: ${err.detail ?? err.message}`, 'Install the emulator first (e.g. qemu-user-static), or source one with Archway.');
      }
      throw err;
    });
    const s = new ContainerBinfmtSession(t, id, busybox, opts.signal);
    try {
      await call(t, { method: 'POST', path: `/containers/${id}/start`, doing: 'starting the registration container', timeoutMs: 30_000 });
      return s;
    } catch (err) {
      await s.close();
      throw err;
    }
  }

  private async run(args: string[], stdin?: string): Promise<ExecResult> {
    try {
      return await execIn(this.t, this.id, [this.busybox, ...args], { timeoutMs: 20_000, ...(stdin !== undefined ? { stdin } : {}), ...(this.signal ? { signal: this.signal } : {}) });
    } catch (err) {
      if (err instanceof ContainerEngineError && err.code === 'conflict' && /is not running/.test(err.message)) {
        throw new ContainerEngineError('engine-refused', `the registration container stopped unexpectedly (${this.busybox} did not keep running in ${this.id.slice(0, 12)})`, 'Check that the registration image holds a static busybox at that path.');
      }
      throw err;
    }
  }

  /** Is binfmt_misc mounted on the engine host? (its `status` file is visible) */
  async mounted(): Promise<boolean> {
    const r = await this.run(['cat', `${IN_CONTAINER}/status`]);
    return r.exitCode === 0 && /^(enabled|disabled)/.test(r.stdout.toString('utf8'));
  }

  async readEntry(name: string): Promise<string | undefined> {
    validateName(name);
    const r = await this.run(['cat', `${IN_CONTAINER}/${name}`]);
    return r.exitCode === 0 ? r.stdout.toString('utf8') : undefined;
  }

  /** Every entry (except register and status) with its text. */
  async entries(): Promise<ContainerEngineEntry[]> {
    const r = await this.run(['grep', '-r', '', IN_CONTAINER]);
    const byName = new Map<string, string[]>();
    const prefix = `${IN_CONTAINER}/`;
    for (const line of r.stdout.toString('utf8').split('\n')) {
      if (!line.startsWith(prefix)) continue;
      const rest = line.slice(prefix.length);
      const colon = rest.indexOf(':');
      if (colon <= 0) continue;
      const name = rest.slice(0, colon);
      if (name === 'register' || name === 'status') continue;
      byName.set(name, [...(byName.get(name) ?? []), rest.slice(colon + 1)]);
    }
    return [...byName].map(([name, lines]) => ({ name, text: `${lines.join('\n')}\n` }));
  }

  /** Write a control value to an entry: 1 enable, 0 disable, -1 remove. */
  async control(name: string, value: '1' | '0' | '-1'): Promise<void> {
    validateName(name);
    const r = await this.run(['tee', `${IN_CONTAINER}/${name}`], value);
    if (r.exitCode !== 0) throw new ContainerEngineError('engine-refused', `writing ${value} to ${name} failed: ${r.stderr.toString('utf8').trim() || `exit ${r.exitCode}`}`);
  }

  async register(s: string): Promise<void> {
    const r = await this.run(['tee', `${IN_CONTAINER}/register`], s);
    if (r.exitCode !== 0) {
      throw new ContainerEngineError('engine-refused', `the kernel refused the registration: ${r.stderr.toString('utf8').trim() || `exit ${r.exitCode}`}`, 'Check `archway status`: an entry of the same name, or an interpreter the kernel cannot open (F), are the usual causes.');
    }
  }

  /** `stat` and the first bytes of a file, as the engine host sees it. */
  async fileFacts(p: string): Promise<{ uid: number; mode: number; type: string; head: Uint8Array } | undefined> {
    const st = await this.run(['stat', '-L', '-c', '%u %a %F', p]);
    if (st.exitCode !== 0) return undefined;
    const [uid, mode, ...type] = st.stdout.toString('utf8').trim().split(' ');
    const head = await this.run(['head', '-c', '65536', p]);
    return { uid: Number(uid), mode: parseInt(mode ?? '0', 8), type: type.join(' '), head: head.stdout };
  }

  /** The global `status` file: enabled / disabled (undefined when not mounted). */
  async globalEnabled(): Promise<boolean | undefined> {
    const r = await this.run(['cat', `${IN_CONTAINER}/status`]);
    const t = r.stdout.toString('utf8');
    return r.exitCode !== 0 ? undefined : /^enabled/.test(t) ? true : /^disabled/.test(t) ? false : undefined;
  }

  /** Read mode: stat engine-host files (absolute, canonical paths) in one call; missing ones read as absent. */
  async hostFiles(paths: readonly string[]): Promise<Record<string, EngineHostFile>> {
    for (const p of paths) checkPath(p, 'host file');
    const out: Record<string, EngineHostFile> = {};
    for (const p of paths) out[p] = { path: p, exists: false, symlink: false, regular: false, uid: -1, mode: 0, identity: 'absent' };
    if (paths.length === 0) return out;
    const inC = paths.map((p) => `${IN_CONTAINER_HOST}${p}`);
    const parse = (text: string) => {
      const rows = new Map<string, string[]>();
      for (const line of text.split('\n')) {
        const f = line.split('|');
        if (f.length >= 2 && f[0]!.startsWith(IN_CONTAINER_HOST)) rows.set(f[0]!.slice(IN_CONTAINER_HOST.length), f.slice(1));
      }
      return rows;
    };
    const links = parse((await this.run(['stat', '-c', '%n|%F', ...inC])).stdout.toString('utf8'));
    const real = parse((await this.run(['stat', '-L', '-c', '%n|%F|%u|%a|%d:%i:%s:%Y:%Z', ...inC])).stdout.toString('utf8'));
    for (const p of paths) {
      const r = real.get(p);
      if (!r) continue;
      out[p] = { path: p, exists: true, symlink: links.get(p)?.[0] === 'symbolic link', regular: r[0] === 'regular file', uid: Number(r[1]), mode: parseInt(r[2] ?? '0', 8), identity: r[3] ?? '' };
    }
    return out;
  }

  /** Read mode: the first bytes of an engine-host file (following links), or undefined. */
  async hostHead(p: string, bytes = 4096): Promise<Uint8Array | undefined> {
    checkPath(p, 'host file');
    const r = await this.run(['head', '-c', String(bytes), `${IN_CONTAINER_HOST}${p}`]);
    return r.exitCode === 0 ? r.stdout : undefined;
  }

  /** Read mode: the version line a QEMU user emulator prints for --version, found in its bytes (not run). */
  async hostQemuVersionLine(p: string): Promise<string | undefined> {
    checkPath(p, 'host file');
    const r = await this.run(['grep', '-a', '-o', '-m', '1', '-E', 'qemu-[a-z0-9_]{1,20} version [0-9][ -~]{0,80}', `${IN_CONTAINER_HOST}${p}`]);
    return r.exitCode === 0 ? r.stdout.toString('latin1').split('\n')[0] : undefined;
  }

  async close(): Promise<void> {
    await disposeTemp(this.t, this.id);
  }
}

export interface RegisterOptions extends SessionOptions {
  /** Replace an entry of the same name that differs (default: refuse). */
  replace?: boolean;
}

export interface ContainerEngineOutcome {
  cpu: Cpu;
  name: string;
  register: string;
  changed: boolean;
  message: string;
}

function notMounted(): ContainerEngineError {
  return new ContainerEngineError(
    'binfmt-not-mounted',
    'binfmt_misc is not mounted on the engine host: a registration made now would vanish with the container that made it',
    'Mount it once on the host (`sudo mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc`), or enable systemd\'s proc-sys-fs-binfmt_misc.automount.',
  );
}

async function checkEmulatorFile(s: ContainerBinfmtSession, p: PlannedRule, hostMachine: string): Promise<void> {
  const f = await s.fileFacts(p.rule.interpreter);
  if (!f) throw refuse(`${p.hostPath} cannot be read on the engine host`);
  if (f.type !== 'regular file') throw refuse(`${p.hostPath} is a ${f.type}, not a regular file`);
  if (f.uid !== 0 || (f.mode & 0o022) !== 0) {
    throw refuse(
      `${p.hostPath} is owned by uid ${f.uid} with mode ${f.mode.toString(8)}: whoever can change it would run code in every ${p.cpu} program`,
      `chown root:root ${p.hostPath} && chmod go-w ${p.hostPath}`,
    );
  }
  verifyEmulatorBytes(f.head, hostMachine, p.hostPath);
}

function checkLocalFile(hostPath: string): void {
  // When the engine runs on this machine, refuse symlinks like the helper does (the kernel would pin the target).
  try {
    const st = fs.lstatSync(hostPath);
    if (st.isSymbolicLink()) throw refuse(`${hostPath} is a symbolic link: give the real path (${fs.realpathSync(hostPath)})`);
  } catch (err) {
    if (err instanceof ContainerEngineError) throw err;
  }
}

/**
 * Register handlers in the engine host's binfmt_misc through a helper container. Validates every
 * rule before touching anything; an identical existing entry is left alone (changed: false).
 */
export async function registerThroughContainerEngine(t: ContainerTargetWithInfo, rules: readonly ContainerEngineRule[], opts: RegisterOptions = {}): Promise<ContainerEngineOutcome[]> {
  refuseRootless(t);
  const planned = rules.map((r) => planContainerEngineRule(r, t.info.hostMachine));
  if (t.kind === 'unix') for (const p of planned) checkLocalFile(p.hostPath);
  const s = await ContainerBinfmtSession.open(
    t,
    planned.map((p) => ({ hostPath: p.hostPath, target: p.rule.interpreter })),
    opts,
  );
  try {
    if (!(await s.mounted())) throw notMounted();
    for (const p of planned) await checkEmulatorFile(s, p, t.info.hostMachine);
    const out: ContainerEngineOutcome[] = [];
    for (const p of planned) {
      const existing = await s.readEntry(p.name);
      if (existing !== undefined) {
        const cur = parseProcEntry(p.name, existing);
        if (sameRule(cur.rule, p.rule)) {
          if (!cur.enabled) await s.control(p.name, '1');
          out.push({ cpu: p.cpu, name: p.name, register: p.register, changed: !cur.enabled, message: cur.enabled ? `${p.name} is already registered exactly so` : `${p.name} was registered but disabled: enabled it` });
          continue;
        }
        if (!opts.replace) {
          throw new ContainerEngineError(
            'conflict',
            `${p.name} is already registered differently (interpreter ${cur.rule.interpreter}, flags ${cur.rule.flags || 'none'})`,
            'Replace it explicitly (replace: true / --take-over), or remove it first.',
          );
        }
        await s.control(p.name, '-1');
      }
      await s.register(p.register);
      const now = await s.readEntry(p.name);
      if (now === undefined || !sameRule(parseProcEntry(p.name, now).rule, p.rule)) {
        throw new ContainerEngineError('engine-refused', `${p.name} does not read back as written: ${now?.trim() ?? 'no entry'}`);
      }
      out.push({ cpu: p.cpu, name: p.name, register: p.register, changed: true, message: `registered ${p.name} → ${p.rule.interpreter} (flags ${p.rule.flags})` });
    }
    return out;
  } finally {
    await s.close();
  }
}

/** Remove (or disable/enable) entries through the engine. Unknown names are reported, not errors. */
export async function controlThroughContainerEngine(
  t: ContainerTargetWithInfo,
  names: readonly string[],
  value: '1' | '0' | '-1',
  opts: SessionOptions = {},
): Promise<{ name: string; changed: boolean; message: string }[]> {
  refuseRootless(t);
  for (const n of names) validateName(n);
  const s = await ContainerBinfmtSession.open(t, [], opts);
  try {
    if (!(await s.mounted())) throw notMounted();
    const out: { name: string; changed: boolean; message: string }[] = [];
    for (const name of names) {
      if ((await s.readEntry(name)) === undefined) {
        out.push({ name, changed: false, message: `${name} is not registered` });
        continue;
      }
      await s.control(name, value);
      out.push({ name, changed: true, message: `${value === '-1' ? 'removed' : value === '1' ? 'enabled' : 'disabled'} ${name}` });
    }
    return out;
  } finally {
    await s.close();
  }
}

/** The engine host's binfmt_misc entries, as seen through a helper container. */
export async function readThroughContainerEngine(t: ContainerTargetWithInfo, opts: SessionOptions = {}): Promise<{ mounted: boolean; entries: ContainerEngineEntry[] }> {
  const s = await ContainerBinfmtSession.open(t, [], opts);
  try {
    const mounted = await s.mounted();
    return { mounted, entries: mounted ? await s.entries() : [] };
  } finally {
    await s.close();
  }
}
