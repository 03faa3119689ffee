import { describe, expect, it } from 'vitest';
import { parseProcEntry, procEntryText } from '../binfmt/entry';
import { SETUID_RISK } from '../binfmt/flags';
import { buildRegister } from '../binfmt/register';
import { catalogRule } from '../plan/rules';
import { daemonSetName, kubernetesManifests, parseToleration, planKubernetes, type KubeExportRequest } from './manifests';
import { kubeNodeRow, NODE_RESULT_SCHEMA, parseNodeResult } from './result';
import { toYaml, yamlDocuments } from './yaml';

const IMAGE = `registry.example/archway/binfmt@sha256:${'ab'.repeat(32)}`;
const req = (r: Partial<KubeExportRequest> = {}): KubeExportRequest => ({ archs: ['arm64', 'riscv64'], image: IMAGE, ...r });

describe('planKubernetes', () => {
  it('registers the catalog rule with F for each node architecture, skipping what it runs natively', () => {
    const plan = planKubernetes(req({ nodeArchs: ['amd64', 'arm64'] }));
    expect(plan.flags).toBe('F');
    expect(plan.risks).toEqual([]);
    const amd = plan.nodeArchs.find((n) => n.nodeArch === 'amd64')!;
    const arm = plan.nodeArchs.find((n) => n.nodeArch === 'arm64')!;
    expect(amd.entries.map((e) => e.name)).toEqual(['qemu-aarch64', 'qemu-riscv64']);
    expect(arm.entries.map((e) => e.name)).toEqual(['qemu-riscv64']);
    expect(arm.skipped.map((s) => s.cpu)).toEqual(['aarch64']);
    // The very string a local install writes for the same emulator and flags.
    expect(amd.entries[0]!.register).toBe(buildRegister(catalogRule('aarch64', '/usr/bin/qemu-aarch64', 'F')));
  });

  it('leaves a node architecture alone when everything asked runs natively there, and refuses when nothing is left', () => {
    const plan = planKubernetes(req({ archs: ['arm64'], nodeArchs: ['amd64', 'arm64'] }));
    expect(plan.nodeArchs.map((n) => n.nodeArch)).toEqual(['amd64']);
    expect(plan.untouched).toEqual([{ nodeArch: 'arm64', why: expect.stringContaining('natively') }]);
    expect(() => planKubernetes(req({ archs: ['amd64', '386'], nodeArchs: ['amd64'] }))).toThrow(expect.objectContaining({ code: 'native-arch' }));
  });

  it('applies the flags rules of local installs: F required, C only by opt-in, with the risk named', () => {
    expect(() => planKubernetes(req({ flags: 'P' }))).toThrow(expect.objectContaining({ code: 'bad-flags' }));
    expect(() => planKubernetes(req({ flags: 'O' }))).toThrow(/lack F/);
    // The way out names this command, not `archway install`.
    expect(() => planKubernetes(req({ flags: 'O' }))).toThrow(expect.objectContaining({ hint: expect.stringMatching(/^Add F: archway export kubernetes \S+ … --flags OF$/) }));
    const c = planKubernetes(req({ allowSetuid: true, nodeArchs: ['amd64'] }));
    expect(c.flags).toBe('OCF');
    expect(c.risks.map((r) => r.message)).toEqual([SETUID_RISK]);
    // Flags that name C count as the opt-in, as for `archway install --flags FC`.
    expect(planKubernetes(req({ flags: 'FC', nodeArchs: ['amd64'] })).flags).toBe('OCF');
    const docs = kubernetesManifests(c);
    expect(yamlDocuments(docs)).toContain(`# RISK (flag C): ${SETUID_RISK}`);
  });

  it('refuses an image not pinned by digest, a bad namespace, node arch or toleration, before anything is made', () => {
    expect(() => planKubernetes(req({ image: 'registry.example/archway/binfmt:latest' }))).toThrow(/pinned by digest/);
    expect(() => planKubernetes(req({ image: `x@sha256:${'a'.repeat(63)}` }))).toThrow(/pinned by digest/);
    expect(() => planKubernetes(req({ namespace: 'Kube_System' }))).toThrow(/DNS label/);
    expect(() => planKubernetes(req({ nodeArchs: ['x86_64'] }))).toThrow(/kubernetes.io\/arch/);
    expect(() => planKubernetes(req({ tolerations: ['a:Sometimes'] }))).toThrow(/EFFECT/);
    expect(() => planKubernetes(req({ archs: ['arm65'] }))).toThrow(/arm65/);
    expect(() => planKubernetes(req({ archs: [] }))).toThrow(/at least one/);
  });

  it('takes node emulators from a read-only hostPath at the same path', () => {
    const plan = planKubernetes(req({ archs: ['arm64'], emulators: 'node', nodeArchs: ['amd64'] }));
    const ds = kubernetesManifests(plan)[2]!.value as { spec: { template: { spec: { volumes: unknown[]; initContainers: { volumeMounts: unknown[]; command: string[] }[] } } } };
    const pod = ds.spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'emulator-aarch64', hostPath: { path: '/usr/bin/qemu-aarch64-static', type: 'File' } });
    expect(pod.initContainers[0]!.volumeMounts).toContainEqual({ name: 'emulator-aarch64', mountPath: '/usr/bin/qemu-aarch64-static', readOnly: true });
    expect(pod.initContainers[0]!.command).toContain(buildRegister(catalogRule('aarch64', '/usr/bin/qemu-aarch64-static', 'F')));
  });
});

describe('the manifests', () => {
  it('are a Namespace, a ServiceAccount and one DaemonSet per node architecture with a nodeSelector on kubernetes.io/arch', () => {
    const plan = planKubernetes(req({ nodeArchs: ['amd64', 'arm64'], tolerations: ['node-role.kubernetes.io/control-plane:NoSchedule'] }));
    const docs = kubernetesManifests(plan).map((d) => d.value as { kind: string; metadata: { name: string }; spec?: { template: { spec: Record<string, unknown> } } });
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['Namespace/archway-binfmt', 'ServiceAccount/archway-binfmt', 'DaemonSet/archway-binfmt-amd64', 'DaemonSet/archway-binfmt-arm64']);
    expect(docs[3]!.spec!.template.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64' });
    expect(docs[2]!.spec!.template.spec.tolerations).toEqual([{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }]);
    const uninstall = kubernetesManifests(plan, 'uninstall').map((d) => d.value as { metadata: { name: string } });
    expect(uninstall.map((d) => d.metadata.name)).toContain(daemonSetName('uninstall', 'amd64'));
  });

  it('pass each entry as name, register string and the exact text the kernel shows', () => {
    const rule = catalogRule('riscv64', '/usr/bin/qemu-riscv64', 'F');
    const text = procEntryText(rule);
    expect(parseProcEntry('qemu-riscv64', text)).toEqual({ name: 'qemu-riscv64', enabled: true, rule });
    const plan = planKubernetes(req({ archs: ['riscv64'], nodeArchs: ['amd64'] }));
    const argv = (kubernetesManifests(plan)[2]!.value as { spec: { template: { spec: { initContainers: { command: string[] }[] } } } }).spec.template.spec.initContainers[0]!.command;
    expect(argv).toEqual(['/archway-binfmt', 'install', '--dir', '/archway/binfmt_misc', '--', 'qemu-riscv64', buildRegister(rule), text.slice('enabled\n'.length)]);
  });
});

describe('parseToleration', () => {
  it('reads KEY, KEY=VALUE, :EFFECT and *', () => {
    expect(parseToleration('*')).toEqual({ operator: 'Exists' });
    expect(parseToleration('gpu')).toEqual({ key: 'gpu', operator: 'Exists' });
    expect(parseToleration('dedicated=ci:NoExecute')).toEqual({ key: 'dedicated', operator: 'Equal', value: 'ci', effect: 'NoExecute' });
  });
});

describe('yaml', () => {
  it('quotes every string, so no value turns into another type or a comment', () => {
    expect(toYaml({ a: 'true', b: '0x10', c: '# no', d: 'x\ny', on: 1, list: ['1.0', { k: [] }], e: {} })).toBe(
      'a: "true"\nb: "0x10"\nc: "# no"\nd: "x\\ny"\n"on": 1\nlist:\n  - "1.0"\n  - k: []\ne: {}',
    );
  });
});

describe('node results', () => {
  const line = (entries: unknown[], ok = true) => JSON.stringify({ schema: NODE_RESULT_SCHEMA, node: 'w1', action: 'install', entries, ok });

  it('parses the one JSON line and ignores anything else in the log', () => {
    expect(parseNodeResult(`noise\n${line([{ name: 'qemu-aarch64', result: 'registered' }])}\n`)).toMatchObject({ node: 'w1', ok: true });
    expect(parseNodeResult('{"schema":"other"}')).toBeUndefined();
    expect(parseNodeResult(line([{ name: 'qemu-aarch64', result: 'exploded' }]))).toBeUndefined();
  });

  it('makes a nodes × platforms row: native, ready, conflict, pending', () => {
    const row = kubeNodeRow(
      {
        name: 'w1',
        nodeArch: 'amd64',
        expected: { names: ['qemu-aarch64', 'qemu-s390x'], flags: 'F' },
        pod: { name: 'p', phase: 'Pending', log: line([{ name: 'qemu-aarch64', result: 'present' }, { name: 'qemu-s390x', result: 'conflict', detail: 'differs' }], false) },
      },
      ['x86_64', 'aarch64', 's390x', 'riscv64'],
    );
    expect(row.cells.map((c) => `${c.cpu}=${c.state}`)).toEqual(['i386=native', 'i486=native', 's390x=conflict', 'aarch64=ready', 'x86_64=native']); // riscv64: not registered for this node, nothing claimed
    expect(row.cells.length).toBe(5);
    expect(row.reach).toBe('ok');
    const pending = kubeNodeRow({ name: 'w2', nodeArch: 'amd64', expected: { names: ['qemu-aarch64'], flags: 'OCF' }, pod: { name: 'p2', phase: 'Pending', waiting: 'ImagePullBackOff' } }, ['aarch64']);
    expect(pending).toMatchObject({ reach: 'pending', cells: [{ cpu: 'i386', state: 'native' }, { cpu: 'i486', state: 'native' }, { cpu: 'aarch64', state: 'missing', note: 'ImagePullBackOff' }, { cpu: 'x86_64', state: 'native' }] });
  });
});
