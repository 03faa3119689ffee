/**
 * The headless `archway` .deb, built from this repository and installed for real in a throw-away
 * Debian 12 root (debootstrap minbase, Debian's own nodejs 18 pulled in by `apt-get -f install`):
 * the CLI runs on the distribution's Node, status reads the host's binfmt_misc without changing
 * it, the man page renders, bash completes `archway ins<TAB>`, lintian finds no error, removal
 * keeps the user's handlers and boot files and says so, purge lists Archway's state and removes it.
 *
 * Needs root, debootstrap and lintian (scripts/test.mjs installs them); the Debian base root is
 * cached (test/packaging/debian-root.ts), so a run takes about a minute after the first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedBase, inRoot, mustInRoot, unpackRoot, type BaseRecord } from './debian-root';
import { buildPackages, type Manifest } from './packages';

const REPO = join(import.meta.dirname, '..', '..');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const isRoot = process.getuid?.() === 0;
const missing = ['debootstrap', 'lintian', 'dpkg-deb', 'unshare', 'chroot'].filter((t) => !has(t));
const skipReason = !isRoot ? 'needs root (debootstrap, chroot, mount namespaces)' : missing.length ? `missing ${missing.join(', ')} (apt install ${missing.join(' ')})` : '';
if (skipReason) console.warn(`headless-deb: skipped: ${skipReason}`);

/** The host's binfmt_misc table, to prove the chroot's `archway status` changed nothing. */
function hostBinfmt(): string {
  const dir = '/proc/sys/fs/binfmt_misc';
  if (!existsSync(join(dir, 'status'))) return 'not mounted';
  return readdirSync(dir)
    .sort()
    .map((f) => `${f}\n${f === 'register' ? '' : readFileSync(join(dir, f), 'utf8')}`)
    .join('\n');
}

describe.skipIf(skipReason !== '')('the archway .deb in a fresh Debian 12 root', () => {
  let root = '';
  let deb = '';
  let manifest: Manifest;
  let base: BaseRecord;
  const chrootDeb = '/tmp/archway.deb';

  beforeAll(async () => {
    ({ deb, manifest } = buildPackages());
    console.log(`headless-deb: man page and completions from: ${JSON.stringify(manifest.sources)}`);
    const cached = await cachedBase((s) => console.log(`headless-deb: ${s}`));
    base = cached.record;
    root = unpackRoot(cached.tar);
    writeFileSync(join(root, chrootDeb.slice(1)), readFileSync(deb));
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('installs with dpkg -i, its dependencies (Debian\'s nodejs 18) through apt-get -f install', () => {
    expect(base.suite).toBe('bookworm');
    const first = inRoot(root, `dpkg -i ${chrootDeb}`);
    // No nodejs in the base: dpkg unpacks and leaves archway unconfigured, naming the dependency.
    expect(first.status).not.toBe(0);
    expect(first.stderr).toMatch(/archway depends on nodejs \(>= 18\)/);
    const fix = inRoot(root, 'apt-get -f install -y -q --no-install-recommends');
    expect(fix.status, fix.stderr + fix.stdout).toBe(0);
    expect(mustInRoot(root, "dpkg-query -W -f='${Status} ${Version}' archway")).toBe(`install ok installed ${VERSION}-1`);
    expect(mustInRoot(root, 'node --version').trim()).toMatch(/^v18\./);
    expect(mustInRoot(root, 'dpkg-query -W -f=\'${Version}\' nodejs')).not.toMatch(/nodesource/);
  });

  it('`archway --version` is package.json\'s version, on /usr/bin/node', () => {
    expect(mustInRoot(root, 'head -1 /usr/bin/archway /usr/lib/archway/archway-helper')).toMatch(/#!\/usr\/bin\/node\n[\s\S]*#!\/usr\/bin\/node/);
    expect(mustInRoot(root, 'archway --version').trim()).toBe(`archway ${VERSION}`);
  });

  it('`archway status` reads the host\'s binfmt_misc (or says it is not mounted) and changes nothing', () => {
    const before = hostBinfmt();
    const r = inRoot(root, 'archway status');
    expect(r.status, r.stderr).toBe(0);
    if (before === 'not mounted') expect(r.stdout).toMatch(/binfmt_misc: NOT mounted at \/proc\/sys\/fs\/binfmt_misc/);
    else expect(r.stdout).not.toMatch(/NOT mounted/);
    expect(r.stdout).toMatch(/aarch64\s+linux\/arm64/);
    const json = JSON.parse(mustInRoot(root, 'archway status --json')) as { supported: string[] };
    expect(json.supported).toContain('linux/amd64');
    expect(hostBinfmt()).toBe(before);
  });

  it('`archway status` with binfmt_misc mounted read-only in the root reports this kernel\'s table as it is', () => {
    const before = hostBinfmt();
    // What the kernel's table holds, read the same way (same namespace set-up) as status reads it.
    const listing = mustInRoot(root, 'cd /proc/sys/fs/binfmt_misc && for f in *; do [ "$f" = register ] || [ "$f" = status ] || echo "$f $(head -1 "$f")"; done', { mountBinfmt: true });
    const entries = listing.trim().split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]);
    const json = JSON.parse(mustInRoot(root, 'archway status --json', { mountBinfmt: true })) as { mount: { mounted: boolean }; emulators: string[] | null; handlers: { name: string }[] };
    expect(json.mount.mounted).toBe(true);
    expect(json.handlers.map((h) => h.name).sort()).toEqual(entries.map(([n]) => n).sort());
    const enabled = entries.filter(([, state]) => state === 'enabled').map(([n]) => n).sort();
    expect(json.emulators === null ? [] : [...json.emulators].sort()).toEqual(enabled);
    // The mount is read-only (checked, not tried: a write test that failed would change the host).
    expect(mustInRoot(root, 'grep " /proc/sys/fs/binfmt_misc " /proc/self/mounts', { mountBinfmt: true })).toMatch(/^binfmt_misc \/proc\/sys\/fs\/binfmt_misc binfmt_misc ro,/m);
    expect(hostBinfmt()).toBe(before);
  });

  it('the helper runs on the distribution\'s Node and answers a dry run', () => {
    const r = inRoot(root, '/usr/lib/archway/archway-helper', { input: JSON.stringify({ version: 1, ops: [{ op: 'install', arch: 'aarch64' }], dryRun: true }) });
    const answer = JSON.parse(r.stdout.trim().split('\n').pop()!) as { version: number; dryRun: boolean };
    expect(answer).toMatchObject({ version: 1, dryRun: true });
  });

  it.skipIf(!existsSync('/usr/bin/qemu-aarch64-static'))('the CLI plans an install through the packaged helper (dry run; binfmt_misc read-only)', () => {
    // A static emulator from the host, root-owned in the root's /usr/bin, as qemu-user-static puts it.
    writeFileSync(join(root, 'usr/bin/qemu-aarch64-static'), readFileSync('/usr/bin/qemu-aarch64-static'), { mode: 0o755 });
    const before = hostBinfmt();
    // The root has no Archway record: a qemu-aarch64 this machine already has (its history) is another
    // tool's to the packaged CLI, so the plan is a take-over then — the same register string, and says so.
    const taken = existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64');
    const r = inRoot(root, `archway install arm64 --flags F --dry-run${taken ? ' --take-over' : ''}`, { mountBinfmt: true });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Dry run — nothing was changed.');
    expect(r.stdout).toMatch(/register: :qemu-aarch64:M:0?:\\x7f\\x45\\x4c\\x46\\x02.*:\/usr\/bin\/qemu-aarch64-static:F$/m);
    if (taken) expect(r.stdout).toMatch(/takes over qemu-aarch64 from .*uninstalling it later restores theirs/);
    expect(hostBinfmt()).toBe(before);
  });

  it('`man archway` renders archway(1) without groff warnings', () => {
    const r = inRoot(root, 'man --warnings archway', { env: { MANPAGER: 'cat', MANWIDTH: '80' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^ARCHWAY\(1\)/m);
    expect(r.stdout).toMatch(/NAME\s+archway\s+[-‐–]\s/);
    expect(r.stdout).toContain('install');
  });

  it('bash completes `archway ins<TAB>` to install (bash-completion loads the installed file on demand)', () => {
    const script = [
      '. /usr/share/bash-completion/bash_completion',
      'complete -p archway >/dev/null 2>&1 && echo "loaded too early" >&2',
      '_completion_loader archway',
      'COMP_LINE="archway ins"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(archway ins); COMP_CWORD=1',
      'fn=$(complete -p archway | sed -n "s/.*-F \\([^ ]*\\).*/\\1/p")',
      '"$fn" archway ins archway',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    const r = inRoot(root, `bash -c '${script.replace(/'/g, "'\\''")}'`);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['install']);
  });

  it('lintian reports no error (warnings are listed)', () => {
    const r = spawnSync('lintian', ['--fail-on', 'error', '--display-info', deb], { encoding: 'utf8' });
    const tags = r.stdout.trim().split('\n').filter(Boolean);
    console.log(`lintian ${deb}:\n${tags.join('\n') || '(no tags)'}`);
    expect(tags.filter((t) => t.startsWith('E:'))).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('dpkg -r keeps registered handlers\' record, persist files and logs, and says so; dpkg -P lists and removes Archway\'s state', () => {
    // Fake state as the helper would leave it (no handler is registered in the host kernel).
    const register = ':qemu-aarch64:M:0:\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-aarch64-static:FC';
    const state = {
      version: 1,
      handlers: { 'qemu-aarch64': { cpu: 'aarch64', register, source: 'distro', installedAt: '2026-11-30T06:00:00.000Z', installedBy: 1000, persist: true } },
    };
    const files: Record<string, string> = {
      'var/lib/archway/state.json': `${JSON.stringify(state, null, 2)}\n`,
      'etc/binfmt.d/qemu-aarch64.conf': `# written by archway\n${register}\n`,
      'var/log/archway/audit.log': '{"time":"2026-11-30T06:00:00.000Z","uid":1000,"op":"install","arch":"aarch64","ok":true}\n',
    };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), text);
    }

    const remove = inRoot(root, 'dpkg -r archway');
    expect(remove.status, remove.stderr).toBe(0);
    const said = (remove.stdout + remove.stderr).split('\n').filter((l) => l.startsWith('archway: left in place'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('qemu-aarch64');
    expect(said[0]).toContain('/etc/binfmt.d/qemu-aarch64.conf');
    expect(said[0]).toContain('/var/lib/archway');
    expect(said[0]).toContain('archway uninstall all');
    for (const [p, text] of Object.entries(files)) expect(readFileSync(join(root, p), 'utf8'), p).toBe(text);
    expect(existsSync(join(root, 'usr/bin/archway'))).toBe(false);
    expect(existsSync(join(root, 'etc/logrotate.d/archway')), 'a conffile stays until purge').toBe(true);
    expect(mustInRoot(root, "dpkg-query -W -f='${Status}' archway")).toBe('deinstall ok config-files');

    const purge = inRoot(root, 'dpkg -P archway');
    expect(purge.status, purge.stderr).toBe(0);
    const out = purge.stdout + purge.stderr;
    // Each directory is announced, then its contents, before it goes.
    const listed = out.indexOf('archway: purge removes /var/lib/archway:');
    expect(listed).toBeGreaterThanOrEqual(0);
    expect(out.indexOf('  /var/lib/archway/state.json')).toBeGreaterThan(listed);
    expect(out).toContain('archway: purge removes /var/log/archway:');
    expect(out).toContain('  /var/log/archway/audit.log');
    expect(out).toMatch(/purge left alone: handlers registered in the kernel and \/etc\/binfmt\.d\/qemu-\*\.conf files .*archway uninstall all/);
    expect(existsSync(join(root, 'var/lib/archway'))).toBe(false);
    expect(existsSync(join(root, 'var/log/archway'))).toBe(false);
    expect(readFileSync(join(root, 'etc/binfmt.d/qemu-aarch64.conf'), 'utf8')).toBe(files['etc/binfmt.d/qemu-aarch64.conf']);
    expect(existsSync(join(root, 'etc/logrotate.d/archway'))).toBe(false);
    expect(inRoot(root, 'dpkg-query -W archway').status).not.toBe(0);
  });
});
