/**
 * The window's emulator state (QEMU versions): which emulator the Detail view's version picker has
 * chosen for each CPU, and the Engine view's import path (the Chromium harness has no file dialog, so
 * a path is typed there; in the desktop app an empty path opens the system dialog in main). What can be
 * chosen comes from status alone (shared/emulator-choice.ts); switching goes through the ordinary
 * plan → confirm → apply flow with a `use` intent.
 */
import type { UseEmulator } from '../../shared/actions';
import { createStore, useStore } from './store';

export interface EmulatorsState {
  /** Per CPU: the key of the choice picked in the Detail view (`distro` or a sha256). */
  picked: Record<string, string>;
  /** The Engine view's import path field. */
  importPath: string;
}

export const emulatorsStore = createStore<EmulatorsState>({ picked: {}, importPath: '' });

export const choiceKey = (e: UseEmulator): string => (e === 'distro' ? 'distro' : e.sha256);
export const choiceFromKey = (k: string): UseEmulator => (k === 'distro' ? 'distro' : { sha256: k });

export function pickEmulator(cpu: string, key: string): void {
  emulatorsStore.set((s) => ({ ...s, picked: { ...s.picked, [cpu]: key } }));
}

export function setImportPath(path: string): void {
  emulatorsStore.set((s) => (s.importPath === path ? s : { ...s, importPath: path }));
}

export const usePicked = (cpu: string): string | undefined => useStore(emulatorsStore, (s) => s.picked[cpu]);
export const useImportPath = (): string => useStore(emulatorsStore, (s) => s.importPath);
