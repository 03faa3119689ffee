// Types for build/electron-builder.config.mjs (read by electron-builder, and by the tests).
import type { Configuration } from 'electron-builder';

declare const config: Configuration & { electronFuses: NonNullable<Configuration['electronFuses']> };
export default config;
export declare const SYSTEM_FILES: Record<string, string>;
export declare const DESKTOP_ENTRY: Record<string, string>;
export declare const HEADLESS_DEPENDENCY: { deb: string; rpm: string };
