// Types for scripts/icons.mjs.
export declare const ICON_SVG: string;
export declare const ICON_SIZES: number[];
export declare function renderIcons(outdir?: string): string[];
