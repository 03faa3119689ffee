// electron-builder: Linux AppImage and .deb.
//
// The .deb also installs, root-owned:
//   /usr/lib/archway/archway-helper       the program pkexec runs (build/linux/archway-helper)
//   /usr/lib/archway/archway-helper.mjs   the helper bundle (dist/helper, built by scripts/build.mjs)
//   /usr/share/polkit-1/actions/dev.archway.helper.policy   (build/polkit, owned by the polkit work)
// and electron-builder's own desktop entry, icons and stock after-install script (chrome-sandbox
// setuid, /usr/bin link): no custom afterInstall, so none of the stock steps are lost.
//
// The AppImage carries the helper bundle as a resource; privileged changes from an AppImage need
// the helper installed system-wide (the .deb), or running as root.
//
// Fuses: the values are Archway's security policy, defined in electron/main/security.ts (FUSES);
// electron/main/security.spec.ts fails if these drift from it.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = (p) => join(root, p);

/** fpm "source=destination" pairs for files outside /opt/Archway. */
export const SYSTEM_FILES = {
  '/usr/lib/archway/archway-helper': 'build/linux/archway-helper',
  '/usr/lib/archway/archway-helper.mjs': 'dist/helper/archway-helper.mjs',
  '/usr/share/polkit-1/actions/dev.archway.helper.policy': 'build/polkit/dev.archway.helper.policy',
};

export const DESKTOP_ENTRY = {
  Name: 'Archway',
  GenericName: 'Foreign architecture manager',
  Comment: 'Run containers of other CPU architectures: manage QEMU binfmt_misc handlers',
  Categories: 'System;Emulator;',
  Keywords: 'binfmt;qemu;docker;arm64;multiarch;emulation;',
  Terminal: 'false',
  Type: 'Application',
};

/** @type {import('electron-builder').Configuration} */
const config = {
  appId: 'dev.archway.Archway',
  productName: 'Archway',
  executableName: 'archway-desktop',
  copyright: 'Archway contributors',
  directories: { output: 'dist/packages', buildResources: 'build' },
  files: ['out/**/*', 'package.json', '!**/*.map'],
  extraResources: [{ from: 'dist/helper/archway-helper.mjs', to: 'helper/archway-helper.mjs' }],
  asar: true,
  npmRebuild: false,
  electronFuses: {
    runAsNode: true,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    loadBrowserProcessSpecificV8Snapshot: false,
    grantFileProtocolExtraPrivileges: false,
  },
  linux: {
    target: ['AppImage', 'deb'],
    category: 'System',
    maintainer: 'Archway contributors',
    synopsis: 'Make foreign-architecture containers just work',
    description:
      'Archway shows, installs, persists and tests the QEMU binfmt_misc handlers that let Docker and Podman run containers of other CPU architectures.',
    desktop: { entry: DESKTOP_ENTRY },
  },
  deb: {
    // The stock Electron dependencies, plus polkit's pkexec for the privileged helper and a static QEMU.
    depends: ['libgtk-3-0', 'libnotify4', 'libnss3', 'libxss1', 'libxtst6', 'xdg-utils', 'libatspi2.0-0', 'libuuid1', 'libsecret-1-0', 'pkexec | policykit-1'],
    recommends: ['qemu-user-static | qemu-user-binfmt'],
    fpm: Object.entries(SYSTEM_FILES).map(([dest, src]) => `${at(src)}=${dest}`),
  },
  appImage: { artifactName: '${productName}-${version}-${arch}.AppImage' },
};

export default config;
