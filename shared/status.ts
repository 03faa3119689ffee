/**
 * The status model: from raw facts (entry texts, interpreter stats, owner sources, host) to what a
 * person needs to know — per handler (health, owner, conflicts) and per architecture (native,
 * ready, disabled, missing, broken, conflict). Pure: the engine gathers the facts, this decides.
 */
import { CATALOG, DOCKER_PLATFORMS, nativeCpus, type Cpu, type NativeInfo } from './arch/catalog';
import { catalogRule, cpusForRule, hasSetuidRisk, hijacksHost, hostHeaders, ruleMatchesHeader } from './plan/rules';
import { attributeOwner } from './plan/owner';
import { recordDrift } from './plan/drift';
import { installReadiness, type InstallReadiness } from './plan/install';
import type { HostSnapshot } from './plan/snapshot';

// The planner's single definitions, re-exported where they were first written.
export { catalogRule, cpusForRule, hostHeaders, ruleMatchesHeader };
import { parseProcEntry } from './binfmt/entry';
import { decodeFlags, SETUID_RISK, SETUID_RISK_MARKER, type FlagInfo, type Risk } from './binfmt/flags';
import type { FixIntent, UseEmulator } from './actions';
import { intentCommand } from './intent-command';
import { knownRegressions } from './qemu-regressions';
import { buildRegister, maskedMagic, parseRegister, sameRule, type MagicRule, type Rule } from './binfmt/register';
import { describeElf, describeHostProgramProblem, EM_NAMES, hostProgramProblem, type ElfInfo } from './elf';
import type { ArchwayRecord } from './record';

export interface InterpreterFacts {
  path: string;
  /** stat() (following symlinks) succeeded. */
  exists: boolean;
  symlinkTarget?: string;
  regular?: boolean;
  uid?: number;
  mode?: number;
  /** undefined: not read; null: not an ELF file. */
  elf?: ElfInfo | null;
  error?: string;
}

export interface BinfmtdRule {
  /** The file that is in effect for its basename (systemd's /etc > /run > /usr/local/lib > /usr/lib). */
  file: string;
  rule: Rule;
  /** Written by Archway (its header comment is present). */
  archway: boolean;
}

export interface RawStatus {
  mount: { path: string; mounted: boolean };
  /** The global status file: enabled / disabled; null when not mounted. */
  globalEnabled: boolean | null;
  /**
   * `seq`: registration order, higher is newer (see entryNamesOldestFirst). `parsed`: the entry as
   * the snapshot already parsed it (rawStatusOf), so it is not parsed twice; else it is parsed here.
   */
  entries: { name: string; text: string; seq: number; parsed?: { rule: Rule; enabled: boolean } }[];
  interpreters: Record<string, InterpreterFacts>;
  /** `uname -m` of the kernel. */
  hostMachine: string;
  /** First bytes of a native executable (the running program), to detect handlers that hijack it. */
  hostHeader: Uint8Array;
  binfmtd: BinfmtdRule[];
  /** Names registered through Debian's binfmt-support (/var/lib/binfmts), with their package. */
  binfmtSupport: { name: string; package?: string }[];
  record: ArchwayRecord;
  /** Emulators present for each CPU (the distribution's, Archway's store): where they come from. */
  available: Partial<Record<Cpu, AvailableEmulator[]>>;
  /** What `archway install <cpu>` would do here, per CPU: the planner's own answer (installReadiness). */
  install?: Partial<Record<Cpu, InstallReadiness>>;
  /** Where emulators come from: the distro's QEMU version; per store file, its reported provenance sentence. */
  emulatorVersions?: {
    distro?: string;
    storeDir?: string;
    /** Per store file (`<sha256>/qemu-<cpu>`): its reported provenance sentence. */
    store?: Record<string, string>;
    /** Per store file: the version string its bytes carry (read by the helper when it stored them). */
    storeVersions?: Record<string, string>;
  };
}

/** An emulator install could use: the distro's (with its package version) or a store entry (with its reported provenance). */
export interface AvailableEmulator {
  path: string;
  source: 'distro' | 'store';
  version?: string;
  reported?: string;
  sha256?: string;
}

export interface EmulatorSourceInfo {
  source: 'archway-store' | 'distro' | 'other';
  /** The distribution's QEMU version (from its package). */
  version?: string;
  /** A store entry: what its extractor reported, never verified ("reported: from IMAGE@DIGEST, QEMU x.y"). */
  reported?: string;
  /**
   * The QEMU version this handler runs, in one field for every face: the distribution's package
   * version, or the version string a store entry's bytes carry. Absent when neither is known.
   */
  qemuVersion?: string;
  /** A store entry's sha256 (its path names it too). */
  sha256?: string;
  /** Archway's handler after `emulators use`: the emulator it ran before the last switch (*Use previous*). */
  usedBefore?: string;
}

export type { Owner, OwnerKind } from './plan/owner';
import type { Owner } from './plan/owner';

export type Level = 'ok' | 'info' | 'warning' | 'error';

export interface Check {
  id: string;
  level: Level;
  message: string;
  /** What to do about it, in words (for a command: intentCommand(intent), the one place it is built). */
  fix?: string;
  /** The fix as a typed intent, when one operation carries it out: faces run this, never parse `fix`. */
  intent?: FixIntent;
  /** The typed risk this check reports (e.g. setuid-credentials for an enabled handler with C). */
  risk?: Risk;
}

export interface HandlerStatus {
  name: string;
  enabled: boolean;
  rule: Rule;
  /** The rule as a register string (what `archway install --dry-run` would print). */
  register: string;
  flags: FlagInfo[];
  cpus: Cpu[];
  interpreter: InterpreterFacts | undefined;
  /** Where the emulator comes from (Archway's store, the distribution, elsewhere) and its version. */
  emulator: EmulatorSourceInfo;
  health: Level;
  checks: Check[];
  owner: Owner;
  /** Re-registered at boot by systemd-binfmt or binfmt-support with the same rule. */
  persistent: boolean;
  persistFile?: string;
  /** 0 = registered first. Newest (highest) wins when several match a file (the kernel's own order). */
  order: number;
  matchesNative: boolean;
  raw: string;
}

export type ArchState = 'native' | 'ready' | 'disabled' | 'missing' | 'broken' | 'conflict';

export interface ArchStatus {
  cpu: Cpu;
  handlerName: string;
  platforms: string[];
  native: NativeInfo['native'] | null;
  nativeWhy?: string;
  state: ArchState;
  /** Why the state is what it is, in one sentence. */
  summary: string;
  /** Enabled handler that wins for this CPU (the newest registered). */
  winner?: string;
  handlers: string[];
  available: AvailableEmulator[];
  /**
   * What `archway install <cpu>` would do, decided by the planner (planInstall) on the same
   * snapshot: the emulator and flags it would register ("can use …"), or why it would refuse.
   * Absent for what the host runs natively.
   */
  install?: InstallReadiness;
}

export interface Status {
  mount: RawStatus['mount'];
  globalEnabled: boolean | null;
  hostMachine: string;
  native: NativeInfo[];
  handlers: HandlerStatus[];
  archs: ArchStatus[];
  /** tonistiigi/binfmt compatible: Docker platforms that run here (native or through a ready handler). */
  supported: string[];
  /** tonistiigi/binfmt compatible: names of enabled entries. */
  emulators: string[];
  /**
   * Handlers Archway installed that are no longer in the kernel: a reboot without persistence, or
   * systemd-binfmt restarting (it flushes every entry). `archway install <cpu>` puts each back as it was.
   */
  vanished: { name: string; cpu: string; register: string; persist: boolean }[];
  /** Where Archway's record, its boot-time files and the kernel disagree (the helper repairs these on its next run). */
  drift: { name: string; kind: 'pending' | 'persist-file'; message: string; fix: string }[];
  warnings: string[];
}


function interpreterChecks(rule: Rule, facts: InterpreterFacts | undefined, isEmulator: boolean, hostElf: ElfInfo | undefined): Check[] {
  const checks: Check[] = [];
  const hasF = rule.flags.includes('F');
  if (!facts || !facts.exists) {
    if (hasF) {
      checks.push({
        id: 'interpreter-exists',
        level: 'info',
        message: `pinned, file gone — still works: ${rule.interpreter} was deleted, but the kernel opened it at registration (F) and keeps it`,
        fix: 'Re-registering will need the file again; reinstall the emulator before uninstalling.',
      });
    } else {
      checks.push({
        id: 'interpreter-exists',
        level: 'error',
        message: `${rule.interpreter} does not exist: every program this handler matches fails`,
        fix: 'Install an emulator (e.g. `apt-get install qemu-user-static`) and reinstall this handler.',
      });
    }
    return checks;
  }
  checks.push({ id: 'interpreter-exists', level: 'ok', message: `${rule.interpreter} exists` });
  if (facts.uid !== undefined && facts.mode !== undefined) {
    const unsafe = facts.uid !== 0 || (facts.mode & 0o022) !== 0;
    checks.push(
      unsafe
        ? {
            id: 'interpreter-owner',
            level: 'warning',
            message: `${rule.interpreter} is owned by uid ${facts.uid} with mode ${(facts.mode & 0o7777).toString(8)}: whoever can write it runs code in every program it handles`,
            fix: `chown root:root ${rule.interpreter} && chmod go-w ${rule.interpreter}`,
          }
        : { id: 'interpreter-owner', level: 'ok', message: `owned by root, mode ${(facts.mode & 0o7777).toString(8)}` },
    );
  }
  if (!isEmulator) return checks;
  if (facts.elf === null) {
    checks.push({ id: 'interpreter-elf', level: 'error', message: `${rule.interpreter} is not an ELF program`, fix: 'Point the handler at a QEMU user-mode emulator.' });
    return checks;
  }
  if (facts.elf) {
    const e = facts.elf;
    // One decision (shared/elf.ts): machine, class, byte order and type; static-ness is its own check below.
    const problem = hostElf ? hostProgramProblem(e, hostElf, { allowDynamic: true }) : undefined;
    if (problem) {
      checks.push({
        id: 'interpreter-machine',
        level: 'error',
        message: `${describeHostProgramProblem(rule.interpreter, problem)} (this host runs ${EM_NAMES[hostElf!.machine] ?? hostElf!.machine} programs)`,
        fix: 'Install the emulator built for this host.',
      });
    } else {
      checks.push({ id: 'interpreter-machine', level: 'ok', message: describeElf(e) });
    }
    checks.push(
      e.dynamic
        ? {
            id: 'interpreter-static',
            level: 'warning',
            message: `dynamically linked: works on the host, but inside a container with a foreign root filesystem its loader${e.interp ? ` ${e.interp}` : ''} and libraries are looked up in that filesystem and it fails (with or without F)`,
            fix: 'Use a statically linked emulator (Debian/Ubuntu: qemu-user-static).',
          }
        : { id: 'interpreter-static', level: 'ok', message: 'statically linked: runs inside any container' },
    );
  }
  if (!hasF) {
    checks.push({
      id: 'flag-F',
      level: 'warning',
      message: 'no F flag: the emulator path is looked up inside each container when a program starts, so foreign containers fail ("exec format error" or "no such file")',
      fix: 'Reinstall with F (Archway\'s default).',
    });
  }
  return checks;
}

export const DISTRO_EMULATOR = /^\/usr\/(bin\/qemu-[a-z0-9_]+(-static)?|libexec\/qemu-binfmt\/[a-z0-9_]+-binfmt-P)$/;

export function emulatorSource(interpreter: string, raw: Pick<RawStatus, 'emulatorVersions'>): EmulatorSourceInfo {
  const v = raw.emulatorVersions;
  if (v?.storeDir && interpreter.startsWith(`${v.storeDir}/`)) {
    const rel = interpreter.slice(v.storeDir.length + 1);
    const reported = v.store?.[rel];
    const version = v.storeVersions?.[rel];
    const sha256 = /^([0-9a-f]{64})\//.exec(rel)?.[1];
    return { source: 'archway-store', ...(reported ? { reported } : {}), ...(version ? { qemuVersion: version } : {}), ...(sha256 ? { sha256 } : {}) };
  }
  if (DISTRO_EMULATOR.test(interpreter)) return v?.distro ? { source: 'distro', version: v.distro, qemuVersion: v.distro } : { source: 'distro' };
  return { source: 'other' };
}

/**
 * A handler whose QEMU version is on Archway's known-regressions list (shared/qemu-regressions.ts):
 * a warning naming each report, and — when an emulator without a listed regression is at hand (a
 * store entry, or the distribution's) — a typed `use` intent that switches to it. Only Archway's
 * handlers get the intent (`use` refuses another tool's; the words say how to take it over).
 */
export function regressionCheck(cpu: Cpu, emulator: EmulatorSourceInfo, available: readonly AvailableEmulator[], raw: Pick<RawStatus, 'emulatorVersions'>, archwayOwned: boolean): Check | undefined {
  const found = knownRegressions(emulator.qemuVersion, cpu);
  if (!found.length) return undefined;
  const ok = (version: string | undefined) => version !== undefined && knownRegressions(version, cpu).length === 0;
  const store = available.find((a) => a.source === 'store' && a.sha256 && a.sha256 !== emulator.sha256 && ok(a.version));
  const distro = emulator.source !== 'distro' && available.some((a) => a.source === 'distro') && ok(raw.emulatorVersions?.distro);
  const target: UseEmulator | undefined = store ? { sha256: store.sha256! } : distro ? 'distro' : undefined;
  const intent: FixIntent | undefined = target && archwayOwned ? { action: 'use', archs: [cpu], emulator: target } : undefined;
  const reports = `${found[0]!.summary}; reported in ${found.map((r) => r.url).join(', ')}`;
  const instead = store ? `QEMU ${store.version} (stored, sha256 ${store.sha256!.slice(0, 12)}…)` : distro ? `the distribution's QEMU ${raw.emulatorVersions!.distro}` : undefined;
  return {
    id: 'qemu-regression',
    level: 'warning',
    message: `QEMU ${emulator.qemuVersion} is on Archway's list of versions with known regressions: ${reports}`,
    fix: intent
      ? `Switch to ${instead}: ${intentCommand(intent)}`
      : target
        ? `Take the handler over (archway install ${cpu} --take-over), then switch to ${instead}: ${intentCommand({ action: 'use', archs: [cpu], emulator: target })}`
        : `Add another version (archway emulators fetch ${cpu} --image REPO:TAG@sha256:…, or archway emulators import FILE), then: archway emulators use ${cpu} VERSION`,
    ...(intent ? { intent } : {}),
  };
}

/** An enabled handler with C, whoever installed it: the risk, and Drop C as a typed fix. */
export function setuidRiskCheck(cpu: Cpu): Check {
  const intent: FixIntent = { action: 'drop-c', archs: [cpu] };
  return {
    id: 'setuid-risk',
    level: 'warning',
    message: `flag C: ${SETUID_RISK}`,
    fix: intentCommand(intent),
    intent,
    risk: SETUID_RISK_MARKER,
  };
}

function worst(checks: Check[]): Level {
  const rank: Record<Level, number> = { ok: 0, info: 1, warning: 2, error: 3 };
  return checks.reduce<Level>((w, c) => (rank[c.level] > rank[w] ? c.level : w), 'ok');
}

export function buildStatus(raw: RawStatus, hostElf?: ElfInfo): Status {
  const warnings: string[] = [];
  const native = nativeCpus(raw.hostMachine);
  const host = { header: raw.hostHeader, elf: hostElf };
  const sorted = [...raw.entries].sort((a, b) => a.seq - b.seq);
  const handlers: HandlerStatus[] = [];
  sorted.forEach((e, order) => {
    let parsed;
    try {
      parsed = e.parsed ?? parseProcEntry(e.name, e.text);
    } catch (err) {
      warnings.push(`could not read binfmt_misc entry ${e.name}: ${(err as Error).message}`);
      return;
    }
    const rule = parsed.rule;
    const cpus = cpusForRule(rule);
    const facts = raw.interpreters[rule.interpreter];
    const { owner, persistent, persistFile, drift } = attributeOwner(e.name, rule, raw);
    const checks = interpreterChecks(rule, facts, cpus.length > 0, hostElf);
    if (drift) checks.push({ id: 'record-drift', level: 'warning', message: `${e.name} was ${drift}`, fix: 'Reinstall it with Archway, or uninstall it.' });
    const matchesNative = hijacksHost(rule, host);
    if (matchesNative) {
      checks.push({
        id: 'native-hijack',
        level: 'error',
        message: `matches this host's own ${raw.hostMachine} programs: native programs are sent to ${rule.interpreter}${parsed.enabled ? '' : ' once enabled'}`,
        fix: `Remove it: archway uninstall --force ${e.name}`,
      });
    }
    if (parsed.enabled && hasSetuidRisk(rule) && cpus.length > 0) checks.push(setuidRiskCheck(cpus[0]!));
    const usedBefore = owner.kind === 'archway' ? raw.record.handlers[e.name]?.usedBefore : undefined;
    const emulator = { ...emulatorSource(rule.interpreter, raw), ...(usedBefore ? { usedBefore } : {}) };
    const regression = cpus[0] ? regressionCheck(cpus[0], emulator, raw.available[cpus[0]] ?? [], raw, owner.kind === 'archway') : undefined;
    if (regression) checks.push(regression);
    if (!parsed.enabled) {
      const intent: FixIntent | undefined = cpus[0] ? { action: 'enable', archs: [cpus[0]] } : undefined;
      checks.push({ id: 'enabled', level: 'info', message: 'disabled: the kernel ignores it', fix: intent ? intentCommand(intent) : `archway enable ${e.name}`, ...(intent ? { intent } : {}) });
    }
    let register = '';
    try {
      register = buildRegister(rule);
    } catch {
      register = '';
    }
    handlers.push({
      name: e.name,
      enabled: parsed.enabled,
      rule,
      register,
      flags: decodeFlags(rule.flags),
      cpus,
      interpreter: facts,
      emulator,
      health: worst(checks),
      checks,
      owner,
      persistent,
      ...(persistFile ? { persistFile } : {}),
      order,
      matchesNative,
      raw: e.text,
    });
  });

  const archs: ArchStatus[] = CATALOG.map((c) => {
    const nat = native.find((n) => n.cpu === c.cpu);
    const matching = handlers.filter((h) => h.cpus.includes(c.cpu));
    const enabled = matching.filter((h) => h.enabled);
    const winner = enabled.length > 0 ? enabled.reduce((a, b) => (b.order > a.order ? b : a)) : undefined;
    let state: ArchState;
    let summary: string;
    if (nat?.native === 'yes') {
      state = enabled.length > 0 ? 'conflict' : 'native';
      summary = enabled.length > 0
        ? `runs natively, yet ${enabled.map((h) => h.name).join(', ')} sends its programs to an emulator`
        : `runs natively (${nat.why})`;
    } else if (enabled.length > 1) {
      state = 'conflict';
      summary = `${enabled.length} enabled handlers match ${c.cpu}: ${winner!.name} wins (registered last); ${enabled.filter((h) => h !== winner).map((h) => h.name).join(', ')} ${enabled.length > 2 ? 'are' : 'is'} shadowed`;
    } else if (winner) {
      state = winner.health === 'error' ? 'broken' : 'ready';
      summary = state === 'broken'
        ? `${winner.name} is registered but broken: ${winner.checks.find((k) => k.level === 'error')?.message ?? ''}`
        : `${winner.name} runs ${c.cpu} programs with ${winner.rule.interpreter}`;
    } else if (matching.length > 0) {
      state = 'disabled';
      summary = `${matching.map((h) => h.name).join(', ')} ${matching.length > 1 ? 'are' : 'is'} registered but disabled`;
    } else {
      state = 'missing';
      summary = nat?.native === 'maybe' ? `no handler; may run natively (${nat.why})` : `no handler: ${c.cpu} programs fail with "exec format error"`;
    }
    return {
      cpu: c.cpu,
      handlerName: c.handlerName,
      platforms: c.platforms.map((p) => p.platform),
      native: nat?.native ?? null,
      ...(nat ? { nativeWhy: nat.why } : {}),
      state,
      summary,
      ...(winner ? { winner: winner.name } : {}),
      handlers: matching.map((h) => h.name),
      available: raw.available[c.cpu] ?? [],
      ...(raw.install?.[c.cpu] ? { install: raw.install[c.cpu] } : {}),
    };
  });

  const runs = (cpu: Cpu) => {
    const a = archs.find((x) => x.cpu === cpu);
    return !!a && (a.native === 'yes' || a.state === 'ready' || a.state === 'conflict');
  };
  const supported = DOCKER_PLATFORMS.filter((p) => runs(p.cpu)).map((p) => p.platform);
  const present = new Set(raw.entries.map((e) => e.name));
  const vanished = Object.entries(raw.record.handlers)
    .filter(([name]) => !present.has(name))
    .map(([name, h]) => ({ name, cpu: h.cpu, register: h.register, persist: h.persist }));
  if (vanished.length) {
    warnings.push(
      `${vanished.map((v) => v.name).join(', ')} ${vanished.length > 1 ? 'were' : 'was'} installed by Archway but ${vanished.length > 1 ? 'are' : 'is'} gone from the kernel (a reboot, or systemd-binfmt flushing every entry). Put back: archway install ${vanished.map((v) => v.cpu).join(' ')}`,
    );
  }
  // Vanished handlers and rules changed outside Archway are shown above (vanished, record-drift).
  const drift: Status['drift'] = recordDrift({
    record: raw.record,
    binfmtd: raw.binfmtd,
    kernel: new Map(handlers.map((h) => [h.name, h.rule])),
    binfmtPath: raw.mount.path,
  }).filter((d): d is Status['drift'][number] => d.kind === 'pending' || d.kind === 'persist-file');
  for (const d of drift) warnings.push(`${d.message} — ${d.fix}`);
  if (!raw.mount.mounted) warnings.push(`binfmt_misc is not mounted at ${raw.mount.path}: no foreign programs can run. Archway mounts it when you install a handler.`);
  if (raw.globalEnabled === false) warnings.push('binfmt_misc is globally disabled (status = disabled): no handler is used.');
  return {
    mount: raw.mount,
    globalEnabled: raw.globalEnabled,
    hostMachine: raw.hostMachine,
    native,
    handlers,
    archs,
    supported,
    emulators: handlers.filter((h) => h.enabled).map((h) => h.name),
    vanished,
    drift,
    warnings,
  };
}

/**
 * The status facts of a snapshot read with its status facts (electron/core/snapshot.ts
 * readHostSnapshot with `status: true`): the same reading the planner decides from, and per CPU
 * the planner's own answer to "what would install do" (installReadiness).
 */
export function rawStatusOf(s: HostSnapshot): RawStatus {
  const f = s.status;
  if (!f) throw new Error('this snapshot was read without its status facts (readHostSnapshot with status: true)');
  const available: RawStatus['available'] = {};
  const install: NonNullable<RawStatus['install']> = {};
  for (const cpu of Object.keys(s.candidates) as Cpu[]) {
    const present = (s.candidates[cpu] ?? [])
      .filter((c) => c.exists)
      .map((c) => {
        const version = c.version ?? (c.source === 'distro' ? f.emulatorVersions.distro : undefined);
        return { path: c.path, source: c.source, ...(version ? { version } : {}), ...(c.reported ? { reported: c.reported } : {}), ...(c.sha256 ? { sha256: c.sha256 } : {}) };
      });
    if (present.length) available[cpu] = present;
    install[cpu] = installReadiness(s, cpu);
  }
  return {
    mount: { path: s.binfmtPath, mounted: s.mounted },
    globalEnabled: f.globalEnabled,
    entries: f.texts.map((e) => {
      const p = s.entries.get(e.name);
      return p ? { ...e, parsed: { rule: p.rule, enabled: p.enabled } } : e;
    }),
    interpreters: { ...f.files },
    hostMachine: s.host.machine,
    hostHeader: s.host.header,
    binfmtd: [...s.binfmtd],
    binfmtSupport: [...s.binfmtSupport],
    record: s.record,
    available,
    install,
    emulatorVersions: f.emulatorVersions,
  };
}

/** The whole status from one snapshot: buildStatus over rawStatusOf, plus what could not be read. */
export function statusOf(s: HostSnapshot): Status {
  const status = buildStatus(rawStatusOf(s), s.host.elf);
  status.warnings.push(...(s.status?.problems ?? []), ...(s.recordProblem ? [s.recordProblem] : []));
  return status;
}

/**
 * What Archway knows of the host's handler for a platform's CPU, to sharpen a probe's or a shell's
 * diagnosis. Nothing for a rootless engine: its containers may not see the host's table (a private
 * binfmt_misc instance hides it all), so the host's state says nothing about them.
 */
export function handlerStateFor(status: Status, cpu: string, engine?: { rootless?: boolean }): 'ready' | 'disabled' | 'missing' | undefined {
  if (engine?.rootless) return undefined;
  const a = status.archs.find((x) => x.cpu === cpu);
  if (!a) return undefined;
  if (a.state === 'ready' || a.state === 'conflict' || a.state === 'broken') return 'ready';
  if (a.state === 'disabled') return 'disabled';
  if (a.state === 'missing') return 'missing';
  return undefined;
}
