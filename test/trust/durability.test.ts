/**
 * No data loss when the disk says no, and drift between the record, the persist files and the
 * kernel is repaired or reported. All inside a private binfmt_misc (user + mount namespace), where
 * the test can mount a tiny or read-only filesystem over <ARCHWAY_ROOT>/etc/binfmt.d or
 * <ARCHWAY_ROOT>/var/lib/archway without touching the host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { appendAudit, readAudit } from '../../electron/engine/audit';
import { REPO_ROOT } from '../fixtures/foreign';
import { privateBinfmt, requireBuilt, type PrivateBinfmt } from '../kernel/namespace';
import { consistencyProblems, flushIn, gather, readAuditLines, readRecordFile, recordPath, runHelperIn } from './support';

let ns: PrivateBinfmt;
let base: string;
let n = 0;

beforeAll(async () => {
  requireBuilt(REPO_ROOT);
  ns = await privateBinfmt();
  base = mkdtempSync(join(tmpdir(), 'archway-durable-'));
  chmodSync(base, 0o755);
});

afterAll(async () => {
  await ns?.close();
  if (base) rmSync(base, { recursive: true, force: true });
});

async function freshRoot(): Promise<string> {
  await flushIn(ns);
  const root = join(base, `r${++n}`);
  mkdirSync(join(root, 'etc/binfmt.d'), { recursive: true });
  mkdirSync(join(root, 'var/lib/archway'), { recursive: true });
  return root;
}

async function sh(argv: string[]): Promise<string> {
  const r = await ns.run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
/** A file's text as seen inside the namespace (where the small filesystems are mounted), or null. */
async function readIn(path: string): Promise<string | null> {
  const r = await ns.run(['cat', path]);
  return r.code === 0 ? r.stdout : null;
}
async function lsIn(dir: string): Promise<string[]> {
  const r = await ns.run(['ls', '-A', dir]);
  return r.code === 0 ? r.stdout.split('\n').filter(Boolean).sort() : [];
}

const ok = async (root: string, ops: unknown[]) => {
  const r = await runHelperIn(ns, root, { version: 1, ops });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r;
};

describe('a full or read-only /etc/binfmt.d: a clear error, the old file intact, nothing else changed', () => {
  it('full (a 4 KiB tmpfs): rewriting the persist file fails with ENOSPC; kernel, record and old file unchanged', async () => {
    const root = await freshRoot();
    const dir = join(root, 'etc/binfmt.d');
    await sh(['mount', '-t', 'tmpfs', '-o', 'size=4k,mode=0755', 'archway-full', dir]);
    try {
      await ok(root, [{ op: 'install', arch: 'aarch64', persist: true }]);
      const file = join(dir, 'qemu-aarch64.conf');
      const oldFile = await readIn(file);
      expect(oldFile).toContain(':qemu-aarch64:M::');
      const kernel = await ns.snapshot();
      const record = readFileSync(recordPath(root), 'utf8');

      // New flags: the persist file must be rewritten, and the filesystem has no room for the new copy.
      const r = await runHelperIn(ns, root, { version: 1, ops: [{ op: 'install', arch: 'aarch64', flags: 'F' }] });
      expect(r.code).toBe(2); // refused: nothing changed
      const res = r.json!.results[0]!;
      expect(res.ok).toBe(false);
      expect(res.error?.code).toBe('io-error');
      expect(res.error?.message).toMatch(/could not write .*qemu-aarch64\.conf: the disk is full \(ENOSPC\)/);
      expect(res.error?.hint).toMatch(/Nothing was changed/);
      expect(await readIn(file)).toBe(oldFile);
      expect(await lsIn(dir)).toEqual(['qemu-aarch64.conf']); // no temp file left
      expect(await ns.snapshot()).toEqual(kernel);
      expect(readFileSync(recordPath(root), 'utf8')).toBe(record);
      // A fresh persisted install fails the same way, before the kernel is touched.
      const r2 = await runHelperIn(ns, root, { version: 1, ops: [{ op: 'install', arch: 's390x', persist: true }] });
      expect(r2.json?.results[0]?.error?.message).toMatch(/ENOSPC/);
      expect(await ns.snapshot()).toEqual(kernel);
      expect(consistencyProblems({ ...(await gather(ns, root)), persistFiles: { 'qemu-aarch64.conf': oldFile! } })).toEqual([]);
    } finally {
      await sh(['umount', dir]);
    }
  });

  it('read-only: persist off, uninstall and a persisted install fail with EROFS and change nothing', async () => {
    const root = await freshRoot();
    const dir = join(root, 'etc/binfmt.d');
    await sh(['mount', '-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'archway-ro', dir]);
    try {
      await ok(root, [{ op: 'install', arch: 'aarch64', persist: true }]);
      await sh(['mount', '-o', 'remount,ro', dir]);
      const file = join(dir, 'qemu-aarch64.conf');
      const oldFile = await readIn(file);
      const kernel = await ns.snapshot();
      const record = readFileSync(recordPath(root), 'utf8');
      for (const ops of [[{ op: 'persist', arch: 'aarch64', on: false }], [{ op: 'uninstall', arch: 'aarch64' }], [{ op: 'install', arch: 's390x', persist: true }]]) {
        const r = await runHelperIn(ns, root, { version: 1, ops });
        expect(r.code, JSON.stringify(ops)).toBe(2); // refused: nothing changed
        const e = r.json!.results[0]!.error!;
        expect(e.code).toBe('io-error');
        expect(e.message).toMatch(/the filesystem is read-only \(EROFS\)/);
        expect(await readIn(file)).toBe(oldFile);
        expect(await ns.snapshot(), JSON.stringify(ops)).toEqual(kernel);
        expect(readFileSync(recordPath(root), 'utf8'), JSON.stringify(ops)).toBe(record);
      }
      // The audit log says what was refused.
      const audit = readAuditLines(root).filter((l) => typeof l !== 'string' && !l.ok);
      expect(audit.length).toBeGreaterThanOrEqual(3);
    } finally {
      await sh(['umount', dir]);
    }
  });

  it("a full or read-only state folder (Archway's record) stops every change before it starts", async () => {
    const root = await freshRoot();
    const dir = join(root, 'var/lib/archway');
    // 12 KiB = 3 pages: the lock, the record and its temp copy. Then a filler takes one page.
    await sh(['mount', '-t', 'tmpfs', '-o', 'size=12k,mode=0755', 'archway-state', dir]);
    try {
      await ok(root, [{ op: 'install', arch: 'aarch64' }]);
      await sh([process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(join(dir, 'filler'))}, Buffer.alloc(4096))`]);
      const kernel = await ns.snapshot();
      const record = await readIn(join(dir, 'state.json'));
      const r = await runHelperIn(ns, root, { version: 1, ops: [{ op: 'install', arch: 's390x' }] });
      expect(r.code).toBe(2);
      expect(r.json!.results[0]!.error?.message).toMatch(/could not write .*state\.json: the disk is full \(ENOSPC\)/);
      expect(await ns.snapshot()).toEqual(kernel);
      expect(await readIn(join(dir, 'state.json'))).toBe(record);
      expect(await lsIn(dir)).toEqual(['filler', 'state.json']);

      await sh(['mount', '-o', 'remount,ro', dir]);
      const ro = await runHelperIn(ns, root, { version: 1, ops: [{ op: 'uninstall', arch: 'aarch64' }] });
      expect(ro.code).toBe(2);
      expect(ro.json?.error?.code).toBe('io-error');
      expect(ro.json?.error?.message).toMatch(/read-only \(EROFS\)/);
      expect(await ns.snapshot()).toEqual(kernel);
      expect(await readIn(join(dir, 'state.json'))).toBe(record);
    } finally {
      await sh(['umount', dir]);
    }
  });
});

describe('start-up repairs or reports drift between the record, the persist files and the kernel', () => {
  it('repairs persist files, removes orphans and temp files, reports handlers changed or removed outside Archway', async () => {
    const root = await freshRoot();
    await ok(root, [
      { op: 'install', arch: 'aarch64', persist: true },
      { op: 'install', arch: 's390x', persist: true },
      { op: 'install', arch: 'ppc64le' },
    ]);
    const etc = join(root, 'etc/binfmt.d');
    // Drift of every kind, made by hand:
    unlinkSync(join(etc, 'qemu-aarch64.conf')); // a persist file deleted
    writeFileSync(join(etc, 'qemu-s390x.conf'), readFileSync(join(etc, 'qemu-s390x.conf'), 'utf8').replace(':PF', ':F')); // edited
    writeFileSync(join(etc, 'qemu-mips64el.conf'), `# Managed by Archway: stale\n${readFileSync(join(etc, 'qemu-s390x.conf'), 'utf8').split('\n')[2]!.replaceAll('s390x', 'mips64el')}\n`); // an orphan
    writeFileSync(join(etc, 'users-own.conf'), ':users-own:E::zzz::/bin/true:\n'); // not Archway's: left alone
    writeFileSync(join(root, 'var/lib/archway/.state.json.0123456789ab.tmp'), '{"half":'); // a torn temp file
    await ns.run([process.execPath, '-e', "require('fs').writeFileSync('/proc/sys/fs/binfmt_misc/qemu-ppc64le', '-1')"]); // removed outside Archway

    const r = await ok(root, [{ op: 'mount' }]);
    const repairs = r.json!.repairs ?? [];
    expect(repairs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/removed .*\.state\.json\.0123456789ab\.tmp, left by an interrupted write/),
        expect.stringMatching(/made .*qemu-aarch64\.conf follow Archway's record/),
        expect.stringMatching(/made .*qemu-s390x\.conf follow Archway's record/),
        expect.stringMatching(/removed .*qemu-mips64el\.conf: Archway no longer manages qemu-mips64el/),
        expect.stringMatching(/drift: qemu-ppc64le is in Archway's record but not registered \(archway install ppc64le registers it again/),
      ]),
    );
    expect(readFileSync(join(etc, 'users-own.conf'), 'utf8')).toBe(':users-own:E::zzz::/bin/true:\n');
    expect(existsSync(join(etc, 'qemu-mips64el.conf'))).toBe(false);
    expect(readdirSync(join(root, 'var/lib/archway')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const state = await gather(ns, root);
    expect(consistencyProblems(state)).toEqual(['qemu-ppc64le is in Archway\'s record but not in the kernel']);
    // Each repair is in the audit log.
    const repairsLogged = readAuditLines(root).filter((l) => typeof l !== 'string' && l.op === 'repair');
    expect(repairsLogged.length).toBeGreaterThanOrEqual(3);
    // Installing again closes the drift.
    await ok(root, [{ op: 'install', arch: 'ppc64le' }]);
    expect(consistencyProblems(await gather(ns, root))).toEqual([]);
    expect((await ok(root, [{ op: 'mount' }])).json!.repairs).toBeUndefined();
  });

  it('a damaged record is kept aside for a human, reported, and does not stop the next change', async () => {
    const root = await freshRoot();
    await ok(root, [{ op: 'install', arch: 'aarch64' }]);
    writeFileSync(recordPath(root), '{"version":1,"handlers":{"qemu-aarch64":');
    const r = await ok(root, [{ op: 'install', arch: 's390x' }]);
    expect(r.json!.results[0]!.ok).toBe(true);
    const kept = readdirSync(join(root, 'var/lib/archway')).filter((f) => f.startsWith('state.json.damaged-'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(root, 'var/lib/archway', kept[0]!), 'utf8')).toBe('{"version":1,"handlers":{"qemu-aarch64":');
    expect(Object.keys(readRecordFile(root).handlers)).toEqual(['qemu-s390x']);
  });
});

describe('concurrent helpers and the audit log', () => {
  it('two helper runs at once both land: the state lock serialises them, the record keeps both', async () => {
    const root = await freshRoot();
    const [a, b] = await Promise.all([
      runHelperIn(ns, root, { version: 1, ops: [{ op: 'install', arch: 'aarch64', persist: true }] }),
      runHelperIn(ns, root, { version: 1, ops: [{ op: 'install', arch: 's390x', persist: true }] }),
    ]);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(Object.keys(readRecordFile(root).handlers).sort()).toEqual(['qemu-aarch64', 'qemu-s390x']);
    expect(consistencyProblems(await gather(ns, root))).toEqual([]);
    expect(existsSync(join(root, 'var/lib/archway/lock'))).toBe(false);
  });

  it('a torn last line (a crash mid-append) does not swallow the next entry', () => {
    const file = join(base, 'audit-torn/audit.log');
    const entry = { time: '2026-01-01T00:00:00.000Z', uid: 1000, op: 'install', arch: 'aarch64', ok: true, message: 'first', before: null, after: 'x' };
    appendAudit(file, entry);
    appendFileSync(file, '{"time":"2026-01-01T00:00:01.000Z","uid":1000,"op":"ins'); // torn
    appendAudit(file, { ...entry, message: 'after the crash' });
    expect(readAudit(file).map((e) => e.message)).toEqual(['first', 'after the crash']);
  });

  it('every privileged change is logged with time, caller uid, operation, before and after', async () => {
    const root = await freshRoot();
    await ok(root, [{ op: 'install', arch: 'aarch64', persist: true }]);
    await ok(root, [{ op: 'disable', arch: 'aarch64' }]);
    await ok(root, [{ op: 'persist', arch: 'aarch64', on: false }]);
    await ok(root, [{ op: 'uninstall', arch: 'aarch64' }]);
    const log = readAuditLines(root);
    expect(log.every((l) => typeof l !== 'string')).toBe(true);
    const entries = log as Exclude<(typeof log)[number], string>[];
    expect(entries.map((e) => e.op)).toEqual(['install', 'disable', 'persist', 'uninstall']);
    for (const e of entries) {
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
      expect(e.uid).toBe(0);
      expect(e.ok).toBe(true);
      expect('before' in e && 'after' in e).toBe(true);
    }
    expect(entries[0]!.before).toBeNull();
    expect(entries[0]!.after).toMatch(/^:qemu-aarch64:M::/);
    expect(entries[3]!.before).toMatch(/^:qemu-aarch64:M::/);
    expect(entries[3]!.after).toBeNull();
  });
});
