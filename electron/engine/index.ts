/**
 * The engine: the one place both faces (the `archway` CLI and the desktop main process) call.
 * Reading is unprivileged and in-process; planning runs the helper's own validation in dry-run
 * mode in-process (so what you are shown is what the helper will do); applying goes through the
 * helper, elevated.
 */
import type { Intent } from '../../shared/actions';
import type { HelperRequest, HelperResponse } from '../../shared/helper-protocol';
import type { Status } from '../../shared/status';
import { readAudit, type AuditEntry } from './audit';
import type { ElevateOptions, HelperRun } from './elevate';
import { elevationMode } from './elevation-mode';
import { hostFacts } from './host';
import { readStatus } from './inspect';
import { pathsFromEnv, type ArchwayPaths } from './paths';

export interface Plan {
  request: HelperRequest | null;
  /** The helper's own dry run: register strings, files, refusals. */
  preview: HelperResponse | null;
  skipped: { arch: string; why: string }[];
  /** How the change will be authorised: 'direct' (already root) or 'pkexec' (a password prompt). */
  elevation: 'direct' | 'pkexec';
}

export interface EngineOptions {
  paths?: ArchwayPaths;
  elevate?: ElevateOptions;
}

export class Engine {
  readonly paths: ArchwayPaths;
  constructor(private readonly opts: EngineOptions = {}) {
    this.paths = opts.paths ?? pathsFromEnv();
  }

  status(): Status {
    return readStatus(this.paths);
  }

  async preview(request: HelperRequest): Promise<HelperResponse> {
    // Loaded on demand: `archway status` never needs the helper's planning code.
    const { Helper } = await import('../helper/ops');
    const helper = new Helper({ paths: this.paths, host: hostFacts(), callerUid: process.getuid?.() ?? 0 });
    return helper.run(request, { dryRun: true });
  }

  async plan(intent: Intent): Promise<Plan> {
    // Loaded on demand: the request schemas (zod) are no part of `archway status`.
    const [{ intentToRequest }, { bindToPlan }] = await Promise.all([import('../../shared/actions'), import('../../shared/helper-protocol')]);
    const { request, skipped } = intentToRequest(intent, this.status());
    const preview = request ? await this.preview(request) : null;
    return {
      // The request carries what its preview showed: the helper refuses it if anything differs.
      request: request && preview ? bindToPlan(request, preview) : request,
      preview,
      skipped,
      elevation: this.elevation(),
    };
  }

  /** How a change will be authorised: 'direct' (already root) or 'pkexec' (a password prompt). */
  elevation(): 'direct' | 'pkexec' {
    return elevationMode(this.opts.elevate);
  }

  async apply(request: HelperRequest): Promise<HelperRun> {
    if (this.inProcess()) {
      // Already root, no helper program named: run the helper's own code here (same validation,
      // same lock, same repair) instead of starting a second Node.
      const { serveRequest } = await import('../helper/serve');
      const mask = process.umask(0o022);
      try {
        const served = await serveRequest(request, { paths: this.paths, callerUid: process.getuid?.() ?? 0 });
        return { response: served.response, exitCode: served.exitCode, stderr: '' };
      } finally {
        process.umask(mask);
      }
    }
    const { runHelper } = await import('./elevate');
    return runHelper(request, { ...this.opts.elevate, env: { ...this.opts.elevate?.env, ...envForHelper(this.paths) } });
  }

  /** Root already, and no helper program or elevation mode forced (tests name one to run it as a process). */
  private inProcess(): boolean {
    const e = this.opts.elevate;
    return this.elevation() === 'direct' && !e?.helperPath && (e?.mode ?? 'auto') === 'auto' && process.env.ARCHWAY_HELPER_PROCESS !== '1';
  }

  audit(limit = 200): AuditEntry[] {
    return readAudit(this.paths.auditLog, limit);
  }
}

/** Pass our path overrides to a directly-run helper (pkexec drops them, by design). */
function envForHelper(paths: ArchwayPaths): NodeJS.ProcessEnv {
  return { ARCHWAY_ROOT: paths.root, ARCHWAY_BINFMT: paths.binfmt };
}
