/**
 * The headless archway .rpm (rpmbuild from the same staged tree as the .deb): it builds with
 * Debian's rpm tools, `rpm -qlp` lists the same files as the .deb with the same modes, it requires
 * nodejs >= 18, its version is package.json's, the logrotate rule is a config file and its erase
 * scriptlet says what stays.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPackages, REPO } from './packages';

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const missing = ['rpmbuild', 'rpm', 'dpkg-deb'].filter((t) => !has(t));
if (missing.length) console.warn(`rpm: skipped: missing ${missing.join(', ')} (apt install rpm)`);
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

function q(args: string[]): string {
  const r = spawnSync('rpm', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rpm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(missing.length > 0)('the archway .rpm', () => {
  let deb = '';
  let rpm = '';
  beforeAll(() => {
    ({ deb, rpm } = buildPackages());
  });

  it('lists the same files as the .deb, with the same modes and root ownership', () => {
    // rpm: "-rwxr-xr-x    1 root    root   650 Nov 30 06:06 /usr/bin/archway"
    const rpmFiles = q(['-qlvp', rpm])
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('d'))
      .map((l) => {
        const f = l.split(/\s+/);
        return `${f[0]} ${f[2]}/${f[3]} ${f.slice(8).join(' ')}`;
      })
      .sort();
    // dpkg-deb: "-rwxr-xr-x root/root       650 2026-11-30 06:06 ./usr/bin/archway"
    const debFiles = spawnSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .filter((l) => !l.startsWith('d'))
      .map((l) => {
        const f = l.split(/\s+/);
        return `${f[0]} ${f[1]} ${f.slice(5).join(' ').replace(/^\./, '')}`;
      })
      .sort();
    expect(debFiles.length).toBeGreaterThan(10);
    expect(rpmFiles).toEqual(debFiles);
    expect(rpmFiles).toContain('-rwxr-xr-x root/root /usr/bin/archway');
    expect(rpmFiles).toContain('-rwxr-xr-x root/root /usr/lib/archway/archway-helper');
  });

  it('carries package.json\'s version, requires nodejs >= 18 and marks the logrotate rule as config', () => {
    expect(q(['-qp', '--queryformat', '%{NAME} %{VERSION} %{ARCH}', rpm])).toBe(`archway ${VERSION} noarch`);
    expect(q(['-qp', '--requires', rpm])).toMatch(/^nodejs >= 18$/m);
    expect(q(['-qcp', rpm]).trim()).toBe('/etc/logrotate.d/archway');
  });

  it('its erase scriptlet prints what stays (the same function as the .deb\'s prerm)', () => {
    const scripts = q(['-qp', '--scripts', rpm]);
    expect(scripts).toMatch(/preuninstall scriptlet/);
    expect(scripts).toContain('archway_removal_notice');
    expect(scripts).toContain(readFileSync(join(REPO, 'build/linux/headless/maintainer.sh'), 'utf8').trim().split('\n').at(-1));
  });
});
