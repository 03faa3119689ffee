/**
 * What the app remembers between runs: window size and position, maximised, and the last view.
 * One small JSON file in the user's config directory; a missing or damaged file means defaults.
 * Deciding (parse, clamp to a visible screen) is pure; reading and writing are the two edges.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as z from 'zod/mini';
import { VIEWS, type Prefs } from '../../shared/ipc/contract';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const int = z.number().check(z.int(), z.minimum(-100_000), z.maximum(100_000));

export const SavedStateSchema = z.object({
  window: z.optional(
    z.object({
      x: z.optional(int),
      y: z.optional(int),
      width: int,
      height: int,
      maximized: z.optional(z.boolean()),
    }),
  ),
  lastView: z.optional(z.enum(VIEWS)),
});
export type SavedState = z.infer<typeof SavedStateSchema>;

export const DEFAULT_SIZE = { width: 1200, height: 800 };
export const MIN_SIZE = { width: 900, height: 600 };

export function parseState(text: string | undefined): SavedState {
  if (!text) return {};
  try {
    const r = SavedStateSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : {};
  } catch {
    return {};
  }
}

/**
 * Where the window opens: the saved bounds if they still fit on a screen (a monitor may have been
 * unplugged), else the saved size centred by the window manager, else the default.
 */
export function restoreBounds(saved: SavedState['window'], screens: Rect[]): Partial<Rect> & { width: number; height: number } {
  if (!saved) return { ...DEFAULT_SIZE };
  const width = Math.max(MIN_SIZE.width, saved.width);
  const height = Math.max(MIN_SIZE.height, saved.height);
  if (saved.x === undefined || saved.y === undefined) return { width, height };
  const visible = screens.some(
    (s) => saved.x! >= s.x - 8 && saved.y! >= s.y - 8 && saved.x! + Math.min(width, 200) <= s.x + s.width && saved.y! + 50 <= s.y + s.height,
  );
  return visible ? { x: saved.x, y: saved.y, width, height } : { width, height };
}

export interface PrefsStore {
  get(): Prefs;
  set(patch: Partial<Prefs>): Prefs;
}

/** The state file, read once and written on each change (atomically: temp file + rename). */
export class StateFile implements PrefsStore {
  private state: SavedState;

  constructor(private readonly file: string) {
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = undefined;
    }
    this.state = parseState(text);
  }

  get saved(): SavedState {
    return this.state;
  }

  get(): Prefs {
    return { lastView: this.state.lastView ?? 'architectures' };
  }

  set(patch: Partial<Prefs>): Prefs {
    this.state = { ...this.state, ...(patch.lastView ? { lastView: patch.lastView } : {}) };
    this.write();
    return this.get();
  }

  saveWindow(bounds: Rect, maximized: boolean): void {
    this.state = {
      ...this.state,
      window: maximized && this.state.window ? { ...this.state.window, maximized: true } : { ...bounds, maximized },
    };
    this.write();
  }

  private write(): void {
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.state), { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch {
      // Remembering the window is a nicety: never fail the app over it.
    }
  }
}
