/**
 * The Docker side as main uses it: one cached connection (the engine's endpoint resolution and
 * probe code from electron/container), an ContainerEngineView for the Engine view, and test runs.
 * The Docker modules load on first use, so the window opens without waiting for them.
 */
import type { ProbeEvent, ProbeResult } from '../../shared/probe';
import type { ContainerEngineView, ProbeRequest, ShellOpenRequest } from '../../shared/ipc/contract';
import type { ContainerEngineOffer } from '../../shared/probe';
import { handlerStateFor, type Status } from '../../shared/status';
import type { Connection } from '../container/endpoint';
import type { PreparedFetch } from '../container/fetch';
import type { PinnedImage } from '../container/pins';
import type { ShellSession } from '../container/shell';
import { IpcRequestError, serialiseError } from './errors';

export interface ProbeGateway {
  view(refresh: boolean): Promise<ContainerEngineView>;
  /** Follow the engine's event stream; `onChange` runs when it ends (daemon stopped) or reports something. */
  watch?(onChange: () => void): () => void;
  run(req: ProbeRequest, status: Status, onEvent: (e: ProbeEvent) => void, signal: AbortSignal): Promise<ProbeResult[]>;
  /**
   * Copy emulators out of the pinned binfmt image into a private temporary directory and build the
   * helper request that stores them (electron/container/fetch.ts). The caller disposes it.
   */
  prepareEmulators(archs: string[], signal?: AbortSignal): Promise<PreparedFetch>;
  /** The container engines on this machine (electron/container/engines.ts, as `archway engines`). */
  listEngines?(): Promise<ContainerEngineOffer[]>;
  /** Remember the engine to use (as `archway engines use NAME`) and reconnect to it. */
  chooseEngine?(name: string): Promise<ContainerEngineView>;
  /** Open an interactive shell (electron/container/shell.ts, as `archway shell`). */
  openShell?(req: ShellOpenRequest, status: Status, hooks: { onOutput: (data: Buffer) => void; signal: AbortSignal }): Promise<ShellSession>;
}

export interface DockerGatewayOptions {
  env?: NodeJS.ProcessEnv;
  /** Per call while connecting (default 5 s). */
  connectTimeoutMs?: number;
  now?: () => number;
  /** The image emulators are fetched from (default BINFMT_IMAGE; tests pass a local registry's pin). */
  binfmtImage?: PinnedImage;
  /** Where the private temporary directories for fetched emulators go (default os.tmpdir()). */
  tmpRoot?: string;
}

export class DockerGateway implements ProbeGateway {
  private conn: Promise<Connection> | undefined;
  private last: ContainerEngineView | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: DockerGatewayOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  private reaped = false;

  private async connection(refresh: boolean): Promise<Connection> {
    if (refresh || !this.conn) {
      const { connect } = await import('../container/endpoint');
      const p = connect({ env: this.opts.env ?? process.env, timeoutMs: this.opts.connectTimeoutMs ?? 5_000 });
      this.conn = p;
      // Once per app run: remove probe containers a crashed earlier run left behind.
      void p.then(async (c) => {
        if (this.reaped) return;
        this.reaped = true;
        const { reapLeftovers } = await import('../container/reap');
        await reapLeftovers(c).catch(() => undefined);
      }, () => undefined);
      // A failed connection is not cached: the next call tries again.
      p.catch(() => {
        if (this.conn === p) this.conn = undefined;
      });
    }
    return this.conn;
  }

  async listEngines(): Promise<ContainerEngineOffer[]> {
    const { listEngines } = await import('../container/engines');
    return listEngines({ env: this.opts.env ?? process.env });
  }

  /** Throws the engine's error (nothing is remembered) when no engine answers there. */
  async chooseEngine(name: string): Promise<ContainerEngineView> {
    const { chooseEngine } = await import('../container/engines');
    try {
      await chooseEngine(name, { env: this.opts.env ?? process.env });
    } catch (err) {
      const e = serialiseError(err);
      throw new IpcRequestError(e.code, e.message, e.hint);
    }
    return this.view(true);
  }

  /** The engine now (cached connection unless `refresh`). Never throws: absence is a state. */
  async view(refresh: boolean): Promise<ContainerEngineView> {
    try {
      const c = await this.connection(refresh);
      this.last = { state: 'connected', info: c.info, checkedAt: this.now() };
    } catch (err) {
      this.last = { state: 'absent', error: serialiseError(err), checkedAt: this.now() };
    }
    return this.last;
  }

  /**
   * Docker events: container, image and daemon events arrive as they happen, and the stream ends
   * when the daemon stops — the live updater re-checks the engine at once instead of at its next
   * poll. Reconnects every few seconds while there is no engine.
   */
  watch(onChange: () => void): () => void {
    let stopped = false;
    let ctl: AbortController | undefined;
    let timer: NodeJS.Timeout | undefined;
    const loop = async () => {
      if (stopped) return;
      ctl = new AbortController();
      try {
        const conn = await this.connection(false);
        const { callStream, streamDone } = await import('../container/api');
        const stream = await callStream(conn, {
          method: 'GET',
          path: '/events',
          query: { filters: { type: ['container', 'image', 'daemon'] } },
          doing: 'following engine events',
          signal: ctl.signal,
        });
        onChange();
        let pending: NodeJS.Timeout | undefined;
        stream.on('data', () => {
          // A pull or a run produces bursts of events: tell once per burst.
          clearTimeout(pending);
          pending = setTimeout(onChange, 300);
        });
        await streamDone(stream);
        clearTimeout(pending);
        this.conn = undefined;
        if (!stopped) onChange();
      } catch {
        /* no engine now: try again below */
      }
      if (!stopped) {
        timer = setTimeout(() => void loop(), 5_000);
        timer.unref?.();
      }
    };
    void loop();
    return () => {
      stopped = true;
      clearTimeout(timer);
      ctl?.abort();
    };
  }

  async run(req: ProbeRequest, status: Status, onEvent: (e: ProbeEvent) => void, signal: AbortSignal): Promise<ProbeResult[]> {
    const conn = await this.connection(false);
    const [{ probe, probeMatrix }, { platformRecord }] = await Promise.all([import('../container/probe'), import('../../shared/probe')]);
    const common = {
      conn,
      image: req.image,
      ...(req.command && req.command.length > 0 ? { command: req.command } : {}),
      ...(req.timeoutMs ? { timeoutMs: req.timeoutMs } : {}),
    };
    if (req.platforms.length === 1) {
      const platform = req.platforms[0]!;
      const handler = handlerStateFor(status, platformRecord(platform).cpu, conn.info);
      return [await probe({ ...common, platform, ...(handler ? { handler } : {}) }, onEvent, signal)];
    }
    return probeMatrix({ ...common, platforms: req.platforms }, onEvent, signal);
  }

  async openShell(req: ShellOpenRequest, status: Status, hooks: { onOutput: (data: Buffer) => void; signal: AbortSignal }): Promise<ShellSession> {
    const conn = await this.connection(false);
    const [{ openShell }, { platformRecord }] = await Promise.all([import('../container/shell'), import('../../shared/probe')]);
    const handler = handlerStateFor(status, platformRecord(req.platform).cpu, conn.info);
    return openShell({
      conn,
      platform: req.platform,
      image: req.image,
      tty: true,
      size: { cols: req.cols, rows: req.rows },
      ...(req.command && req.command.length > 0 ? { command: req.command } : {}),
      ...(req.network ? { network: req.network } : {}),
      ...(handler ? { handler } : {}),
      onOutput: hooks.onOutput,
      signal: hooks.signal,
    });
  }

  async prepareEmulators(archs: string[], signal?: AbortSignal): Promise<PreparedFetch> {
    let conn: Connection;
    try {
      conn = await this.connection(false);
    } catch (err) {
      const e = serialiseError(err);
      throw new IpcRequestError(
        e.code,
        `fetching emulators needs a container engine: ${e.message}`,
        e.hint ?? 'Start Docker (or another Docker-compatible engine), then try again: the emulators are copied out of a container image.',
      );
    }
    const [{ prepareEmulatorFetch }, { BINFMT_IMAGE }] = await Promise.all([import('../container/fetch'), import('../container/pins')]);
    return prepareEmulatorFetch(conn, {
      archs,
      image: this.opts.binfmtImage ?? BINFMT_IMAGE,
      ...(signal ? { signal } : {}),
      ...(this.opts.tmpRoot ? { tmpRoot: this.opts.tmpRoot } : {}),
    });
  }
}
