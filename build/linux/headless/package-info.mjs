// What the headless `archway` package is: names, paths, version, dependencies. One place, read by
// scripts/package.mjs (which builds the .deb and .rpm), build/electron-builder.config.mjs (the
// desktop package depends on this one) and the packaging tests.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'package.json'), 'utf8'));

export const HEADLESS = {
  name: 'archway',
  version: pkg.version,
  /** Debian revision / RPM release of this packaging. */
  revision: '1',
  /** Oldest Node the bundles run on (Debian 12's and Ubuntu 24.04's nodejs). */
  minNode: 18,
  maintainer: 'Archway maintainers <packaging@archway.dev>',
  summary: 'manage QEMU binfmt_misc handlers for foreign-architecture containers',
  description: [
    'Archway shows, installs, persists and tests the QEMU binfmt_misc handlers that',
    'let Docker and Podman run containers of other CPU architectures, visibly,',
    'safely and reversibly.',
    '',
    'This package has the command-line tool and the small privileged helper it',
    'runs through pkexec, for servers and CI. The desktop app is archway-desktop.',
  ],
  cli: '/usr/bin/archway',
  helper: '/usr/lib/archway/archway-helper',
  libDir: '/usr/lib/archway',
  policy: '/usr/share/polkit-1/actions/dev.archway.helper.policy',
  logrotate: '/etc/logrotate.d/archway',
  man: '/usr/share/man/man1/archway.1.gz',
  completions: {
    bash: '/usr/share/bash-completion/completions/archway',
    zsh: '/usr/share/zsh/vendor-completions/_archway',
    fish: '/usr/share/fish/vendor_completions.d/archway.fish',
  },
  doc: '/usr/share/doc/archway',
};
/** The .deb's Version and the .rpm's version-release. */
export const DEB_VERSION = `${HEADLESS.version}-${HEADLESS.revision}`;
/** How the desktop package names its dependency on this one. */
export const HEADLESS_DEPENDENCY = { deb: `${HEADLESS.name} (= ${DEB_VERSION})`, rpm: `${HEADLESS.name} = ${DEB_VERSION}` };

