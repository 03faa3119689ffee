// Snapshot and restore the host's binfmt_misc around tests that change it: every entry (as its
// register string, with its enabled flag, in registration order), the global status, and whether
// binfmt_misc was mounted at all. Holds a cross-process lock from snapshot to restore so two test
// runs never fight over the host's handlers.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { catalogEntry } from '../../shared/arch/catalog';
import { parseProcEntry } from '../../shared/binfmt/entry';
import { buildRegister } from '../../shared/binfmt/register';
import { catalogRule } from '../../shared/status';
import { entryNamesOldestFirst } from '../../electron/engine/binfmtfs';
import { pidAlive } from '../support/node';

const execFileP = promisify(execFile);

export const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';
/** Other suites that touch the host's binfmt_misc should take this lock too. */
export const BINFMT_LOCK = '/run/lock/archway-host-binfmt.lock';

export interface SnapshotEntry {
  name: string;
  enabled: boolean;
  register: string;
  seq: number;
}

export interface BinfmtSnapshot {
  mountedByUs: boolean;
  globalEnabled: boolean;
  entries: SnapshotEntry[];
  /** Put back exactly the state seen at snapshot time, then release the lock. */
  restore(): Promise<void>;
}

export function isMounted(dir = BINFMT_DIR): boolean {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => {
      const [left, right] = l.split(' - ');
      return left?.split(' ')[4] === dir && right?.split(' ')[0] === 'binfmt_misc';
    });
}

export async function mountBinfmt(dir = BINFMT_DIR): Promise<void> {
  await execFileP('mount', ['-t', 'binfmt_misc', 'binfmt_misc', dir]);
}

export async function unmountBinfmt(dir = BINFMT_DIR): Promise<void> {
  await execFileP('umount', [dir]);
}


async function lock(timeoutMs = 10 * 60_000): Promise<void> {
  fs.mkdirSync(path.dirname(BINFMT_LOCK), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(BINFMT_LOCK, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number.parseInt(fs.readFileSync(BINFMT_LOCK, 'utf8'), 10);
      if (owner === process.pid) throw new Error(`${BINFMT_LOCK} is already held by this process: nested snapshots are a test bug`);
      if (!Number.isInteger(owner) || !pidAlive(owner)) {
        fs.rmSync(BINFMT_LOCK, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${BINFMT_LOCK} (held by pid ${owner})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function unlock(): void {
  try {
    if (Number.parseInt(fs.readFileSync(BINFMT_LOCK, 'utf8'), 10) === process.pid) fs.rmSync(BINFMT_LOCK, { force: true });
  } catch {
    // already gone
  }
}

export function readEntries(dir = BINFMT_DIR): SnapshotEntry[] {
  const out: SnapshotEntry[] = [];
  // Oldest first, as the kernel orders them (restore re-registers in this order).
  entryNamesOldestFirst(dir).forEach((name, seq) => {
    const file = path.join(dir, name);
    try {
      const parsed = parseProcEntry(name, fs.readFileSync(file, 'utf8'));
      out.push({ name, enabled: parsed.enabled, register: buildRegister(parsed.rule), seq });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
  });
  return out;
}

function write(file: string, data: string): void {
  // One write() call: binfmt_misc takes each write as a whole command.
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}

export function control(name: string, value: '1' | '0' | '-1', dir = BINFMT_DIR): void {
  write(path.join(dir, name), value);
}

export function registerString(register: string, dir = BINFMT_DIR): void {
  write(path.join(dir, 'register'), register);
}

export function entryExists(name: string, dir = BINFMT_DIR): boolean {
  return fs.existsSync(path.join(dir, name));
}

/** Debian's static emulator for a catalog CPU. */
export function debianEmulator(cpu: string): string {
  const e = catalogEntry(cpu);
  if (!e) throw new Error(`not a catalog CPU: ${cpu}`);
  return `/usr/bin/${e.emulator}-static`;
}

/**
 * Can this entry be put back exactly after it is removed? Only when its interpreter file still
 * exists: with F the kernel pins the file it opened at registration, so a handler whose emulator was
 * deleted since (tonistiigi/binfmt-style installs often are) keeps working but cannot be registered
 * again. Tests never remove such a handler.
 */
export function restorable(register: string): boolean {
  const interpreter = register.split(':')[6] ?? '';
  return interpreter.startsWith('/') && fs.existsSync(interpreter);
}

/**
 * Make the host's qemu-<cpu> handler exactly the catalog rule with Debian's static emulator (flags
 * F by default), replacing whatever entry of that name is there. An entry that could not be put back
 * (its pinned emulator file is gone) is never replaced: when the caller only needs a working handler
 * for the CPU (no interpreter or flags asked for) and that entry pins its emulator (F), it is kept and
 * enabled; otherwise this throws, and nothing is changed.
 */
export function setHandler(cpu: string, opts: { flags?: string; interpreter?: string; enabled?: boolean } = {}): string {
  const rule = catalogRule(cpu, opts.interpreter ?? debianEmulator(cpu), opts.flags ?? 'F');
  const reg = buildRegister(rule);
  const current = readEntries().find((e) => e.name === rule.name);
  if (current && current.register !== reg && !restorable(current.register)) {
    const pinned = (current.register.split(':')[7] ?? '').includes('F');
    if (opts.interpreter === undefined && opts.flags === undefined && pinned) {
      control(rule.name, opts.enabled === false ? '0' : '1');
      return current.register;
    }
    throw new Error(`${rule.name} pins an emulator file that no longer exists (${current.register.split(':')[6]}): it could not be registered again, so this test leaves it alone`);
  }
  if (!current || current.register !== reg) {
    if (current) control(rule.name, '-1');
    registerString(reg);
  }
  control(rule.name, opts.enabled === false ? '0' : '1');
  return reg;
}

/**
 * Take the host-binfmt lock without a snapshot (for suites that snapshot and restore the table
 * their own way, e.g. through pkexec): resolves to the release function.
 */
export async function lockHostBinfmt(): Promise<() => void> {
  if (process.getuid?.() !== 0) throw new Error('changing the host binfmt_misc needs root');
  await lock();
  return unlock;
}

/** Remove a handler for the test's run (the snapshot puts it back); never one that could not be put back. */
export function removeHandler(name: string): void {
  const current = readEntries().find((e) => e.name === name);
  if (!current) return;
  if (!restorable(current.register)) {
    throw new Error(`${name} pins an emulator file that no longer exists (${current.register.split(':')[6]}): it could not be registered again, so this test leaves it alone`);
  }
  control(name, '-1');
}

export async function snapshotBinfmt(): Promise<BinfmtSnapshot> {
  if (process.getuid?.() !== 0) throw new Error('changing the host binfmt_misc needs root');
  await lock();
  try {
    const mountedByUs = !isMounted();
    if (mountedByUs) await mountBinfmt();
    const globalEnabled = fs.readFileSync(path.join(BINFMT_DIR, 'status'), 'utf8').trim() === 'enabled';
    const entries = readEntries();
    let restored = false;
    return {
      mountedByUs,
      globalEnabled,
      entries,
      restore: async () => {
        if (restored) return;
        restored = true;
        try {
          if (!isMounted()) await mountBinfmt();
          const now = readEntries();
          const want = new Map(entries.map((e) => [e.name, e]));
          for (const e of now) {
            if (want.get(e.name)?.register !== e.register) control(e.name, '-1');
          }
          const present = new Set(readEntries().map((e) => e.name));
          const problems: string[] = [];
          for (const e of entries) {
            if (present.has(e.name)) continue;
            try {
              registerString(e.register);
            } catch (err) {
              problems.push(`${e.name}: ${(err as Error).message}`);
            }
          }
          for (const e of entries) if (entryExists(e.name)) control(e.name, e.enabled ? '1' : '0');
          write(path.join(BINFMT_DIR, 'status'), globalEnabled ? '1' : '0');
          if (mountedByUs) await unmountBinfmt();
          if (problems.length > 0) throw new Error(`binfmt_misc could not be fully restored:\n${problems.join('\n')}`);
        } finally {
          unlock();
        }
      },
    };
  } catch (e) {
    unlock();
    throw e;
  }
}
