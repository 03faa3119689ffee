/**
 * The rootless scope switch of the Architectures view, end to end in Debian's Chromium, with the
 * window's main side running as the desktop user does in reality: the REAL router with the real
 * RootlessGateway (harness.ts startRouterProcess) runs as a throw-away unprivileged user (runuser,
 * a clean environment) under no_new_privs (no setuid program — pkexec, sudo — can gain root for
 * it), with real rootless Podman and an s390x busybox in that user's store. Chromium, the page
 * server and the harness's dispatcher (sender check, validation) run as root in the test process;
 * every handler call goes to the user's process.
 *
 * Shown: "My rootless Podman" shows the engine's own table (s390x missing, the host's handler out
 * of the way); Install linux/s390x there goes through the plan dialog, which says no password, and
 * is applied by the user's process (which could not have gained root); then `podman run
 * --platform linux/s390x … uname -m` as the user prints s390x; the host's table and Archway's root
 * state are byte-identical, and "This machine" still shows s390x missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BinfmtSnapshot } from '../docker/binfmt-snapshot';
import { hostBaseline, hostTable, loadForeignImage, ROOT_STATE, treeDigest } from '../rootless/support';
import { createRootlessUser, rootlessToolsAvailable, type RootlessUser } from '../support/rootless-user';
import { openWithRouterProcess, requireRenderer, screenshot, type Harness, type WindowOnRouterProcess } from './harness';

const IMAGE = 'localhost/archway-test/rootless-e2e:s390x';
const RUN = ['podman', 'run', '--rm', '--network', 'none', '--platform', 'linux/s390x', IMAGE, 'uname', '-m'];
const poll = <T>(fn: () => Promise<T> | T, timeout = 15_000) => expect.poll(fn, { timeout, interval: 100 });

describe.runIf(process.getuid?.() === 0 && rootlessToolsAvailable())('the rootless scope switch in Chromium, the router running as the user', () => {
  let u: RootlessUser;
  let snap: BinfmtSnapshot | undefined;
  let tableBefore: Record<string, string> = {};
  let rootStateBefore: Record<string, string> = {};
  let win: WindowOnRouterProcess;
  let harness: Harness;

  beforeAll(async () => {
    requireRenderer();
    u = await createRootlessUser('awe2e');
    await loadForeignImage(u, IMAGE.replace(/^localhost\//, ''), ['podman', 'load']);
    ({ snap, table: tableBefore, rootState: rootStateBefore } = await hostBaseline());
    win = await openWithRouterProcess({ prefs: { lastView: 'architectures' }, rootless: true }, { wrap: (argv) => u.argv(['setpriv', '--no-new-privs', ...argv]) });
    harness = win.harness;
  }, 180_000);

  afterAll(async () => {
    try {
      await win?.close();
    } finally {
      await u?.remove();
      await snap?.restore();
    }
  }, 60_000);

  const s390x = () => harness.page.locator('tr[data-cpu="s390x"]');

  it('the router runs as the user, not root, under no_new_privs', () => {
    expect(win.router.uid).toBe(u.uid);
    expect(win.router.noNewPrivs).toBe(true);
  });

  it('"My rootless Podman" shows the engine\'s own table; installing s390x there needs no password; the user\'s container prints s390x; the host is unchanged', async () => {
    const page = harness.page;
    await poll(() => s390x().locator('.badge').textContent()).toBe('missing');
    const before = await u.run(RUN);
    expect(`${before.stdout}${before.stderr}`).toMatch(/exec format error/i);

    await page.getByRole('radio', { name: 'My rootless Podman' }).click();
    const note = page.locator('.scope-note');
    await poll(() => note.textContent(), 30_000).toMatch(/my rootless Podman has no binfmt_misc instance of its own yet/);
    await poll(() => s390x().locator('.badge').textContent()).toBe('missing');
    await screenshot(page, 'rootless-01-scope');

    await page.getByRole('button', { name: 'Install linux/s390x' }).click();
    const dialog = page.getByRole('dialog');
    await poll(() => dialog.textContent(), 30_000).toContain('No password: the changes go to my rootless Podman\'s own binfmt_misc instance');
    expect(await dialog.textContent()).not.toMatch(/administrator password/);
    await poll(() => dialog.locator('pre.raw').first().textContent()).toMatch(/^:qemu-s390x:M:/);
    // The host's flag rules: F, and no C unless chosen.
    const flags = ((await dialog.locator('pre.raw').first().textContent()) ?? '').trim().split(':').at(-1)!;
    expect(flags).toContain('F');
    expect(flags).not.toContain('C');
    await screenshot(page, 'rootless-02-plan');
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await poll(() => s390x().locator('.badge').textContent(), 60_000).toBe('ready');
    await poll(() => note.textContent(), 30_000).toMatch(/my rootless Podman has its own binfmt_misc instance/);
    await screenshot(page, 'rootless-03-ready');

    const run = await u.run(RUN);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('s390x');
    expect(hostTable()).toEqual(tableBefore);
    expect(treeDigest(ROOT_STATE)).toEqual(rootStateBefore);

    // This machine's table: still no s390x.
    await page.getByRole('radio', { name: 'This machine' }).click();
    await poll(() => s390x().locator('.badge').textContent()).toBe('missing');
    expect(win.pageErrors).toEqual([]);
  });
});
