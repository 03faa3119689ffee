// Watch: notice handlers vanishing from the host (a flush, as systemd-binfmt does on restart) and
// put them back in one action through the engine backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../electron/container/endpoint';
import { probe } from '../../electron/container/probe';
import { registerThroughContainerEngine } from '../../electron/container/register';
import { describeDiff, readHostBinfmt, reRegisterPlan, snapshotEntries, watchHandlers, type HandlerDiff, type HandlerSnapshot } from '../../electron/container/watch';
import { catalogRule } from '../../shared/status';
import { buildRegister } from '../../shared/binfmt/register';
import { privateBinfmt } from '../kernel/namespace';
import { BINFMT_DIR, debianEmulator, readEntries, registerString, setHandler, snapshotBinfmt, type BinfmtSnapshot } from './binfmt-snapshot';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureDockerd, type DockerdHandle } from './dockerd';
import { connectTo, loadBusybox, removeImage, X86_64_HOST } from './env';

/**
 * A watcher on one binfmt_misc directory whose readings and reports can be awaited: each reading
 * and each change wakes the waiters (event waits, no sleeps; the poll interval only paces the
 * watcher itself).
 */
function watchInto(dir: string, only: (name: string) => boolean) {
  const ac = new AbortController();
  const changes: HandlerDiff[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };
  const state = { count: 0, last: undefined as HandlerSnapshot[] | undefined };
  const watching = watchHandlers({
    intervalMs: 50,
    signal: ac.signal,
    only,
    read: async () => {
      const v = await readHostBinfmt(dir);
      state.count++;
      state.last = snapshotEntries(v.entries).filter((h) => only(h.name));
      queueMicrotask(wake);
      return v;
    },
    onChange: (d) => {
      changes.push(d);
      wake();
    },
  });
  const until = (ok: () => boolean, what: string, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!ok()) return;
        waiters.delete(check);
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return {
    changes,
    get count() {
      return state.count;
    },
    get last() {
      return state.last;
    },
    until,
    reads: (n: number) => until(() => state.count >= n, `${n} readings`),
    change: async (i: number) => {
      await until(() => changes.length > i, `change #${i + 1}`);
      return changes[i]!;
    },
    stop: async () => {
      ac.abort();
      await watching;
    },
  };
}

describe.runIf(X86_64_HOST)('watching handlers', () => {
  let dockerd: DockerdHandle;
  let conn: Connection;
  let binfmt: BinfmtSnapshot;

  beforeAll(async () => {
    dockerd = await ensureDockerd({ isolated: true }); // private: other runs may stop the shared daemon
    conn = await connectTo(dockerd);
    await loadBusybox(conn, 'i386', 'archway-test/registrar:i386');
    await loadBusybox(conn, 's390x', 'archway-test/watch:s390x');
    binfmt = await snapshotBinfmt();
  });

  afterAll(async () => {
    try {
      if (conn) {
        await removeImage(conn, 'archway-test/registrar:i386');
        await removeImage(conn, 'archway-test/watch:s390x');
      }
    } finally {
      await binfmt?.restore();
      await dockerd?.stop();
    }
  });

  it('reports a flush once, and not again when the handlers come back (a private binfmt_misc)', async () => {
    // The flush happens in a private instance: flushing the host's table would remove every
    // handler on the machine, other people's too.
    const ns = await privateBinfmt();
    try {
      const dir = `/proc/${ns.pid}/root${BINFMT_DIR}`;
      const write = async (file: string, text: string) => {
        const r = await ns.run([process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(`${BINFMT_DIR}/${file}`)}, ${JSON.stringify(text)})`]);
        expect(r.code, r.stderr).toBe(0);
      };
      const regs = [buildRegister(catalogRule('aarch64', debianEmulator('aarch64'), 'F')), buildRegister(catalogRule('s390x', debianEmulator('s390x'), 'F'))];
      for (const r of regs) await write('register', r);
      const w = watchInto(dir, () => true);
      try {
        await w.reads(1); // baseline taken
        await write('status', '-1'); // what systemd-binfmt does on (re)start
        const flush = await w.change(0);
        expect(flush.flushed).toBe(true);
        expect(flush.vanished.map((h) => h.register).sort()).toEqual([...regs].sort());
        expect(describeDiff(flush)).toMatch(/systemd-binfmt/);
        // Put back as the plan says; the watcher sees them back and reports nothing more.
        for (const p of reRegisterPlan(flush.vanished)) await write('register', p.register);
        await w.until(() => w.last?.length === 2, 'the handlers to be seen back');
        await w.reads(w.count + 2); // two more full readings after they came back
        expect(w.changes).toHaveLength(1);
      } finally {
        await w.stop();
      }
    } finally {
      await ns.close();
    }
  });

  it('on the host: reports its own handlers removed, and one action through the engine puts them back', async () => {
    // Only the two handlers this test made are removed, one by one (never the host's whole table).
    const regs = [setHandler('aarch64'), setHandler('s390x')];
    const keep = new Set(['qemu-aarch64', 'qemu-s390x']);
    const w = watchInto(BINFMT_DIR, (n) => keep.has(n));
    try {
      await w.reads(1); // baseline taken
      expect(w.changes).toEqual([]);
      for (const n of keep) fs.writeFileSync(path.join(BINFMT_DIR, n), '-1');
      await w.until(() => w.changes.flatMap((c) => c.vanished).length >= 2, 'both removals to be noticed');
      const vanished = w.changes.flatMap((c) => c.vanished);
      expect(vanished.map((h) => h.register).sort()).toEqual([...regs].sort());
      expect((await probe({ conn, platform: 'linux/s390x', image: 'archway-test/watch:s390x' })).status).toBe('no-handler');

      // The single action: re-register every vanished handler (here through the engine backend).
      const reported = w.changes.length;
      const plan = reRegisterPlan(vanished);
      const done = await registerThroughContainerEngine(
        conn,
        plan.map((p) => ({ register: p.register })),
        { registrar: { image: { ref: 'archway-test/registrar:i386', platform: 'linux/386' } } },
      );
      expect(done.map((d) => d.changed)).toEqual([true, true]);
      expect(readEntries().filter((e) => keep.has(e.name)).map((e) => e.register).sort()).toEqual([...regs].sort());
      expect((await probe({ conn, platform: 'linux/s390x', image: 'archway-test/watch:s390x' })).status).toBe('ok');
      await w.until(() => w.last?.length === 2, 'the handlers to be seen back');
      await w.reads(w.count + 2);
      expect(w.changes).toHaveLength(reported); // neither reported twice nor "appeared" when they came back

      // A single removal later is reported on its own.
      fs.writeFileSync(path.join(BINFMT_DIR, 'qemu-s390x'), '-1');
      const second = await w.change(reported);
      expect(second.vanished.map((h) => h.name)).toEqual(['qemu-s390x']);
      expect(second.flushed).toBe(false);
      registerString(regs[1]!);
    } finally {
      await w.stop();
    }
    expect((await readHostBinfmt()).mounted).toBe(true);
  });
});
