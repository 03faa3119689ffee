// Types for build/linux/metainfo.mjs.
export declare const APP_ID: string;
export declare const DESKTOP_FILE: string;
export declare const METAINFO_BUILT: string;
export declare const METAINFO_INSTALLED: string;
export declare function metainfoXml(release: { version: string; date: string }): string;
