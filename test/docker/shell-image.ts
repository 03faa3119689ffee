// The image the shell suites open shells in: the arm64 busybox fixture plus `stty` as a program of
// its own (a copy of busybox named stty), so a test can ask the shell's TTY for its size.
import { readFileSync } from 'node:fs';
import type { Connection } from '../../electron/container/endpoint';
import type { ImageFacts } from '../../electron/container/images';
import { foreignBusybox } from '../fixtures/foreign';
import { loadBusybox } from './env';

export async function loadShellImage(conn: Connection, tag: string): Promise<ImageFacts> {
  const busybox = readFileSync(await foreignBusybox('arm64'));
  return loadBusybox(conn, 'arm64', tag, { extraFiles: [{ path: '/bin/stty', content: busybox, mode: 0o755 }] });
}
