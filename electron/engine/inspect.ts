/** Read everything status needs — no privileges required — and let shared/status.ts decide. */
import { closeSync, lstatSync, openSync, readSync, readlinkSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseProcEntry } from '../../shared/binfmt/entry';
import { parseElf } from '../../shared/elf';
import { buildStatus, type InterpreterFacts, type RawStatus, type Status } from '../../shared/status';
import type { Cpu } from '../../shared/arch/catalog';
import { isMounted, readEntries, readGlobalStatus } from './binfmtfs';
import { availableEmulators, readStoreManifest } from './emulators';
import { describeReported } from '../../shared/provenance';
import { hostFacts, readHead } from './host';
import { readBinfmtSupport, readBinfmtd, readRecord } from './owners';
import type { ArchwayPaths } from './paths';

export function interpreterFacts(path: string): InterpreterFacts {
  const facts: InterpreterFacts = { path, exists: false };
  let l;
  try {
    l = lstatSync(path);
    if (l.isSymbolicLink()) facts.symlinkTarget = readlinkSync(path);
  } catch {
    return facts;
  }
  try {
    // Not a symlink: lstat already said what stat would (one syscall per interpreter fewer).
    const st = l.isSymbolicLink() ? statSync(path) : l;
    facts.exists = true;
    facts.regular = st.isFile();
    facts.uid = st.uid;
    facts.mode = st.mode;
    if (st.isFile()) facts.elf = parseElf(readHead(path)) ?? null;
  } catch (err) {
    facts.error = (err as Error).message;
  }
  return facts;
}

/** The distribution's QEMU version, from Debian/Ubuntu's package changelog (no process spawned). */
export function distroQemuVersion(): string | undefined {
  try {
    // Only the first line is needed: inflate the first kilobyte, not the whole changelog.
    const fd = openSync('/usr/share/doc/qemu-user-static/changelog.Debian.gz', 'r');
    const head = Buffer.alloc(1024);
    let n: number;
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    const zlib = createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib'); // only when needed
    const text = zlib.gunzipSync(head.subarray(0, n), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, 200).toString('utf8');
    const m = /^qemu \((?:\d+:)?([^)]+)\)/.exec(text);
    return m ? m[1] : undefined;
  } catch {
    return undefined;
  }
}

export function readRawStatus(paths: ArchwayPaths): { raw: RawStatus; problems: string[] } {
  const host = hostFacts();
  const mounted = isMounted(paths.binfmt);
  const entries = mounted ? readEntries(paths.binfmt) : [];
  const interpreters: Record<string, InterpreterFacts> = {};
  for (const e of entries) {
    try {
      const p = parseProcEntry(e.name, e.text).rule.interpreter;
      if (!(p in interpreters)) interpreters[p] = interpreterFacts(p);
    } catch {
      /* reported by buildStatus */
    }
  }
  const { record, problem } = readRecord(paths);
  // Only rules that can matter are parsed: those of registered or recorded names (Archway's own files always).
  const { rules, problems } = readBinfmtd(paths.binfmtdDirs, new Set([...entries.map((e) => e.name), ...Object.keys(record.handlers)]));
  const manifest = readStoreManifest(paths);
  const distro = entries.length ? distroQemuVersion() : undefined;
  const available: RawStatus['available'] = {};
  for (const [cpu, list] of Object.entries(availableEmulators(paths))) {
    available[cpu as Cpu] = list.map((c) => ({
      path: c.path,
      source: c.source,
      ...(c.version ? { version: c.version } : c.source === 'distro' && distro ? { version: distro } : {}),
      ...(c.reported ? { reported: c.reported } : {}),
      ...(c.sha256 ? { sha256: c.sha256 } : {}),
    }));
  }
  return {
    raw: {
      mount: { path: paths.binfmt, mounted },
      globalEnabled: mounted ? readGlobalStatus(paths.binfmt) : null,
      entries,
      interpreters,
      hostMachine: host.machine,
      hostHeader: host.header,
      binfmtd: rules,
      binfmtSupport: readBinfmtSupport(paths.binfmtSupportDir),
      record,
      available,
      emulatorVersions: {
        ...(distro ? { distro } : {}),
        storeDir: paths.storeDir,
        store: Object.fromEntries(Object.entries(manifest).map(([k, m]) => [k, describeReported(m.reported)])),
        storeVersions: Object.fromEntries(Object.entries(manifest).flatMap(([k, m]) => (m.version ? [[k, m.version]] : []))),
      },
    },
    problems: problem ? [...problems, problem] : problems,
  };
}

export function readStatus(paths: ArchwayPaths): Status {
  const { raw, problems } = readRawStatus(paths);
  const status = buildStatus(raw, hostFacts().elf);
  status.warnings.push(...problems);
  return status;
}
