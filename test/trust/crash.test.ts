/**
 * Crash safety, for real: the built helper, inside a private binfmt_misc (user + mount namespace),
 * is SIGKILLed at every named step of multi-arch batches (ARCHWAY_TEST_KILL_AT, honoured only when
 * the helper runs directly as root). After the next helper run (start-up reconcile):
 *   - the state is consistent: every handler is either fully registered with its ownership record
 *     and its persist file, or absent; no journal entry, temp file or orphan persist file is left;
 *   - each handler of the batch is exactly in its state from before the batch or from after it;
 *   - the user's own handlers (and a handler Archway took over) are untouched or restored exactly;
 *   - the audit log parses line by line and names every handler whose kernel entry changed;
 *   - repeating the same request completes it, to the same end state as an uninterrupted run.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { CATALOG } from '../../shared/arch/catalog';
import { buildRegister } from '../../shared/binfmt/register';
import { catalogRule } from '../../shared/status';
import type { HelperRequest } from '../../shared/helper-protocol';
import { REPO_ROOT } from '../fixtures/foreign';
import { privateBinfmt, requireBuilt, type PrivateBinfmt } from '../kernel/namespace';
import { cliIn, consistencyProblems, flushIn, gather, readAuditLines, readRecordFile, registerIn, runHelperIn, type ConsistencyInput } from './support';

const USERS_OWN = [
  ':users-jar:E::archwaytestjar::/bin/true:',
  buildRegister({ ...catalogRule('riscv64', '/usr/bin/qemu-riscv64-static', 'F'), name: 'users-riscv64' }),
];
/** A qemu-s390x from "another tool" (flags F, plain static emulator), for take-over scenarios. */
const OTHER_TOOLS_S390X = buildRegister(catalogRule('s390x', '/usr/bin/qemu-s390x-static', 'F'));

interface Scenario {
  title: string;
  /** Brings the machine to the "before" state (uninterrupted helper runs and/or foreign registrations). */
  setup: (ns: PrivateBinfmt, root: string) => Promise<void>;
  request: HelperRequest;
  /** Kill points this batch passes through, in order ('step@cpu'). */
  steps: string[];
}

const req = (ops: HelperRequest['ops']): HelperRequest => ({ version: 1, ops });
const must = async (ns: PrivateBinfmt, root: string, r: HelperRequest) => {
  const res = await runHelperIn(ns, root, r);
  if (res.code !== 0) throw new Error(`setup request failed (${res.code}): ${res.stdout}${res.stderr}`);
};

const INSTALL_STEPS = ['journaled', 'persisted', 'registered', 'recorded'];
const stepsFor = (op: string, names: string[], cpus: string[]) => cpus.flatMap((c) => names.map((n) => `${op}:${n}@${c}`));

const SCENARIOS: Scenario[] = [
  {
    title: 'install a fresh batch (aarch64 + s390x, persist)',
    setup: async () => {},
    request: req([
      { op: 'install', arch: 'aarch64', persist: true },
      { op: 'install', arch: 's390x', persist: true },
    ]),
    steps: stepsFor('install', INSTALL_STEPS, ['aarch64', 's390x']),
  },
  {
    title: 'replace owned handlers (new flags for aarch64, persist on for s390x)',
    setup: async (ns, root) =>
      must(ns, root, req([
        { op: 'install', arch: 'aarch64', persist: true },
        { op: 'install', arch: 's390x' },
      ])),
    request: req([
      { op: 'install', arch: 'aarch64', flags: 'F' },
      { op: 'install', arch: 's390x', persist: true },
    ]),
    steps: [
      ...stepsFor('install', ['journaled', 'persisted', 'removed-old', 'registered', 'recorded'], ['aarch64']),
      ...stepsFor('install', ['journaled', 'persisted', 'registered', 'recorded'], ['s390x']),
    ],
  },
  {
    title: "take over another tool's qemu-s390x in a batch with aarch64",
    setup: async (ns) => registerIn(ns, OTHER_TOOLS_S390X),
    request: req([
      { op: 'install', arch: 's390x', takeOver: true, persist: true },
      { op: 'install', arch: 'aarch64' },
    ]),
    steps: [
      ...stepsFor('install', ['journaled', 'persisted', 'removed-old', 'registered', 'recorded'], ['s390x']),
      ...stepsFor('install', INSTALL_STEPS, ['aarch64']),
    ],
  },
  {
    title: 'uninstall a batch (persisted aarch64, taken-over s390x whose previous owner is restored)',
    setup: async (ns, root) => {
      await registerIn(ns, OTHER_TOOLS_S390X);
      await must(ns, root, req([
        { op: 'install', arch: 'aarch64', persist: true },
        { op: 'install', arch: 's390x', takeOver: true },
      ]));
    },
    request: req([
      { op: 'uninstall', arch: 'aarch64' },
      { op: 'uninstall', arch: 's390x' },
    ]),
    steps: stepsFor('uninstall', ['journaled', 'unpersisted', 'removed', 'recorded'], ['aarch64', 's390x']),
  },
  {
    title: 'persist on and off in one batch',
    setup: async (ns, root) =>
      must(ns, root, req([
        { op: 'install', arch: 'aarch64' },
        { op: 'install', arch: 's390x', persist: true },
      ])),
    request: req([
      { op: 'persist', arch: 'aarch64', on: true },
      { op: 'persist', arch: 's390x', on: false },
    ]),
    steps: stepsFor('persist', ['written', 'recorded'], ['aarch64', 's390x']),
  },
];

let base: string;
let counter = 0;
const namespaces: PrivateBinfmt[] = [];

beforeAll(() => {
  requireBuilt(REPO_ROOT);
  base = mkdtempSync(join(tmpdir(), 'archway-crash-'));
  chmodSync(base, 0o755);
});

afterAll(async () => {
  await Promise.all(namespaces.map((n) => n.close()));
  if (base) rmSync(base, { recursive: true, force: true });
});

/** A fresh ARCHWAY_ROOT and an empty kernel table holding only the user's own handlers. */
async function fresh(ns: PrivateBinfmt): Promise<string> {
  await flushIn(ns, USERS_OWN);
  return join(base, `run-${++counter}`);
}

const handlerNames = (r: HelperRequest) => r.ops.map((o) => ('arch' in o ? CATALOG.find((c) => c.cpu === o.arch)!.handlerName : '')).filter(Boolean);
const recView = (s: ConsistencyInput, name: string) => {
  const h = s.record.handlers[name];
  return h ? { register: h.register, persist: h.persist } : undefined;
};

// Each scenario has its own private binfmt_misc, so they run side by side.
describe.concurrent('SIGKILL at every step of a batch, then the next helper run', () => {
  for (const sc of SCENARIOS) {
    it(sc.title, async ({ expect }) => {
      const ns = await privateBinfmt();
      namespaces.push(ns);
      // The reference: the same batch, uninterrupted.
      const refRoot = await fresh(ns);
      await sc.setup(ns, refRoot);
      const before = await gather(ns, refRoot);
      const done = await runHelperIn(ns, refRoot, sc.request);
      expect(done.code, done.stdout + done.stderr).toBe(0);
      const after = await gather(ns, refRoot);
      expect(consistencyProblems(after)).toEqual([]);
      const names = handlerNames(sc.request);

      for (const [i, step] of sc.steps.entries()) {
        const root = await fresh(ns);
        await sc.setup(ns, root);
        const start = new Date().toISOString();
        const killed = await runHelperIn(ns, root, sc.request, { ARCHWAY_TEST_KILL_AT: step });
        expect.soft(killed.killed, `kill point ${step} was never reached (exit ${killed.code}): ${killed.stdout.slice(0, 300)}${killed.stderr}`).toBe(true);
        if (!killed.killed) continue;

        // The next run of the helper (any request; this one changes nothing by itself) repairs.
        const next = await runHelperIn(ns, root, { version: 1, ops: [{ op: 'mount' }] });
        expect.soft(next.code, `${step}: ${next.stdout}${next.stderr}`).toBe(0);
        const now = await gather(ns, root);
        expect.soft(consistencyProblems(now), `after a kill at ${step}`).toEqual([]);

        for (const name of names) {
          // Each handler is exactly as before the batch or as after it: never a third state.
          const k = now.kernel[name];
          expect.soft([before.kernel[name], after.kernel[name]], `${step}: kernel entry ${name}`).toContainEqual(k);
          expect.soft([recView(before, name), recView(after, name)], `${step}: record of ${name}`).toContainEqual(recView(now, name));
          if (k === before.kernel[name] && k !== after.kernel[name]) expect.soft(recView(now, name), `${step}: ${name} rolled back`).toEqual(recView(before, name));
          if (k === after.kernel[name] && k !== before.kernel[name]) expect.soft(recView(now, name), `${step}: ${name} rolled forward`).toEqual(recView(after, name));
        }
        // The user's own handlers: untouched.
        for (const n of ['users-jar', 'users-riscv64']) expect.soft(now.kernel[n], `${step}: ${n}`).toBe(before.kernel[n]);

        // The audit log: every line parses, and every handler whose kernel entry changed is named.
        const audit = readAuditLines(root);
        expect.soft(audit.filter((l) => typeof l === 'string'), `${step}: torn audit lines`).toEqual([]);
        for (const name of names) {
          if (now.kernel[name] !== before.kernel[name]) {
            const named = audit.some((e) => typeof e !== 'string' && e.time >= start && e.name === name);
            expect.soft(named, `${step}: ${name} changed but the audit log does not say so`).toBe(true);
          }
        }

        // Status agrees: no drift reported for any handler (the CLI is slow-ish: first and last kill point).
        if (i === 0 || i === sc.steps.length - 1) {
          const st = await cliIn(ns, root, ['status', '--json']);
          expect.soft(st.code, st.stderr).toBe(0);
          const drift = (JSON.parse(st.stdout) as { handlers: { name: string; checks: { id: string }[] }[] }).handlers.filter((h) => h.checks.some((c) => c.id === 'record-drift'));
          expect.soft(drift.map((h) => h.name), `${step}: status shows drift`).toEqual([]);
        }

        // Asking again for what is not done yet finishes the job, to the same end state as the
        // uninterrupted run.
        const rest = sc.request.ops.filter((o) => {
          const name = handlerNames({ version: 1, ops: [o] })[0]!;
          return now.kernel[name] !== after.kernel[name] || JSON.stringify(recView(now, name)) !== JSON.stringify(recView(after, name)) || (`${name}.conf` in now.persistFiles) !== (`${name}.conf` in after.persistFiles);
        });
        if (rest.length > 0) {
          const again = await runHelperIn(ns, root, { version: 1, ops: rest });
          expect.soft(again.code, `${step}: repeating the request: ${again.stdout}${again.stderr}`).toBe(0);
        }
        const end = await gather(ns, root);
        expect.soft(consistencyProblems(end)).toEqual([]);
        for (const name of names) {
          expect.soft(end.kernel[name], `${step}: end state of ${name}`).toBe(after.kernel[name]);
          expect.soft(recView(end, name), `${step}: end record of ${name}`).toEqual(recView(after, name));
        }
        expect.soft(Object.keys(end.persistFiles).sort()).toEqual(Object.keys(after.persistFiles).sort());
        expect.soft(readRecordFile(root).pending).toBeUndefined();
      }
    });
  }
});
