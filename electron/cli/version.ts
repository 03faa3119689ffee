/**
 * Archway's version, from package.json: put into the bundle at build time (scripts/build.mjs
 * defines __ARCHWAY_VERSION__, so `archway status` reads no file for it); read from package.json
 * when the sources run unbundled (unit specs).
 */
import { readFileSync } from 'node:fs';

declare const __ARCHWAY_VERSION__: string | undefined;

function fromPackageJson(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function archwayVersion(): string {
  return typeof __ARCHWAY_VERSION__ === 'string' ? __ARCHWAY_VERSION__ : fromPackageJson();
}
