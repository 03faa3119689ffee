/**
 * The Machines view's path in main, run as its own process (bundled by fleet.test.ts) so that ssh
 * sees the test's ~/.ssh (see hosts.ts withHome): the real router with the real ContextFleetGateway.
 * argv: <registrar image> <target> <model> <probe image> <contexts,comma,separated>
 * Prints one JSON line: the matrix, the plan shown, what the apply returned, the probes.
 */
import { ContextFleetGateway } from '../../electron/main/fleet';
import { createRouter } from '../../electron/main/router';

const [registrar, target, model, image, contexts] = process.argv.slice(2) as [string, string, string, string, string];
const failing = new Proxy({}, { get: (_t, k) => () => Promise.reject(new Error(`${String(k)} is not part of the Machines view`)) }) as never;

async function main(): Promise<unknown> {
  const router = createRouter({
    engine: failing,
    docker: failing,
    fleet: new ContextFleetGateway({ registrar, boundMs: 5000 }),
    prefs: { get: () => ({ lastView: 'machines' }), set: (p) => ({ lastView: 'machines', ...p }) },
    emit: () => {},
    app: { version: '0.1.0', shell: 'unit' },
  });
  try {
    const list = contexts.split(',');
    const matrix = await router.handlers.getFleet({ contexts: list, baseline: model } as never);
    const plan = await router.handlers.planFleetMatch({ target, model } as never);
    // The same plan shown twice; once the first is applied the host is no longer what the second showed.
    const stale = await router.handlers.planFleetMatch({ target, model } as never);
    const applied = await router.handlers.applyFleetPlan({ planId: plan.planId } as never);
    const staleApplied = await router.handlers.applyFleetPlan({ planId: stale.planId } as never);
    let reused: unknown;
    try {
      await router.handlers.applyFleetPlan({ planId: plan.planId } as never);
    } catch (err) {
      reused = { code: (err as { code?: string }).code };
    }
    const probes = await router.handlers.probeFleet({ image, platform: 'linux/arm64', contexts: list } as never);
    return { matrix, plan, applied, reused, staleApplied, probes };
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
