import { describe, expect, it } from 'vitest';
import { createApi, toIpcError } from './api';

describe('errors main sends the window', () => {
  it('lose control characters and escape sequences once, in toIpcError (every view shows them clean)', async () => {
    const api = createApi({
      invoke: async () => ({ ok: false, error: { code: 'engine-refused', message: 'the engine said \u001b]0;pwned\u0007no\u001b[2J', hint: '\u001b[31mcheck\u0000 it\u001b[0m\nthen retry' } }),
      on: () => () => undefined,
    });
    const err = await api.getStatus().then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; hint?: string },
    );
    expect(err).toMatchObject({ code: 'engine-refused', message: 'the engine said no', hint: 'check it\nthen retry' });
    expect(toIpcError('plain \u0007text')).toEqual({ code: 'internal', message: 'plain text' });
  });
});
