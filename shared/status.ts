/**
 * The status model: from raw facts (entry texts, interpreter stats, owner sources, host) to what a
 * person needs to know — per handler (health, owner, conflicts) and per architecture (native,
 * ready, disabled, missing, broken, conflict). Pure: the engine gathers the facts, this decides.
 */
import { CATALOG, DOCKER_PLATFORMS, nativeCpus, hexToBytes, type Cpu, type NativeInfo } from './arch/catalog';
import { parseProcEntry } from './binfmt/entry';
import { decodeFlags, type FlagInfo } from './binfmt/flags';
import { buildRegister, maskedMagic, parseRegister, sameRule, type MagicRule, type Rule } from './binfmt/register';
import { describeElf, EM_NAMES, type ElfInfo } from './elf';
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
  /** `seq`: registration order, higher is newer (see entryNamesOldestFirst). */
  entries: { name: string; text: string; seq: number }[];
  interpreters: Record<string, InterpreterFacts>;
  /** `uname -m` of the kernel. */
  hostMachine: string;
  /** First bytes of a native executable (the running program), to detect handlers that hijack it. */
  hostHeader: Uint8Array;
  binfmtd: BinfmtdRule[];
  /** Names registered through Debian's binfmt-support (/var/lib/binfmts), with their package. */
  binfmtSupport: { name: string; package?: string }[];
  record: ArchwayRecord;
  /** Emulators that could serve each CPU (for "missing": what install would use). */
  available: Partial<Record<Cpu, AvailableEmulator[]>>;
  /** Where emulators come from: the distro's QEMU version; per store file, its reported provenance sentence. */
  emulatorVersions?: { distro?: string; storeDir?: string; store?: Record<string, string> };
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
}

export type OwnerKind = 'archway' | 'systemd' | 'binfmt-support' | 'wsl' | 'rosetta' | 'docker-binfmt' | 'unknown';

export interface Owner {
  kind: OwnerKind;
  /** Human words: "systemd-binfmt, /usr/lib/binfmt.d/qemu-aarch64.conf". */
  detail: string;
  /** True when attribution is a guess from the shape of the entry. */
  guess?: boolean;
}

export type Level = 'ok' | 'info' | 'warning' | 'error';

export interface Check {
  id: string;
  level: Level;
  message: string;
  /** What to do about it, when something can be done. */
  fix?: string;
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

/** Does an entry's magic/mask select a file whose first bytes are `header`? (what the kernel checks) */
export function ruleMatchesHeader(rule: Rule, header: Uint8Array): boolean {
  if (rule.type !== 'M') return false;
  const magic = hexToBytes(rule.magic);
  const mask = rule.mask === '' ? undefined : hexToBytes(rule.mask);
  for (let i = 0; i < magic.length; i++) {
    const b = header[rule.offset + i] ?? 0;
    const k = mask ? mask[i]! : 0xff;
    if ((b & k) !== (magic[i]! & k)) return false;
  }
  return true;
}

/** Mask and masked magic of each catalog CPU, computed once: what the kernel compares. */
const CATALOG_MATCH = CATALOG.map((c) => ({ cpu: c.cpu, mask: c.mask, masked: maskedMagic(catalogRule(c.cpu, '/x', '')) }));

/** Catalog CPUs whose canonical ELF header (the catalog magic) this rule selects. */
export function cpusForRule(rule: Rule): Cpu[] {
  if (rule.type !== 'M' || rule.offset !== 0) return [];
  const mask = rule.mask === '' ? 'ff'.repeat(rule.magic.length / 2) : rule.mask;
  const masked = maskedMagic(rule);
  const exact = CATALOG_MATCH.filter((c) => c.mask === mask && c.masked === masked);
  if (exact.length > 0) return exact.map((c) => c.cpu);
  return CATALOG.filter((c) => ruleMatchesHeader(rule, c.magicBytes)).map((c) => c.cpu);
}

/** The catalog's rule for a CPU, with a given interpreter and flags. */
export function catalogRule(cpu: Cpu | string, interpreter: string, flags: string): MagicRule {
  const c = CATALOG.find((x) => x.cpu === cpu);
  if (!c) throw new Error(`not a catalog CPU: ${cpu}`);
  return { name: c.handlerName, type: 'M', offset: 0, magic: c.magic, mask: c.mask, interpreter, flags };
}

/** Native executables come as EXEC (2) and DYN/PIE (3): a handler matching either hijacks them. */
function nativeHeaders(host: Uint8Array, hostElf: ElfInfo | undefined): Uint8Array[] {
  if (!hostElf) return [host];
  const le = hostElf.endian === 'little';
  return [2, 3].map((t) => {
    const h = Uint8Array.from(host);
    h[16] = le ? t : 0;
    h[17] = le ? 0 : t;
    return h;
  });
}

function attributeOwner(name: string, rule: Rule, raw: RawStatus): { owner: Owner; persistent: boolean; persistFile?: string; drift?: string } {
  const fileRule = raw.binfmtd.find((b) => b.rule.name === name);
  const persistent = !!fileRule && sameRule(fileRule.rule, rule);
  const persistFile = persistent ? fileRule!.file : undefined;
  const base = { persistent, ...(persistFile ? { persistFile } : {}) };
  if (name.startsWith('WSLInterop')) return { owner: { kind: 'wsl', detail: 'Windows Subsystem for Linux interop' }, ...base };
  if (/rosetta/i.test(name) || /rosetta/i.test(rule.interpreter)) {
    return { owner: { kind: 'rosetta', detail: 'Rosetta for Linux (Apple virtualization)' }, ...base };
  }
  const rec = raw.record.handlers[name];
  if (rec) {
    let drift: string | undefined;
    try {
      if (!sameRule(parseRegister(rec.register), rule)) drift = 'changed outside Archway since Archway installed it';
    } catch {
      drift = 'Archway\'s record of it is unreadable';
    }
    return { owner: { kind: 'archway', detail: `Archway (${rec.source} emulator)` }, ...base, ...(drift ? { drift } : {}) };
  }
  const bs = raw.binfmtSupport.find((b) => b.name === name);
  if (bs) {
    return { owner: { kind: 'binfmt-support', detail: `Debian binfmt-support${bs.package ? `, package ${bs.package}` : ''}` }, ...base };
  }
  if (fileRule && persistent) return { owner: { kind: 'systemd', detail: `systemd-binfmt, ${fileRule.file}` }, ...base };
  if (/^qemu-/.test(name) && rule.type === 'M' && /^\/usr\/bin\/qemu-[a-z0-9_]+$/.test(rule.interpreter) && rule.flags.includes('F')) {
    return {
      owner: { kind: 'docker-binfmt', detail: 'probably `docker run --privileged tonistiigi/binfmt --install`', guess: true },
      ...base,
    };
  }
  if (fileRule) {
    return { owner: { kind: 'unknown', detail: `unknown (${fileRule.file} declares ${name} differently)` }, ...base };
  }
  return { owner: { kind: 'unknown', detail: 'unknown (no binfmt.d file, binfmt-support entry or Archway record)' }, ...base };
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
    if (hostElf && (e.machine !== hostElf.machine || e.class !== hostElf.class)) {
      checks.push({
        id: 'interpreter-machine',
        level: 'error',
        message: `${describeElf(e)}: not a program this host can run (host is ${EM_NAMES[hostElf.machine] ?? hostElf.machine})`,
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
  if (!rule.flags.includes('C')) {
    checks.push({
      id: 'flag-C',
      level: 'info',
      message: 'no C flag: setuid programs (sudo, su, ping) inside foreign containers do not gain privileges ("sudo: effective uid is not 0")',
      fix: 'Reinstall with flags FC if foreign images need sudo.',
    });
  }
  return checks;
}

const DISTRO_EMULATOR = /^\/usr\/(bin\/qemu-[a-z0-9_]+(-static)?|libexec\/qemu-binfmt\/[a-z0-9_]+-binfmt-P)$/;

export function emulatorSource(interpreter: string, raw: Pick<RawStatus, 'emulatorVersions'>): EmulatorSourceInfo {
  const v = raw.emulatorVersions;
  if (v?.storeDir && interpreter.startsWith(`${v.storeDir}/`)) {
    const reported = v.store?.[interpreter.slice(v.storeDir.length + 1)];
    return reported ? { source: 'archway-store', reported } : { source: 'archway-store' };
  }
  if (DISTRO_EMULATOR.test(interpreter)) return v?.distro ? { source: 'distro', version: v.distro } : { source: 'distro' };
  return { source: 'other' };
}

function worst(checks: Check[]): Level {
  const rank: Record<Level, number> = { ok: 0, info: 1, warning: 2, error: 3 };
  return checks.reduce<Level>((w, c) => (rank[c.level] > rank[w] ? c.level : w), 'ok');
}

export function buildStatus(raw: RawStatus, hostElf?: ElfInfo): Status {
  const warnings: string[] = [];
  const native = nativeCpus(raw.hostMachine);
  const natives = nativeHeaders(raw.hostHeader, hostElf);
  const sorted = [...raw.entries].sort((a, b) => a.seq - b.seq);
  const handlers: HandlerStatus[] = [];
  sorted.forEach((e, order) => {
    let parsed;
    try {
      parsed = parseProcEntry(e.name, e.text);
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
    const matchesNative = natives.some((h) => ruleMatchesHeader(rule, h));
    if (matchesNative) {
      checks.push({
        id: 'native-hijack',
        level: 'error',
        message: `matches this host's own ${raw.hostMachine} programs: native programs are sent to ${rule.interpreter}${parsed.enabled ? '' : ' once enabled'}`,
        fix: `Remove it: archway uninstall --force ${e.name}`,
      });
    }
    if (!parsed.enabled) checks.push({ id: 'enabled', level: 'info', message: 'disabled: the kernel ignores it', fix: `archway enable ${cpus[0] ?? e.name}` });
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
      emulator: emulatorSource(rule.interpreter, raw),
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
  const drift: Status['drift'] = [];
  for (const p of raw.record.pending ?? []) {
    drift.push({ name: p.name, kind: 'pending', message: `an ${p.op} of ${p.name} was interrupted (${p.startedAt})`, fix: 'the next change through Archway settles it' });
  }
  for (const [name, h] of Object.entries(raw.record.handlers)) {
    const file = raw.binfmtd.find((b) => b.rule.name === name && b.archway);
    let want: Rule | undefined;
    try {
      want = parseRegister(h.register);
    } catch {
      want = undefined;
    }
    if (h.persist && (!file || !want || !sameRule(file.rule, want))) {
      drift.push({ name, kind: 'persist-file', message: `${name} should come back after reboot, but its boot-time file is missing or differs`, fix: 'the next change through Archway rewrites it' });
    } else if (!h.persist && file) {
      drift.push({ name, kind: 'persist-file', message: `${file.file} keeps ${name} after reboot although Archway's record says it should not`, fix: 'the next change through Archway removes it' });
    }
  }
  for (const b of raw.binfmtd) {
    if (b.archway && !raw.record.handlers[b.rule.name]) {
      drift.push({ name: b.rule.name, kind: 'persist-file', message: `${b.file} was written by Archway for ${b.rule.name}, which Archway no longer manages`, fix: 'the next change through Archway removes it' });
    }
  }
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
