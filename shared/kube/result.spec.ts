// Kubernetes nodes are rows of the one fleet matrix (shared/fleet.ts): same host type, same cell
// states, the node's own reach words (pending / unscheduled) in FleetReach.
import { describe, expect, it } from 'vitest';
import { answered, buildMatrix, differencesFrom, REACH_WORD, type FleetHost } from '../fleet';
import { kubeClusterHost, kubeNodeRow, NODE_RESULT_SCHEMA } from './result';

const line = (node: string, entries: unknown[], ok = true) => JSON.stringify({ schema: NODE_RESULT_SCHEMA, node, action: 'install', entries, ok });

describe('Kubernetes nodes as fleet hosts', () => {
  it('a node with a result is a FleetHost: id node/NAME, its machine, native cells for what it runs itself, the rest from its result', () => {
    const row: FleetHost = kubeNodeRow(
      { name: 'w1', nodeArch: 'amd64', expected: { names: ['qemu-aarch64', 'qemu-riscv64'], flags: 'F' }, pod: { name: 'p', phase: 'Running', log: line('w1', [{ name: 'qemu-aarch64', result: 'present' }, { name: 'qemu-riscv64', result: 'registered' }]) } },
      ['aarch64', 'riscv64'],
      'kube:prod',
    );
    expect(row).toMatchObject({ id: 'node/w1', name: 'w1', kind: 'kubernetes-node', endpoint: 'kube:prod', reach: 'ok', machine: 'x86_64', nodeArch: 'amd64' });
    // Catalog order (as the status model's rows); the node's native CPUs are known from its kubernetes.io/arch even when no DaemonSet names them.
    expect(row.cells.map((c) => `${c.cpu}=${c.state}`)).toEqual(['i386=native', 'i486=native', 'aarch64=ready', 'riscv64=ready', 'x86_64=native']);
    expect(row.cells.find((c) => c.cpu === 'aarch64')).toMatchObject({ handler: 'qemu-aarch64', cRisk: false });
  });

  it('C risk, conflicts with the node\'s own words, and nodes without a result yet (pending, unscheduled)', () => {
    const c = kubeNodeRow(
      { name: 'w2', nodeArch: 'arm64', expected: { names: ['qemu-riscv64', 'qemu-s390x'], flags: 'OCF' }, pod: { name: 'p', phase: 'Running', log: line('w2', [{ name: 'qemu-riscv64', result: 'registered' }, { name: 'qemu-s390x', result: 'conflict', detail: 'an entry of this name differs' }], false) } },
      ['riscv64', 's390x'],
    );
    expect(c.cells.map((x) => [x.cpu, x.state, x.cRisk, x.note])).toEqual([
      ['s390x', 'conflict', false, 'an entry of this name differs'],
      ['aarch64', 'native', false, undefined],
      ['riscv64', 'ready', true, undefined],
    ]);
    const pending = kubeNodeRow({ name: 'w3', nodeArch: 'amd64', expected: { names: ['qemu-aarch64'], flags: 'F' }, pod: { name: 'p3', phase: 'Pending', waiting: 'ImagePullBackOff' } }, ['aarch64']);
    expect(pending).toMatchObject({ reach: 'pending', error: { code: 'pending', message: 'ImagePullBackOff' } });
    expect(pending.cells.find((x) => x.cpu === 'aarch64')).toMatchObject({ state: 'missing', note: 'ImagePullBackOff' });
    const none = kubeNodeRow({ name: 'w4', nodeArch: 's390x' }, ['aarch64']);
    expect(none).toMatchObject({ reach: 'unscheduled', machine: 's390x' });
    // No DaemonSet names aarch64 for this node: nothing is claimed about it (no cell), only its native CPU.
    expect(none.cells.map((x) => `${x.cpu}=${x.state}`)).toEqual(['s390x=native']);
    // The API answered for these nodes: they are in the matrix, though not compared with a baseline.
    expect([pending.reach, none.reach].every(answered)).toBe(true);
    expect(REACH_WORD[pending.reach]).toBe('pending');
    expect(differencesFrom([c, pending], 'node/w2')).toEqual([]);
  });

  it('a cluster that did not answer is one row of its own (kind kubernetes-cluster), not answered', () => {
    const h = kubeClusterHost('prod', 'https://10.0.0.1:6443', 'timeout', { code: 'timeout', message: 'the cluster did not answer within 3 s' }, 3001);
    expect(h).toEqual({ id: 'cluster/prod', name: 'prod', kind: 'kubernetes-cluster', endpoint: 'https://10.0.0.1:6443', reach: 'timeout', error: { code: 'timeout', message: 'the cluster did not answer within 3 s' }, cells: [], ms: 3001 });
    expect(answered(h.reach)).toBe(false);
  });

  it('nodes and docker hosts share one matrix: columns and differences across both kinds', () => {
    const node = kubeNodeRow({ name: 'w1', nodeArch: 'amd64', expected: { names: ['qemu-s390x'], flags: 'F' }, pod: { name: 'p', phase: 'Running', log: line('w1', [{ name: 'qemu-s390x', result: 'registered' }]) } }, ['s390x']);
    const docker: FleetHost = { id: 'ws', name: 'ws', kind: 'docker-context', endpoint: 'unix:///var/run/docker.sock', reach: 'ok', cells: [{ cpu: 'x86_64', state: 'native', cRisk: false }, { cpu: 's390x', state: 'missing', cRisk: false }] };
    const m = buildMatrix([docker, node], 'ws');
    expect(m.cpus).toContain('s390x');
    expect(m.differences).toEqual([{ host: 'node/w1', cpu: 's390x', baseline: 'missing', here: 'ready' }]);
  });
});
