/**
 * Kubernetes as a target: the manifests `archway export kubernetes` writes and `archway kube apply`
 * sends — a Namespace, a ServiceAccount and, per node architecture, a DaemonSet whose init
 * container registers exactly Archway's register strings (the catalog rule, the codec, the flags
 * rules: F required, C only by opt-in with SETUID_RISK named) on every node of that architecture,
 * then a pause container keeps the pod (and its per-node result) around. The uninstall manifests
 * are a DaemonSet too (a Job runs on one node; a DaemonSet reaches every node, including ones
 * added later). Pure: typed objects, no I/O; electron/kube validates them against the Kubernetes
 * API schema (kubernetes-models) before anything is written or sent.
 *
 * The program in the image (build/kube/archway-binfmt.c) decides nothing: for each entry it gets
 * the register string and the text the kernel shows once it is registered (procEntryText), and
 * compares bytes: identical → left alone, absent → registered, different → reported, not replaced
 * (unless --replace was chosen here).
 */
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { IToleration } from 'kubernetes-models/v1/Toleration';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { catalogEntry, DOCKER_PLATFORMS, hexToBytes, nativeCpus, type Cpu } from '../arch/catalog';
import { resolveArchs } from '../arch/resolve';
import { procEntryText } from '../binfmt/entry';
import { SETUID_RISK, SETUID_RISK_MARKER, type Risk } from '../binfmt/flags';
import { buildRegister } from '../binfmt/register';
import { ArchwayError } from '../helper-protocol';
import { decideFlags } from '../plan/install';
import { catalogRule, hasSetuidRisk, hijacksHost } from '../plan/rules';
import type { YamlDocument } from './yaml';

export const KUBE_DEFAULT_NAMESPACE = 'archway-binfmt';
export const KUBE_APP = 'archway-binfmt';
/** Node architectures (kubernetes.io/arch) a DaemonSet is made for unless asked otherwise. */
export const KUBE_DEFAULT_NODE_ARCHS: readonly string[] = ['amd64', 'arm64'];
/** The registration program's path in the image. */
export const KUBE_PROGRAM = '/archway-binfmt';
/** Where the node's binfmt_misc is mounted in the register container. */
export const KUBE_BINFMT_MOUNT = '/archway/binfmt_misc';
export const NODE_BINFMT = '/proc/sys/fs/binfmt_misc';
/** Labels every object carries; `kube status` and `kube delete` select by them. */
export const KUBE_LABELS = { 'app.kubernetes.io/name': KUBE_APP, 'app.kubernetes.io/managed-by': 'archway' } as const;
export const KUBE_ENTRIES_ANNOTATION = 'archway.dev/entries';
/** The export request an install DaemonSet was made from (JSON): `kube delete` re-plans its uninstall from it. */
export const KUBE_REQUEST_ANNOTATION = 'archway.dev/request';

export type EmulatorSource = 'image' | 'node';

export interface KubeExportRequest {
  /** Architectures as the user names them (arm64, linux/s390x, all…). */
  archs: readonly string[];
  /** Image with the registration program at /archway-binfmt, referenced by digest. */
  image: string;
  nodeArchs?: readonly string[];
  flags?: string;
  allowSetuid?: boolean;
  /** `KEY[=VALUE][:EFFECT]`, or `*` (every taint). */
  tolerations?: readonly string[];
  namespace?: string;
  /** image (default): the image's /usr/bin/qemu-<cpu>; node: the node's /usr/bin/qemu-<cpu>-static. */
  emulators?: EmulatorSource;
  /** Replace an entry of the same name that differs, instead of reporting it. */
  replace?: boolean;
}

export interface KubeEntry {
  cpu: Cpu;
  name: string;
  register: string;
  /** What the kernel shows after the state line once this entry is registered. */
  expected: string;
  /** The node's emulator file, mounted read-only at the same path (emulators: node). */
  nodeFile?: string;
}

export interface KubeNodeArchPlan {
  /** kubernetes.io/arch value. */
  nodeArch: string;
  entries: KubeEntry[];
  /** CPUs left out on these nodes, and why (they run natively). */
  skipped: { cpu: Cpu; why: string }[];
}

export interface KubePlan {
  /** What was asked (for the request annotation). */
  request: KubeExportRequest;
  namespace: string;
  image: string;
  emulators: EmulatorSource;
  flags: string;
  replace: boolean;
  tolerations: IToleration[];
  /** Node architectures that get a DaemonSet. */
  nodeArchs: KubeNodeArchPlan[];
  /** Node architectures left alone entirely (every requested CPU runs natively there). */
  untouched: { nodeArch: string; why: string }[];
  risks: Risk[];
}

const DIGEST_REF = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]{1,5})?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const LABEL_KEY = /^(?:[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

function bad(message: string, hint?: string): ArchwayError {
  return new ArchwayError('bad-request', message, hint);
}

/** `KEY[=VALUE][:EFFECT]` or `*` → a toleration. */
export function parseToleration(s: string): IToleration {
  if (s === '*') return { operator: 'Exists' };
  const m = /^([^=:]+)(?:=([^:]*))?(?::([A-Za-z]+))?$/.exec(s);
  const effect = m?.[3];
  if (!m || !LABEL_KEY.test(m[1]!) || (m[2] !== undefined && !LABEL_VALUE.test(m[2])) || (effect !== undefined && !(EFFECTS as readonly string[]).includes(effect))) {
    throw bad(`toleration "${s}": write KEY[=VALUE][:EFFECT] with EFFECT one of ${EFFECTS.join(', ')}, or * for every taint`, 'e.g. --toleration node-role.kubernetes.io/control-plane:NoSchedule');
  }
  return { key: m[1]!, operator: m[2] !== undefined ? 'Equal' : 'Exists', ...(m[2] !== undefined ? { value: m[2] } : {}), ...(effect ? { effect: effect as (typeof EFFECTS)[number] } : {}) };
}

/** The node architectures Kubernetes labels nodes with (kubernetes.io/arch = GOARCH), from the catalog's Docker platforms. */
export function kubeNodeArchs(): string[] {
  return [...new Set(DOCKER_PLATFORMS.map((p) => p.architecture))];
}

/** CPUs a node of this kubernetes.io/arch runs natively (a handler there would hijack its own programs). */
function nativeOn(nodeArch: string): Map<Cpu, string> {
  const p = DOCKER_PLATFORMS.find((x) => x.architecture === nodeArch)!;
  const out = new Map<Cpu, string>([[p.cpu, `${nodeArch} nodes run ${p.cpu} natively`]]);
  for (const n of nativeCpus(p.unameM[0]!)) if (n.native === 'yes') out.set(n.cpu, `${nodeArch} nodes run ${n.cpu} natively (${n.why.replace(/^the host is /, 'the node is ')})`);
  return out;
}

/** Decide everything the manifests say, from the request alone. Throws ArchwayError (bad-request, bad-flags, unknown-arch). */
export function planKubernetes(req: KubeExportRequest): KubePlan {
  if (!DIGEST_REF.test(req.image)) {
    throw bad(`image "${req.image}" is not a reference pinned by digest (REPO@sha256:<64 hex>)`, 'Name the registration image by digest, e.g. registry.example/archway-binfmt@sha256:…; see "Kubernetes" in the README for what it holds.');
  }
  const namespace = req.namespace ?? KUBE_DEFAULT_NAMESPACE;
  if (!DNS_LABEL.test(namespace)) throw bad(`namespace "${namespace}" is not a DNS label (lower-case letters, digits and -, at most 63)`);
  const known = kubeNodeArchs();
  const nodeArchNames = [...new Set(req.nodeArchs ?? KUBE_DEFAULT_NODE_ARCHS)];
  for (const a of nodeArchNames) if (!known.includes(a)) throw bad(`node architecture "${a}" is not a kubernetes.io/arch value Archway knows (${known.join(', ')})`);
  if (req.archs.length === 0) throw bad('name at least one architecture to register, e.g. arm64', 'archway export kubernetes arm64 riscv64 --image REF@sha256:…');
  const emulators = req.emulators ?? 'image';
  // C is chosen explicitly either way: --allow-setuid, or flags that name it (as for local installs).
  const allowSetuid = req.allowSetuid === true || (req.flags?.includes('C') ?? false);
  // `all` here means every catalog CPU with a Docker platform; each node architecture then drops its own.
  const cpus = resolveArchs(req.archs, { allScope: 'docker' });
  const tolerations = (req.tolerations ?? []).map(parseToleration);
  let flags = '';
  const nodeArchs: KubeNodeArchPlan[] = [];
  const untouched: KubePlan['untouched'] = [];
  for (const nodeArch of nodeArchNames) {
    const native = nativeOn(nodeArch);
    const nodeCpu = DOCKER_PLATFORMS.find((x) => x.architecture === nodeArch)!.cpu;
    const entries: KubeEntry[] = [];
    const skipped: KubeNodeArchPlan['skipped'] = [];
    for (const e of cpus) {
      const why = native.get(e.cpu);
      if (why) {
        skipped.push({ cpu: e.cpu, why });
        continue;
      }
      const interpreter = emulators === 'image' ? `/usr/bin/${e.emulator}` : `/usr/bin/${e.emulator}-static`;
      // The same rule as local installs; the way out is spelled for this command.
      const f = decideFlags({ cpu: e.cpu, ...(req.flags !== undefined ? { requested: req.flags } : {}), allowSetuid, preserveArgv0: false, interpreter, command: `archway export kubernetes ${e.cpu} …` });
      flags = f;
      const rule = catalogRule(e.cpu, interpreter, f);
      // The node's own programs start with its CPU's catalog header: the planner's hijack rule decides.
      if (hijacksHost(rule, { header: hexToBytes(catalogEntry(nodeCpu)!.magic) })) {
        skipped.push({ cpu: e.cpu, why: `the ${e.cpu} rule would match ${nodeArch} nodes' own programs` });
        continue;
      }
      const text = procEntryText(rule);
      entries.push({
        cpu: e.cpu,
        name: rule.name,
        register: buildRegister(rule),
        expected: text.slice(text.indexOf('\n') + 1),
        ...(emulators === 'node' ? { nodeFile: interpreter } : {}),
      });
    }
    if (entries.length === 0) untouched.push({ nodeArch, why: skipped.map((s) => s.why).join('; ') || 'nothing to register' });
    else nodeArchs.push({ nodeArch, entries, skipped });
  }
  if (nodeArchs.length === 0) {
    throw new ArchwayError('native-arch', `nothing to register: ${untouched.map((u) => u.why).join('; ')}`, 'Name architectures the nodes do not run natively, or other node architectures with --node-arch.');
  }
  return {
    request: req,
    namespace,
    image: req.image,
    emulators,
    flags,
    replace: req.replace === true,
    tolerations,
    nodeArchs,
    untouched,
    risks: hasSetuidRisk({ flags }) ? [SETUID_RISK_MARKER] : [],
  };
}

export type KubeMode = 'install' | 'uninstall';

export function daemonSetName(mode: KubeMode, nodeArch: string): string {
  return mode === 'install' ? `${KUBE_APP}-${nodeArch}` : `${KUBE_APP}-uninstall-${nodeArch}`;
}

/** What both containers run with: no capabilities, no privilege escalation, read-only root, the runtime's seccomp profile. */
function restricted(): ISecurityContext {
  return { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };
}

function volumeName(cpu: Cpu): string {
  return `emulator-${cpu.replace(/_/g, '-')}`;
}

function daemonSet(plan: KubePlan, p: KubeNodeArchPlan, mode: KubeMode): IDaemonSet {
  const component = mode === 'install' ? 'register' : 'unregister';
  const labels = { ...KUBE_LABELS, 'app.kubernetes.io/component': component, 'archway.dev/node-arch': p.nodeArch };
  const argv =
    mode === 'install'
      ? [KUBE_PROGRAM, 'install', '--dir', KUBE_BINFMT_MOUNT, ...(plan.replace ? ['--replace'] : []), '--', ...p.entries.flatMap((e) => [e.name, e.register, e.expected])]
      : [KUBE_PROGRAM, 'uninstall', '--dir', KUBE_BINFMT_MOUNT, '--', ...p.entries.flatMap((e) => [e.name, e.expected])];
  const emulatorFiles = mode === 'install' ? p.entries.filter((e) => e.nodeFile !== undefined) : [];
  const volumes: IVolume[] = [
    { name: 'binfmt-misc', hostPath: { path: NODE_BINFMT, type: 'Directory' } },
    ...emulatorFiles.map((e): IVolume => ({ name: volumeName(e.cpu), hostPath: { path: e.nodeFile!, type: 'File' } })),
  ];
  const mounts: IVolumeMount[] = [
    { name: 'binfmt-misc', mountPath: KUBE_BINFMT_MOUNT },
    // With F the kernel opens the emulator at registration, in this container's mount namespace:
    // the node's file, mounted read-only at the same path, is the one it pins.
    ...emulatorFiles.map((e) => ({ name: volumeName(e.cpu), mountPath: e.nodeFile!, readOnly: true })),
  ];
  const work: IContainer = {
    name: component,
    image: plan.image,
    imagePullPolicy: 'IfNotPresent',
    command: argv,
    env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
    // uid 0 writes binfmt_misc's root-owned register file; no capability is needed for that.
    securityContext: { ...restricted(), runAsUser: 0, runAsGroup: 0, runAsNonRoot: false },
    volumeMounts: mounts,
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  const pause: IContainer = {
    name: 'pause',
    image: plan.image,
    imagePullPolicy: 'IfNotPresent',
    command: [KUBE_PROGRAM, 'pause'],
    securityContext: { ...restricted(), runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true },
    resources: { requests: { cpu: '1m', memory: '4Mi' }, limits: { cpu: '10m', memory: '8Mi' } },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: daemonSetName(mode, p.nodeArch),
      namespace: plan.namespace,
      labels,
      annotations: {
        [KUBE_ENTRIES_ANNOTATION]: p.entries.map((e) => e.name).join(','),
        'archway.dev/flags': plan.flags,
        ...(mode === 'install' ? { [KUBE_REQUEST_ANNOTATION]: JSON.stringify({ ...plan.request, nodeArchs: [p.nodeArch] }) } : {}),
      },
    },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: KUBE_APP,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 5,
          nodeSelector: { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': p.nodeArch },
          ...(plan.tolerations.length ? { tolerations: plan.tolerations } : {}),
          initContainers: [work],
          containers: [pause],
          volumes,
        },
      },
    },
  };
}

/** The manifests, as typed objects with the comments each document starts with. */
export function kubernetesManifests(plan: KubePlan, mode: KubeMode = 'install'): YamlDocument[] {
  const ns: INamespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: plan.namespace,
      // hostPath volumes are allowed only at the "privileged" Pod Security level.
      labels: { ...KUBE_LABELS, 'pod-security.kubernetes.io/enforce': 'privileged' },
    },
  };
  const sa: IServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: KUBE_APP, namespace: plan.namespace, labels: { ...KUBE_LABELS } },
    automountServiceAccountToken: false,
  };
  const header = [
    `Generated by archway export kubernetes${mode === 'uninstall' ? ' --uninstall' : ''}.`,
    mode === 'install'
      ? 'On every node of each listed architecture the init container "register" writes these binfmt_misc entries (an identical entry is left alone; a different one is reported in the pod log, not replaced), prints one JSON line (kubectl logs -n NS ds/NAME -c register), and the "pause" container keeps the pod.'
      : 'On every node of each listed architecture the init container "unregister" removes the entries the install DaemonSet registers (only when they are exactly those), prints one JSON line, and the "pause" container keeps the pod. Delete it once every pod is running.',
    ...plan.nodeArchs.map((p) => `${p.nodeArch} nodes: ${p.entries.map((e) => `${e.name} (flags ${plan.flags})`).join(', ')}${p.skipped.length ? `; skipped: ${p.skipped.map((s) => s.why).join('; ')}` : ''}`),
    ...plan.untouched.map((u) => `${u.nodeArch} nodes: left alone (${u.why})`),
    plan.emulators === 'image'
      ? 'Emulators come from the image (/usr/bin/qemu-<cpu>, built for the node\'s architecture): with flag F the kernel opens them at registration, in the pod, and keeps them open after it ends.'
      : 'Emulators come from each node (/usr/bin/qemu-<cpu>-static, from qemu-user-static), mounted read-only at the same path: with flag F the kernel opens that file at registration.',
    ...(plan.risks.length ? plan.risks.map((r) => `RISK: ${r.message}`) : []),
  ];
  return [
    { comments: header, value: ns as never },
    { value: sa as never },
    ...plan.nodeArchs.map((p) => ({ ...(plan.risks.length && mode === 'install' ? { comments: [`RISK (flag C): ${SETUID_RISK}`] } : {}), value: daemonSet(plan, p, mode) as never })),
  ];
}
