/**
 * `archway export kubernetes …` and `archway kube status|apply|delete`. The manifests come from
 * shared/kube/manifests.ts (the planner's catalog, codec and flags rules) and are validated against
 * the Kubernetes API schema before anything is written or sent; the cluster half
 * (electron/kube/cluster.ts, @kubernetes/client-node) is loaded only by `kube` and `fleet status --kube`.
 */
import * as fs from 'node:fs';
import { CATALOG_CPUS } from '../../shared/arch/catalog';
import { SETUID_RISK } from '../../shared/binfmt/flags';
import type { FleetHost } from '../../shared/fleet';
import type { KubeExportRequest, KubePlan } from '../../shared/kube/manifests';
import { EXIT } from './exit-codes';
import { optionValue, UsageError, type ParsedLine } from './parse';
import type { Term } from './term';

export interface KubeIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  term: Term;
}

function values(p: ParsedLine, name: string): string[] {
  const v = p.options.get(name);
  return Array.isArray(v) ? v : [];
}

/** The export request the options describe (both commands take the same ones). */
export function kubeRequest(p: ParsedLine, archs: string[]): KubeExportRequest {
  const image = optionValue(p, '--image');
  if (image === undefined) {
    throw new UsageError(`${p.command!.name}: --image REF@sha256:DIGEST is required: the image with Archway's registration program (see "Kubernetes" in the README)`, p.command);
  }
  const nodeArchs = values(p, '--node-arch').flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  const flags = optionValue(p, '--flags');
  const namespace = optionValue(p, '--namespace');
  const emulators = optionValue(p, '--emulators') as KubeExportRequest['emulators'];
  return {
    archs,
    image,
    ...(nodeArchs.length ? { nodeArchs } : {}),
    ...(flags !== undefined ? { flags } : {}),
    ...(p.options.has('--allow-setuid') ? { allowSetuid: true } : {}),
    ...(values(p, '--toleration').length ? { tolerations: values(p, '--toleration') } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(emulators !== undefined ? { emulators } : {}),
    ...(p.options.has('--replace') ? { replace: true } : {}),
  };
}

/** What the plan does, for stderr: per node architecture, what is registered and what is skipped; the risk. */
export function describePlan(plan: KubePlan): string {
  const lines = [
    ...plan.nodeArchs.map((n) => `  ${n.nodeArch} nodes: ${n.entries.map((e) => e.name).join(', ')} (flags ${plan.flags})${n.skipped.length ? `; skipped: ${n.skipped.map((s) => s.cpu).join(', ')} (native)` : ''}`),
    ...plan.untouched.map((u) => `  ${u.nodeArch} nodes: left alone (${u.why})`),
  ];
  const risk = plan.risks.length ? `RISK (flag C): ${SETUID_RISK}\n` : '';
  return `${lines.join('\n')}\n${risk}`;
}

export async function runExport(p: ParsedLine, io: KubeIo): Promise<number> {
  const [target, ...archs] = p.positional;
  if (target !== 'kubernetes') throw new UsageError('export: say kubernetes', p.command);
  const { exportKubernetes } = await import('../kube/export');
  const uninstall = p.options.has('--uninstall');
  const r = await exportKubernetes(kubeRequest(p, archs), uninstall ? 'uninstall' : 'install');
  const file = optionValue(p, '--output');
  if (file !== undefined && file !== '-') {
    fs.writeFileSync(file, r.yaml, { mode: 0o644 });
  } else io.stdout(r.yaml);
  const where = file !== undefined && file !== '-' ? file : 'standard output';
  const ns = r.plan.namespace;
  io.stderr(
    `archway: wrote ${r.documents.length} documents to ${where}, validated against the Kubernetes API schema:\n${describePlan(r.plan)}` +
      (uninstall
        ? `Apply it after deleting the install DaemonSets; each node's result: kubectl logs -n ${ns} -l app.kubernetes.io/component=unregister -c unregister --prefix\n`
        : `Apply: kubectl apply -f ${file ?? 'FILE'}; each node's result: kubectl logs -n ${ns} -l app.kubernetes.io/component=register -c register --prefix\n`),
  );
  return EXIT.ok;
}

/** nodes × platforms: the fleet table (`archway fleet status`), the nodes as its hosts. */
async function nodesTable(rows: FleetHost[], term: Term): Promise<string> {
  if (rows.length === 0) return 'No nodes.\n';
  const { formatMatrix } = await import('./fleet');
  const shown = new Set(rows.flatMap((r) => r.cells.map((c) => c.cpu)));
  return formatMatrix({ cpus: CATALOG_CPUS.filter((c) => shown.has(c)), hosts: rows, differences: [] }, term);
}

export async function runKube(p: ParsedLine, io: KubeIo): Promise<number> {
  const [action, ...archs] = p.positional;
  const cluster = await import('../kube/cluster');
  const timeout = optionValue(p, '--timeout');
  const timeoutMs = timeout === undefined ? 120_000 : Number(timeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('kube: --timeout takes seconds, e.g. --timeout 300', p.command);
  const namespace = optionValue(p, '--namespace');
  const json = p.options.has('--json');
  if (action === 'status') {
    if (archs.length) throw new UsageError('kube status takes no architectures', p.command);
    const rows = await cluster.kubeStatus({ ...(namespace !== undefined ? { namespace } : {}) });
    io.stdout(json ? `${JSON.stringify({ nodes: rows }, null, 2)}\n` : await nodesTable(rows, io.term));
    return rows.some((r) => r.cells.some((c) => c.state === 'broken' || c.state === 'conflict')) ? EXIT.failed : EXIT.ok;
  }
  if (action === 'apply') {
    if (archs.length === 0) throw new UsageError('kube apply: name at least one architecture (or all), e.g. archway kube apply arm64 --image REF@sha256:…', p.command);
    const req = kubeRequest(p, archs);
    const r = await cluster.kubeApply(req, { timeoutMs, progress: (m) => io.stderr(`${m}\n`) });
    io.stdout(json ? `${JSON.stringify({ nodes: r.rows }, null, 2)}\n` : await nodesTable(r.rows, io.term));
    return r.ok ? EXIT.ok : EXIT.failed;
  }
  if (action === 'delete') {
    if (archs.length) throw new UsageError('kube delete takes no architectures: it removes what the installed DaemonSets registered', p.command);
    const r = await cluster.kubeDelete({ ...(namespace !== undefined ? { namespace } : {}), timeoutMs, progress: (m) => io.stderr(`${m}\n`) });
    io.stdout(json ? `${JSON.stringify(r, null, 2)}\n` : `${r.lines.join('\n')}\n`);
    return r.ok ? EXIT.ok : EXIT.failed;
  }
  throw new UsageError('kube: say status, apply or delete', p.command);
}
