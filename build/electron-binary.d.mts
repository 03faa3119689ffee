export declare const ELECTRON_PACKAGE: string;
export declare const INSTALLER_NODE: string;
export declare function electronBinary(env?: NodeJS.ProcessEnv): { ok: true; path: string } | { ok: false; reason: string };
export declare function electronHelp(reason: string): string;
