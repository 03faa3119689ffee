// Test-only: turns one container of a generated Kubernetes pod spec into the Docker Engine API
// create call a kubelet (with a Docker-compatible runtime) would make for it, mechanically, from
// the object the export wrote — never a hand copy. Every field it does not know how to translate
// is an error, so a new securityContext field or volume kind cannot be silently dropped.
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';

/** Pod fields that only steer scheduling or the API object, not what the runtime starts. */
const SCHEDULING_ONLY = new Set([
  'nodeSelector',
  'affinity',
  'tolerations',
  'serviceAccountName',
  'automountServiceAccountToken',
  'enableServiceLinks',
  'terminationGracePeriodSeconds',
  'priorityClassName',
  'restartPolicy',
  'initContainers',
  'containers',
  'volumes',
]);
const CONTAINER_FIELDS = new Set(['name', 'image', 'imagePullPolicy', 'command', 'args', 'env', 'securityContext', 'volumeMounts', 'resources', 'terminationMessagePolicy']);
const SECURITY_FIELDS = new Set(['privileged', 'runAsUser', 'runAsGroup', 'runAsNonRoot', 'readOnlyRootFilesystem', 'allowPrivilegeEscalation', 'capabilities', 'seccompProfile']);

function unknown(what: string, keys: string[], known: Set<string>): void {
  const bad = keys.filter((k) => !known.has(k));
  if (bad.length) throw new Error(`pod-to-docker: ${what} has fields this translator does not know: ${bad.join(', ')}`);
}

/** Kubernetes quantities: "10m" CPU → 0.01; "16Mi" → bytes. */
export function cpuCores(q: string | number): number {
  const s = String(q);
  return s.endsWith('m') ? Number(s.slice(0, -1)) / 1000 : Number(s);
}
export function bytes(q: string | number): number {
  const m = /^(\d+)(Ki|Mi|Gi|k|M|G)?$/.exec(String(q));
  if (!m) throw new Error(`pod-to-docker: cannot read quantity ${q}`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

export interface Translated {
  /** The create body for POST /containers/create. */
  body: Record<string, unknown>;
  /** What the translation decided, for messages. */
  container: IContainer;
}

/**
 * The create body for container `name` (an init container or a regular one) of `pod`. The image is
 * referenced exactly as the spec names it (by digest). `nodeName` is what the downward API's
 * spec.nodeName gives (the kubelet fills it in).
 */
export function translateContainer(pod: IPodSpec, name: string, nodeName = os.hostname()): Translated {
  unknown('the pod spec', Object.keys(pod), SCHEDULING_ONLY);
  const all = [...(pod.initContainers ?? []), ...pod.containers];
  const c = all.find((x) => x.name === name);
  if (!c) throw new Error(`pod-to-docker: no container named ${name}`);
  unknown(`container ${name}`, Object.keys(c), CONTAINER_FIELDS);
  if (!c.image) throw new Error(`pod-to-docker: container ${name} has no image`);

  const env: string[] = [];
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env.push(`${e.name}=${e.value}`);
    else if (e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName') env.push(`${e.name}=${nodeName}`);
    else throw new Error(`pod-to-docker: env ${e.name}: only plain values and fieldRef spec.nodeName are translated`);
  }

  const sc = c.securityContext ?? {};
  unknown(`container ${name}'s securityContext`, Object.keys(sc), SECURITY_FIELDS);
  if (sc.seccompProfile && sc.seccompProfile.type !== 'RuntimeDefault') throw new Error('pod-to-docker: only the RuntimeDefault seccomp profile is translated');
  const hostConfig: Record<string, unknown> = {
    Privileged: sc.privileged === true,
    ReadonlyRootfs: sc.readOnlyRootFilesystem === true,
    CapDrop: sc.capabilities?.drop ?? [],
    CapAdd: sc.capabilities?.add ?? [],
    // allowPrivilegeEscalation: false is the no_new_privs bit, which Docker sets with this option.
    SecurityOpt: sc.allowPrivilegeEscalation === false ? ['no-new-privileges'] : [],
    Mounts: [] as unknown[],
    // A pod has a network namespace; nothing in the spec under test uses it. "none" gives the
    // container its own namespace with only loopback, and keeps the test off the daemon's bridge.
    NetworkMode: 'none',
  };
  if (sc.runAsNonRoot === true && sc.runAsUser === 0) throw new Error('pod-to-docker: runAsNonRoot with runAsUser 0 would not start');
  const user = sc.runAsUser !== undefined ? `${sc.runAsUser}${sc.runAsGroup !== undefined ? `:${sc.runAsGroup}` : ''}` : undefined;

  for (const m of c.volumeMounts ?? []) {
    const v = (pod.volumes ?? []).find((x) => x.name === m.name);
    if (!v) throw new Error(`pod-to-docker: volume ${m.name} is not declared`);
    unknown(`volume ${v.name}`, Object.keys(v), new Set(['name', 'hostPath']));
    const hp = v.hostPath!;
    // hostPath types are checked by the kubelet before the container starts.
    const st = fs.statSync(hp.path, { throwIfNoEntry: false });
    if (hp.type === 'Directory' && !st?.isDirectory()) throw new Error(`pod-to-docker: hostPath ${hp.path} is not a directory (the kubelet would refuse to start the pod)`);
    if (hp.type === 'File' && !st?.isFile()) throw new Error(`pod-to-docker: hostPath ${hp.path} is not a file (the kubelet would refuse to start the pod)`);
    if (hp.type !== undefined && hp.type !== 'Directory' && hp.type !== 'File') throw new Error(`pod-to-docker: hostPath type ${hp.type} is not translated`);
    (hostConfig.Mounts as unknown[]).push({ Type: 'bind', Source: hp.path, Target: m.mountPath, ReadOnly: m.readOnly === true, BindOptions: { Propagation: 'rprivate' } });
  }

  const lim = c.resources?.limits ?? {};
  const req = c.resources?.requests ?? {};
  if (lim.memory !== undefined) hostConfig.Memory = bytes(lim.memory);
  if (lim.cpu !== undefined) hostConfig.NanoCpus = Math.round(cpuCores(lim.cpu) * 1e9);
  // The kubelet turns a CPU request into cgroup shares (milli-CPU × 1024 / 1000, at least 2).
  if (req.cpu !== undefined) hostConfig.CpuShares = Math.max(2, Math.round(cpuCores(req.cpu) * 1024));

  const body: Record<string, unknown> = {
    Image: c.image,
    // command replaces the image's ENTRYPOINT and args its CMD; with command alone, the image's CMD is dropped.
    Entrypoint: c.command ?? null,
    Cmd: c.args ?? (c.command ? [] : null),
    Env: env,
    HostConfig: hostConfig,
    ...(user !== undefined ? { User: user } : {}),
    Labels: { 'dev.archway.test': 'kube-pod-to-docker' },
  };
  return { body, container: c };
}
