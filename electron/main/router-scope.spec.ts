import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HelperRequest } from '../../shared/helper-protocol';
import { Engine } from '../engine';
import { archwayPaths } from '../engine/paths';
import { DockerGateway } from './docker';
import { createRouter } from './router';
import { StateFile } from './state';

// A plan with intent.scope is planned and applied by that rootless engine's face, never the host's
// (issue 10). Both engines are real Engines on private file trees; only who is asked is checked.
const root = mkdtempSync(join(tmpdir(), 'archway-router-scope-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('router: rootless scopes', () => {
  it('plan/apply with intent.scope go to the rootless engine; without it to the host; no gateway is a clear refusal', async () => {
    const applied: string[] = [];
    class Counting extends Engine {
      constructor(
        readonly who: string,
        dir: string,
      ) {
        super({ paths: archwayPaths(join(root, dir), join(root, dir, 'binfmt_misc')) });
      }
      override async apply(request: HelperRequest) {
        applied.push(this.who);
        return { response: { version: 1, ok: true, dryRun: false, results: request.ops.map((o) => ({ op: o.op, ok: true, changed: false, message: 'counted' })) }, exitCode: 0, stderr: '' } as never;
      }
    }
    const host = new Counting('host', 'host');
    const podman = new Counting('podman', 'podman');
    const asked: string[] = [];
    const mk = (withGateway: boolean) =>
      createRouter({
        engine: host,
        docker: new DockerGateway({ env: { DOCKER_HOST: `unix://${join(root, 'docker.sock')}` }, connectTimeoutMs: 500 }),
        prefs: new StateFile(join(root, 'state.json')),
        emit: () => {},
        app: { version: '0', shell: 'unit' },
        ...(withGateway
          ? {
              rootless: {
                scopes: () => [],
                engine: async (scope: 'podman' | 'docker') => {
                  asked.push(scope);
                  return podman;
                },
                reapply: async () => ({ ok: true, results: [], repairs: [], exitCode: 0 }),
              },
            }
          : {}),
      });
    const router = mk(true);
    const scoped = await router.handlers.plan({ action: 'install', archs: ['s390x'], scope: 'podman' } as never);
    expect(asked).toEqual(['podman']);
    expect(scoped.preview?.results[0]?.message).toMatch(/register qemu-s390x/);
    await router.handlers.apply({ planId: scoped.planId } as never);
    const plain = await router.handlers.plan({ action: 'install', archs: ['s390x'] } as never);
    await router.handlers.apply({ planId: plain.planId } as never);
    expect(applied).toEqual(['podman', 'host']);
    router.dispose();

    const none = mk(false);
    await expect(none.handlers.plan({ action: 'install', archs: ['s390x'], scope: 'docker' } as never)).rejects.toMatchObject({ code: 'unavailable' });
    expect(await none.handlers.getScopes(undefined as never)).toEqual([]);
    none.dispose();
  });
});
