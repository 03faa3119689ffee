/** Small pieces several integration suites share. */
import { createServer } from 'node:net';
import { build } from 'esbuild';

/** Bundle a TypeScript entry into one ESM file runnable by plain Node (a driver run in a namespace or as another user). */
export async function bundleForNode(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
  });
}

/** Run clean-ups newest first; every one runs even if another fails, then the failures are thrown together. */
export async function runCleanups(cleanups: (() => unknown)[], what: string): Promise<void> {
  const errors: unknown[] = [];
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `${what} cleanup failed`);
}

/** Is a process alive (a lock file's owner)? EPERM means it exists but is not ours. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A TCP port on 127.0.0.1 where nothing listens right now: the kernel picks a free one (port 0),
 * we close it. (Never assume a well-known port such as 9 is closed on someone's machine.)
 */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      srv.close(() => resolve(addr.port));
    });
  });
}
