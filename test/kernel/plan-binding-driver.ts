/**
 * Runs inside a private binfmt_misc namespace (bundled by plan-binding.test.ts): plan an install of
 * s390x with an explicit emulator file, optionally swap that file, then apply — through the Engine
 * exactly as the CLI does (engine.plan → engine.apply), or through the desktop's router (plan id →
 * apply). Prints one JSON line with what the apply returned.
 * argv: <mode engine|router> <root> <helper> <interpreter> <swap-with file or "-">
 */
import { copyFileSync, renameSync } from 'node:fs';
import type { Intent } from '../../shared/actions';
import { Engine } from '../../electron/engine';
import { archwayPaths } from '../../electron/engine/paths';
import { createRouter } from '../../electron/main/router';

const [mode, root, helper, interpreter, swapWith] = process.argv.slice(2) as [string, string, string, string, string];
const engine = new Engine({ paths: archwayPaths(root), elevate: { helperPath: helper } });
const intent: Intent = { action: 'install', archs: ['s390x'], source: { path: interpreter } };

function swap(): void {
  if (swapWith === '-') return;
  const tmp = `${interpreter}.swap`;
  copyFileSync(swapWith, tmp);
  renameSync(tmp, interpreter);
}

async function main(): Promise<unknown> {
  if (mode === 'engine') {
    const plan = await engine.plan(intent);
    if (!plan.preview?.ok || !plan.request) return { planned: false, preview: plan.preview };
    swap();
    const run = await engine.apply(plan.request);
    return { planned: true, ok: run.response.ok, error: run.response.error, exitCode: run.exitCode };
  }
  const router = createRouter({
    engine,
    // Plan and apply never reach the container engine; the real gateway (dockerode) cannot be bundled
    // into this single file, so its place is held by an object that fails if it is ever used.
    docker: new Proxy({}, { get: (_t, k) => () => Promise.reject(new Error(`docker.${String(k)} is not part of plan/apply`)) }) as never,
    prefs: { get: () => ({ lastView: 'architectures' }), set: (p) => ({ lastView: 'architectures', ...p }) },
    emit: () => {},
    app: { version: '0.1.0', shell: 'unit' },
  });
  try {
    const plan = await router.handlers.plan(intent as never);
    if (!plan.preview?.ok) return { planned: false, preview: plan.preview };
    swap();
    try {
      const applied = await router.handlers.apply({ planId: plan.planId } as never);
      return { planned: true, ok: applied.ok, error: applied.error, results: applied.results };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      return { planned: true, ok: false, error: { code: e.code, message: e.message } };
    }
  } finally {
    router.dispose();
  }
}

main().then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (err) => {
    process.stdout.write(`${JSON.stringify({ crashed: String((err as Error).stack ?? err) })}\n`);
    process.exitCode = 1;
  },
);
