/**
 * Any error thrown behind the IPC boundary → `{ code, message, hint }` for a person. Known errors
 * (the helper protocol's ArchwayError, the Docker side's ContainerEngineError, unknown architecture names,
 * bad flags) keep their code and hint; anything else becomes `internal` with its message, never a
 * stack trace.
 */
import type { IpcErrorShape } from '../../shared/ipc/contract';

export class IpcRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'IpcRequestError';
  }
}

const MAX = 2000;
const clip = (s: string) => (s.length > MAX ? `${s.slice(0, MAX)}…` : s);

export function serialiseError(err: unknown): IpcErrorShape {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown; hint?: unknown };
    const message = typeof e.message === 'string' && e.message ? e.message : 'something went wrong';
    const code = typeof e.code === 'string' && /^[a-z][a-z0-9-]{1,40}$/.test(e.code) ? e.code : 'internal';
    const hint =
      typeof e.hint === 'string' && e.hint
        ? e.hint
        : code === 'internal'
          ? 'This is a bug in Archway: please report it with the steps that led here.'
          : undefined;
    return { code, message: clip(message), ...(hint ? { hint: clip(hint) } : {}) };
  }
  return { code: 'internal', message: clip(String(err)), hint: 'This is a bug in Archway: please report it with the steps that led here.' };
}
