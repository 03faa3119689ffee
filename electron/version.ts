/**
 * Archway's version: the one in package.json, compiled into the bundles by esbuild (only this
 * field is kept). The CLI's `--version`, the packages and the AppStream metainfo all come from it.
 */
import { version } from '../package.json';

export const ARCHWAY_VERSION: string = version;
