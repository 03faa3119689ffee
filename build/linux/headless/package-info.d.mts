// Types for build/linux/headless/package-info.mjs.
export declare const HEADLESS: {
  name: string;
  version: string;
  revision: string;
  minNode: number;
  maintainer: string;
  summary: string;
  description: string[];
  cli: string;
  helper: string;
  libDir: string;
  policy: string;
  logrotate: string;
  man: string;
  completions: { bash: string; zsh: string; fish: string };
  doc: string;
};
export declare const DEB_VERSION: string;
export declare const HEADLESS_DEPENDENCY: { deb: string; rpm: string };
