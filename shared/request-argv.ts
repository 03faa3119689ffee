/**
 * The helper's display argv: what a request does, in words pkexec puts into the password prompt.
 * pkexec passes the helper's command line to polkitd as the `command_line` detail, and the policy's
 * message shows it (`$(command_line)`), so the administrator reads "archway-helper install s390x
 * flags=F" before typing a password. The helper recomputes this argv from the request it reads on
 * stdin and refuses any difference, so the prompt cannot name one thing while stdin asks another.
 * Pure; every token is [A-Za-z0-9_:=+-] (no shell or terminal meaning).
 */
import type { HelperRequest } from './helper-protocol';

export function requestArgv(req: Pick<HelperRequest, 'ops' | 'dryRun'>): string[] {
  const out: string[] = req.dryRun ? ['plan-only'] : [];
  for (const op of req.ops) {
    out.push(op.op);
    if ('arch' in op) out.push(op.arch);
    switch (op.op) {
      case 'install':
        if (op.interpreter) out.push(`source=${op.interpreter.source}`);
        if (op.flags !== undefined) out.push(`flags=${op.flags || 'none'}`);
        if (op.persist) out.push('+persist');
        if (op.takeOver) out.push('+take-over');
        if (op.allowDynamic) out.push('+dynamic');
        break;
      case 'uninstall':
      case 'enable':
      case 'disable':
        if (op.force) out.push('+force');
        break;
      case 'persist':
        out.push(op.on ? 'on' : 'off');
        break;
      case 'store-add':
        out.push(`sha256=${op.sha256.slice(0, 16)}`);
        break;
      case 'use':
        out.push(op.emulator.source === 'distro' ? 'emulator=distro' : `emulator=sha256:${op.emulator.sha256.slice(0, 16)}`);
        break;
      case 'mount':
        break;
    }
  }
  return out.map((t) => t.replace(/[^A-Za-z0-9_:=+-]/g, '-'));
}

/** Does the argv the helper was started with name exactly this request? */
export function argvMatches(argv: readonly string[], req: Pick<HelperRequest, 'ops' | 'dryRun'>): boolean {
  const want = requestArgv(req);
  return argv.length === want.length && argv.every((a, i) => a === want[i]);
}
