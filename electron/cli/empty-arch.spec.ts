import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine';
import { archwayPaths } from '../engine/paths';
import { EXIT } from './exit-codes';
import { main } from './main';

const root = mkdtempSync(join(tmpdir(), 'archway-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('archway with an empty architecture name', () => {
  it('is a usage error (exit 2) for every command that takes architectures, and asks nothing of the helper', async () => {
    const engine = new Engine({ paths: archwayPaths(root, join(root, 'binfmt')) });
    for (const argv of [['install', ''], ['install', 'arm64,'], ['install', ' '], ['uninstall', ''], ['drop-c', ''], ['persist', 'on', '']]) {
      let out = '';
      let err = '';
      const code = await main(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) }, engine);
      expect(code, `${argv.join(' ')}: ${err}`).toBe(EXIT.usage);
      expect(err).toMatch(/empty architecture/);
      expect(out).toBe('');
    }
  });
});
