// Watch: notice handlers vanishing from the host (a flush, as systemd-binfmt does on restart) and
// put them back in one action through the engine backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../electron/container/endpoint';
import { probe } from '../../electron/container/probe';
import { registerThroughContainerEngine } from '../../electron/container/register';
import { describeDiff, readHostBinfmt, reRegisterPlan, watchHandlers, type HandlerDiff } from '../../electron/container/watch';
import { BINFMT_DIR, readEntries, registerString, setHandler, snapshotBinfmt, type BinfmtSnapshot } from './binfmt-snapshot';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureDockerd, type DockerdHandle } from './dockerd';
import { connectTo, loadBusybox, removeImage, X86_64_HOST } from './env';

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
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

  it('reports a flush once, and one action puts every handler back', async () => {
    const regs = [setHandler('aarch64'), setHandler('s390x')];
    const keep = new Set(['qemu-aarch64', 'qemu-s390x']);
    const changes: HandlerDiff[] = [];
    const ac = new AbortController();
    const watching = watchHandlers({ intervalMs: 50, signal: ac.signal, only: (n) => keep.has(n), onChange: (d) => changes.push(d) });
    try {
      await new Promise((r) => setTimeout(r, 200)); // baseline taken
      expect(changes).toEqual([]);
      fs.writeFileSync(path.join(BINFMT_DIR, 'status'), '-1'); // what systemd-binfmt does on (re)start
      const flush = await until('the flush to be noticed', () => changes[0]);
      expect(flush.flushed).toBe(true);
      expect(flush.vanished.map((h) => h.register).sort()).toEqual([...regs].sort());
      expect(describeDiff(flush)).toMatch(/systemd-binfmt/);
      expect((await probe({ conn, platform: 'linux/s390x', image: 'archway-test/watch:s390x' })).status).toBe('no-handler');

      // The single action: re-register every vanished handler (here through the engine backend).
      const plan = reRegisterPlan(flush.vanished);
      const done = await registerThroughContainerEngine(
        conn,
        plan.map((p) => ({ register: p.register })),
        { registrar: { image: { ref: 'archway-test/registrar:i386', platform: 'linux/386' } } },
      );
      expect(done.map((d) => d.changed)).toEqual([true, true]);
      expect(readEntries().filter((e) => keep.has(e.name)).map((e) => e.register).sort()).toEqual([...regs].sort());
      expect((await probe({ conn, platform: 'linux/s390x', image: 'archway-test/watch:s390x' })).status).toBe('ok');
      await new Promise((r) => setTimeout(r, 300));
      expect(changes).toHaveLength(1); // neither reported twice nor "appeared" when they came back

      // A single removal later is reported on its own.
      fs.writeFileSync(path.join(BINFMT_DIR, 'qemu-s390x'), '-1');
      const second = await until('the removal to be noticed', () => changes[1]);
      expect(second.vanished.map((h) => h.name)).toEqual(['qemu-s390x']);
      expect(second.flushed).toBe(false);
      registerString(regs[1]!);
    } finally {
      ac.abort();
      await watching;
    }
    expect((await readHostBinfmt()).mounted).toBe(true);
  });
});
