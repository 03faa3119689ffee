// electron-builder: the archway-desktop packages (AppImage, .deb, .rpm).
//
// The .deb and .rpm depend on the headless `archway` package (scripts/package.mjs) of the same
// version, which installs the CLI (/usr/bin/archway), the privileged helper
// (/usr/lib/archway/archway-helper, run by the distribution's Node) and the polkit policy: one copy
// of the privileged code on the machine. This package adds the app, its desktop entry, the icons
// (build/icons: hicolor PNGs rendered from build/icons/archway.svg by scripts/icons.mjs) and the
// AppStream metainfo (build/linux/metainfo.mjs, written to dist/desktop by scripts/package.mjs).
// No custom afterInstall, so none of electron-builder's stock steps (chrome-sandbox, /usr/bin
// link) are lost.
//
// The AppImage carries the helper bundle, the policy and scripts/install-helper.mjs: its "Install
// system helper" step (electron/engine/system-helper.ts) installs them system-wide in one
// elevation; the `archway` package is the other way.
//
// Fuses: the values are Archway's security policy, defined in electron/main/security.ts (FUSES);
// electron/main/security.spec.ts fails if these drift from it.
import { HEADLESS_DEPENDENCY } from './linux/headless/package-info.mjs';
import { METAINFO_BUILT, METAINFO_INSTALLED } from './linux/metainfo.mjs';

export { HEADLESS_DEPENDENCY };

/** fpm "source=destination" pairs for files outside /opt/Archway. */
export const SYSTEM_FILES = {
  [METAINFO_INSTALLED]: METAINFO_BUILT,
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
  // The AppImage's "Install system helper" (electron/engine/system-helper.ts HELPER_RESOURCES).
  extraResources: [
    { from: 'dist/helper/archway-helper.mjs', to: 'helper/archway-helper.mjs' },
    { from: 'scripts/install-helper.mjs', to: 'helper/install-helper.mjs' },
    { from: 'build/polkit/dev.archway.helper.policy', to: 'helper/dev.archway.helper.policy' },
    // The tray icon (electron/main/tray.ts TRAY_ICON_RESOURCE): the AppImage installs no hicolor icon.
    { from: 'build/icons/32x32.png', to: 'icons/32x32.png' },
  ],
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
    target: ['AppImage', 'deb', 'rpm'],
    icon: 'build/icons',
    category: 'System',
    maintainer: 'Archway contributors',
    synopsis: 'Make foreign-architecture containers just work',
    description:
      'Archway shows, installs, persists and tests the QEMU binfmt_misc handlers that let Docker and Podman run containers of other CPU architectures.',
    desktop: { entry: DESKTOP_ENTRY },
  },
  deb: {
    // The stock Electron dependencies, plus the headless package (CLI, helper, policy).
    depends: ['libgtk-3-0', 'libnotify4', 'libnss3', 'libxss1', 'libxtst6', 'xdg-utils', 'libatspi2.0-0', 'libuuid1', 'libsecret-1-0', HEADLESS_DEPENDENCY.deb],
    recommends: ['qemu-user-static', 'pkexec'],
    fpm: Object.entries(SYSTEM_FILES).map(([dest, src]) => `${src}=${dest}`),
  },
  rpm: {
    depends: ['gtk3', 'libnotify', 'nss', 'libXScrnSaver', 'libXtst', 'xdg-utils', 'at-spi2-core', 'libuuid', 'libsecret', HEADLESS_DEPENDENCY.rpm],
    fpm: Object.entries(SYSTEM_FILES).map(([dest, src]) => `${src}=${dest}`),
  },
  appImage: { artifactName: '${productName}-${version}-${arch}.AppImage' },
};

export default config;
