// `archway export kubernetes`: the manifests it writes validate against the Kubernetes API schema
// (and the validator does reject a broken DaemonSet), and the DaemonSet's own pod spec — run on
// this machine's dockerd exactly as the kubelet would run it (test/kube/pod-to-docker.ts translates
// the generated object mechanically: securityContext, hostPath mounts, command, env, resources) —
// registers the expected entries in the host's binfmt_misc, leaves them alone on a restart,
// reports a different entry instead of replacing it, and the uninstall DaemonSet's pod removes
// what it registered and nothing else. No cluster is involved here (see cluster.test.ts).
//
// The image is built here, from Debian's files: the static registration program compiled from
// build/kube/archway-binfmt.c and Debian's static QEMU copied to /usr/bin/qemu-<cpu> (where the
// export's default "emulators in the image" expects them), pushed to a throwaway local registry and
// pinned by its digest. The host's binfmt_misc table is snapshotted and restored around the suite.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { loadAllYaml } from '@kubernetes/client-node';
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProcEntry } from '../../shared/binfmt/entry';
import { SETUID_RISK } from '../../shared/binfmt/flags';
import { call } from '../../electron/container/api';
import { Demuxer } from '../../electron/container/demux';
import type { Connection } from '../../electron/container/endpoint';
import { pullImage } from '../../electron/container/images';
import { probe } from '../../electron/container/probe';
import { main } from '../../electron/cli/main';
import { buildBusyboxImage } from '../fixtures/image';
import { pushImageArchive, pushManifestList, startRegistry, type Registry } from '../fixtures/registry';
import { BINFMT_DIR, control, debianEmulator, readEntries, removeHandler, setHandler, snapshotBinfmt, type BinfmtSnapshot } from '../docker/binfmt-snapshot';
import { ensureDockerd, type DockerdHandle } from '../docker/dockerd';
import { connectTo, loadBusybox, removeImage, X86_64_HOST } from '../docker/env';
import { translateContainer } from './pod-to-docker';

const execFileP = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: { ...process.env, NO_COLOR: '1' } });
  return { code, stdout, stderr };
}

/** The static registration program, compiled from the repository's source. */
async function compileRegistrar(dir: string): Promise<string> {
  const out = path.join(dir, 'archway-binfmt');
  await execFileP('gcc', ['-static', '-Os', '-Wall', '-Werror', '-o', out, path.join(ROOT, 'build/kube/archway-binfmt.c')]);
  await execFileP('strip', [out]);
  return out;
}

interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Create, start and wait for one translated container; its output and exit code. Always removed. */
async function runContainer(conn: Connection, body: Record<string, unknown>): Promise<RunResult> {
  const { Id } = await call<{ Id: string }>(conn, { method: 'POST', path: '/containers/create', body });
  try {
    await call(conn, { method: 'POST', path: `/containers/${Id}/start` });
    const { StatusCode } = await call<{ StatusCode: number }>(conn, { method: 'POST', path: `/containers/${Id}/wait`, timeoutMs: 60_000 });
    const raw = await call<Buffer | string>(conn, { method: 'GET', path: `/containers/${Id}/logs`, query: { stdout: true, stderr: true } });
    const d = new Demuxer();
    let stdout = '';
    let stderr = '';
    for (const p of d.push(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw)) {
      if (p.stream === 'stderr') stderr += Buffer.from(p.data).toString('utf8');
      else stdout += Buffer.from(p.data).toString('utf8');
    }
    return { exitCode: StatusCode, stdout, stderr };
  } finally {
    await call(conn, { method: 'DELETE', path: `/containers/${Id}`, query: { force: true } }).catch(() => undefined);
  }
}

function daemonSets(yamlText: string): IDaemonSet[] {
  return (loadAllYaml(yamlText) as { kind: string }[]).filter((o) => o.kind === 'DaemonSet') as unknown as IDaemonSet[];
}

function podSpecOf(ds: IDaemonSet) {
  const spec = ds.spec?.template.spec;
  if (!spec) throw new Error(`${ds.metadata?.name} has no pod spec`);
  return spec;
}

/** The one JSON line the registration program prints (the documented per-node result). */
function resultLine(r: RunResult): { schema: string; node: string; action: string; ok: boolean; entries: { name: string; result: string; detail?: string; current?: string }[] } {
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  expect(lines, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toHaveLength(1);
  return JSON.parse(lines[0]!);
}

describe.runIf(X86_64_HOST)('the exported DaemonSet, run as the kubelet would run it', () => {
  let dockerd: DockerdHandle;
  let conn: Connection;
  let registry: Registry;
  let binfmt: BinfmtSnapshot | undefined;
  let image: string;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'archway-kube-'));
  const out = path.join(work, 'archway-binfmt.yaml');
  const outUninstall = path.join(work, 'archway-binfmt-uninstall.yaml');

  beforeAll(async () => {
    dockerd = await ensureDockerd();
    conn = await connectTo(dockerd);
    registry = await startRegistry();
    const program = await compileRegistrar(work);
    const built = await buildBusyboxImage({
      arch: 'i386',
      tag: 'archway-test/kube-binfmt:amd64',
      platformOverride: { architecture: 'amd64' },
      withoutBusybox: true,
      extraFiles: [
        { path: '/archway-binfmt', content: fs.readFileSync(program), mode: 0o755 },
        { path: '/usr/bin/qemu-aarch64', content: fs.readFileSync('/usr/bin/qemu-aarch64-static'), mode: 0o755 },
        { path: '/usr/bin/qemu-s390x', content: fs.readFileSync('/usr/bin/qemu-s390x-static'), mode: 0o755 },
      ],
    });
    const desc = await pushImageArchive(registry, 'archway-test/kube-binfmt', 'amd64', built);
    const digest = await pushManifestList(registry, 'archway-test/kube-binfmt', 'v1', [desc]);
    image = `${registry.host}/archway-test/kube-binfmt@${digest}`;
    // The kubelet pulls the image by the digest the spec names; so does this test, through the engine.
    await pullImage(conn, image, 'linux/amd64');
    binfmt = await snapshotBinfmt();
    // Start without the two handlers (the snapshot puts back whatever was there).
    removeHandler('qemu-aarch64');
    removeHandler('qemu-s390x');
  });

  afterAll(async () => {
    try {
      await binfmt?.restore();
    } finally {
      if (conn) {
        await removeImage(conn, image);
        await removeImage(conn, 'archway-test/kube-arm64:latest');
      }
      await registry?.stop();
      conn?.close();
      await dockerd?.stop();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('exports manifests that validate, with F only and no setuid risk by default', async () => {
    const r = await cli(['export', 'kubernetes', 'arm64', 's390x', '--image', image, '--node-arch', 'amd64', '-o', out]);
    expect(r.stderr).not.toContain(SETUID_RISK);
    expect(r.code, r.stderr).toBe(0);
    const text = fs.readFileSync(out, 'utf8');
    const docs = loadAllYaml(text) as { kind: string; metadata: { name: string; namespace?: string } }[];
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'ServiceAccount', 'DaemonSet']);
    const [ds] = daemonSets(text);
    expect(ds!.spec!.template.spec!.nodeSelector).toMatchObject({ 'kubernetes.io/arch': 'amd64', 'kubernetes.io/os': 'linux' });
    const reg = ds!.spec!.template.spec!.initContainers![0]!;
    expect(reg.image).toBe(image);
    // The register strings are Archway's (catalog order), F only, for the image's emulators.
    expect(reg.command!.filter((a) => a.startsWith(':qemu-'))).toEqual([
      expect.stringMatching(/^:qemu-s390x:M::.*:\/usr\/bin\/qemu-s390x:F$/),
      expect.stringMatching(/^:qemu-aarch64:M::.*:\/usr\/bin\/qemu-aarch64:F$/),
    ]);
  });

  it('the validator the export uses rejects a broken DaemonSet', async () => {
    const { validateManifests } = await import('../../electron/kube/validate');
    const docs = loadAllYaml(fs.readFileSync(out, 'utf8')) as Record<string, unknown>[];
    await expect(validateManifests(docs)).resolves.toBeUndefined();
    const broken = structuredClone(docs) as { kind: string; spec: { template: { spec: { initContainers: Record<string, unknown>[] } } } }[];
    const ds = broken.find((d) => d.kind === 'DaemonSet')!;
    delete ds.spec.template.spec.initContainers[0]!.name; // a container must have a name
    await expect(validateManifests(broken as unknown as Record<string, unknown>[])).rejects.toThrow(/name/);
    const badType = structuredClone(docs) as typeof broken;
    (badType.find((d) => d.kind === 'DaemonSet')!.spec.template.spec.initContainers[0]!.securityContext as Record<string, unknown>).runAsUser = 'root';
    await expect(validateManifests(badType as unknown as Record<string, unknown>[])).rejects.toThrow(/runAsUser/);
  });

  it('the translator refuses what it cannot carry over (so nothing in the spec is silently dropped)', () => {
    const spec = podSpecOf(daemonSets(fs.readFileSync(out, 'utf8'))[0]!);
    expect(() => translateContainer({ ...spec, hostNetwork: true }, 'register')).toThrow(/hostNetwork/);
    const withSysctl = structuredClone(spec);
    (withSysctl.initContainers![0]!.securityContext as Record<string, unknown>).procMount = 'Unmasked';
    expect(() => translateContainer(withSysctl, 'register')).toThrow(/procMount/);
    const withEmptyDir = structuredClone(spec);
    withEmptyDir.volumes = [{ name: 'binfmt-misc', emptyDir: {} }];
    expect(() => translateContainer(withEmptyDir, 'register')).toThrow(/emptyDir/);
  });

  it("the register container's spec registers the entries in the host's binfmt_misc; the pinned emulator from the image runs arm64 programs", async () => {
    const spec = podSpecOf(daemonSets(fs.readFileSync(out, 'utf8'))[0]!);
    const { body } = translateContainer(spec, 'register');
    const r = await runContainer(conn, body);
    const line = resultLine(r);
    expect(line).toMatchObject({ schema: 'archway.dev/binfmt-node-result/v1', node: os.hostname(), action: 'install', ok: true });
    expect(line.entries).toEqual([
      { name: 'qemu-s390x', result: 'registered' },
      { name: 'qemu-aarch64', result: 'registered' },
    ]);
    expect(r.exitCode).toBe(0);
    for (const [name, interp] of [['qemu-aarch64', '/usr/bin/qemu-aarch64'], ['qemu-s390x', '/usr/bin/qemu-s390x']] as const) {
      const e = parseProcEntry(name, fs.readFileSync(path.join(BINFMT_DIR, name), 'utf8'));
      expect(e).toMatchObject({ enabled: true, rule: { interpreter: interp, flags: 'F' } });
    }
    // /usr/bin/qemu-aarch64 exists only inside the image: F made the kernel open it there.
    expect(fs.existsSync('/usr/bin/qemu-aarch64')).toBe(false);
    await loadBusybox(conn, 'arm64', 'archway-test/kube-arm64:latest');
    const p = await probe({ conn, platform: 'linux/arm64', image: 'archway-test/kube-arm64:latest' });
    expect(p).toMatchObject({ status: 'ok', observed: 'aarch64' });
  });

  it('a restart leaves identical entries alone; a different entry is reported, not replaced', async () => {
    const spec = podSpecOf(daemonSets(fs.readFileSync(out, 'utf8'))[0]!);
    const { body } = translateContainer(spec, 'register');
    const again = await runContainer(conn, body);
    expect(resultLine(again).entries).toEqual([
      { name: 'qemu-s390x', result: 'present' },
      { name: 'qemu-aarch64', result: 'present' },
    ]);
    expect(again.exitCode).toBe(0);
    // Someone else's qemu-s390x (Debian's emulator, flags F): reported, never clobbered. (Ours goes
    // first: it pins the image's file, which setHandler cannot put back, and this test made it.)
    control('qemu-s390x', '-1');
    const theirs = setHandler('s390x', { interpreter: debianEmulator('s390x'), flags: 'F' });
    const conflict = await runContainer(conn, body);
    const line = resultLine(conflict);
    expect(line.ok).toBe(false);
    expect(line.entries[1]).toEqual({ name: 'qemu-aarch64', result: 'present' });
    expect(line.entries[0]).toMatchObject({ name: 'qemu-s390x', result: 'conflict', current: expect.stringContaining(`interpreter ${debianEmulator('s390x')}`) });
    expect(conflict.exitCode).toBe(1); // the init container fails: kubectl shows Init:Error on that node
    expect(readEntries().find((e) => e.name === 'qemu-s390x')?.register).toBe(theirs);
  });

  it('the pause container runs unprivileged and stops on SIGTERM', async () => {
    const spec = podSpecOf(daemonSets(fs.readFileSync(out, 'utf8'))[0]!);
    const { body, container } = translateContainer(spec, 'pause');
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container.volumeMounts ?? []).toEqual([]);
    const { Id } = await call<{ Id: string }>(conn, { method: 'POST', path: '/containers/create', body });
    try {
      await call(conn, { method: 'POST', path: `/containers/${Id}/start` });
      const running = await call<{ State: { Running: boolean; Pid: number } }>(conn, { method: 'GET', path: `/containers/${Id}/json` });
      expect(running.State.Running).toBe(true);
      // Wait until PID 1 is the program (not still `runc init`, which start already returned for)
      // and it has installed its SIGTERM handler (SigCgt bit 15): PID 1 ignores an uncaught SIGTERM.
      const proc = `/proc/${running.State.Pid}`;
      const caught = () =>
        fs.readFileSync(`${proc}/cmdline`, 'utf8') === `${container.command!.join('\0')}\0` &&
        ((BigInt(`0x${/^SigCgt:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`${proc}/status`, 'utf8'))![1]}`) >> 14n) & 1n) === 1n;
      await expect.poll(caught, { timeout: 30_000, interval: 50 }).toBe(true);
      await call(conn, { method: 'POST', path: `/containers/${Id}/stop`, query: { t: 10 }, timeoutMs: 30_000 });
      const stopped = await call<{ State: { ExitCode: number } }>(conn, { method: 'GET', path: `/containers/${Id}/json` });
      expect(stopped.State.ExitCode, JSON.stringify(stopped.State)).toBe(0); // exited on SIGTERM, not killed after the grace period
    } finally {
      await call(conn, { method: 'DELETE', path: `/containers/${Id}`, query: { force: true } }).catch(() => undefined);
    }
  });

  it("the uninstall DaemonSet's pod removes what the DaemonSet registered and leaves a different entry alone", async () => {
    const theirs = readEntries().find((e) => e.name === 'qemu-s390x')?.register;
    const r = await cli(['export', 'kubernetes', 'arm64', 's390x', '--image', image, '--node-arch', 'amd64', '--uninstall', '-o', outUninstall]);
    expect(r.code, r.stderr).toBe(0);
    const [ds] = daemonSets(fs.readFileSync(outUninstall, 'utf8'));
    const { body } = translateContainer(podSpecOf(ds!), 'unregister');
    const run = await runContainer(conn, body);
    const line = resultLine(run);
    expect(line).toMatchObject({ action: 'uninstall', ok: true });
    expect(line.entries).toEqual([
      expect.objectContaining({ name: 'qemu-s390x', result: 'different' }),
      { name: 'qemu-aarch64', result: 'removed' },
    ]);
    expect(fs.existsSync(path.join(BINFMT_DIR, 'qemu-aarch64'))).toBe(false);
    expect(readEntries().find((e) => e.name === 'qemu-s390x')?.register).toBe(theirs);
    // Running it again finds nothing of its own left.
    const twice = resultLine(await runContainer(conn, body));
    expect(twice.entries[1]).toEqual({ name: 'qemu-aarch64', result: 'absent' });
  });
});
