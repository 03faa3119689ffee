/**
 * A shell in a container of a given platform (`archway shell`, the window's *Open shell*): the
 * choice of the command to run, and the diagnosis when it cannot run. Pure (no Node, no DOM): both
 * faces and the IPC contract use these.
 *
 * What reaches a terminal. A shell's TTY legitimately needs escape sequences (colours, cursor
 * movement, the alternate screen of `vi` or `top`, the answers to its terminal queries), so the
 * container's TTY stream is NOT passed through the control-character sanitiser on its way to a
 * terminal emulator: in the CLI it goes to the user's own terminal exactly as `docker run -it`
 * sends it; in the window it goes to an xterm.js emulator inside the page, which interprets the
 * sequences in its own model — it cannot move or retitle Archway's window, and Archway wires none
 * of xterm.js's ways out (its title-change event is ignored: the tab's title is Archway's; OSC 8
 * hyperlinks do nothing; there is no clipboard addon, so OSC 52 cannot reach the clipboard).
 * Everything else Archway shows about a shell — the tab title, the image and platform names, the
 * diagnosis, errors, toasts, the CLI's own lines — is untrusted text and passes shared/sanitize
 * (cleanText/cleanLines) as before.
 */
import type { FixIntent } from './actions';
import type { Classification, ProbeStatus } from './probe';

/** Programs that are shells: an image whose own command is one of these gets it (ubuntu's `bash`, alpine's `/bin/sh`). */
export const SHELL_PROGRAMS: readonly string[] = ['sh', 'bash', 'ash', 'dash', 'zsh', 'ksh', 'mksh', 'yash', 'fish', 'busybox'];

/** What runs when no command is given and the image's own command is not a shell. */
export const FALLBACK_SHELL: readonly string[] = ['/bin/sh'];

export interface ShellChoice {
  command: string[];
  /** given: after `--`; image: the image's own command is a shell; fallback: /bin/sh (must exist in the image). */
  source: 'given' | 'image' | 'fallback';
  /** One sentence for people: why this command. */
  why: string;
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/**
 * The command a shell runs. The image's entrypoint is never run (as `docker run --entrypoint ''`):
 * an entrypoint is the image's application, and a shell is for looking around.
 * - a command given by the user: that;
 * - else the image's command (Cmd) when it is a shell (`bash`, `/bin/sh -l`…);
 * - else /bin/sh (the caller checks the image has one).
 */
export function chooseShell(given: readonly string[] | undefined, image: { cmd?: readonly string[] | null; entrypoint?: readonly string[] | null }): ShellChoice {
  if (given && given.length > 0) return { command: [...given], source: 'given', why: `runs ${given.join(' ')}` };
  const cmd = image.cmd ?? [];
  const entry = image.entrypoint ?? [];
  if (cmd.length > 0 && SHELL_PROGRAMS.includes(basename(cmd[0]!)) && !(basename(cmd[0]!) === 'busybox' && cmd.length > 1 && !SHELL_PROGRAMS.includes(cmd[1]!))) {
    return { command: [...cmd], source: 'image', why: `runs the image's own shell (${cmd.join(' ')})` };
  }
  const what = [...entry, ...cmd].join(' ');
  return {
    command: [...FALLBACK_SHELL],
    source: 'fallback',
    why: what
      ? `runs ${FALLBACK_SHELL.join(' ')}: the image's own command (${what}) is not a shell`
      : `runs ${FALLBACK_SHELL.join(' ')}: the image names no command`,
  };
}

/** Why a shell could not start or ended badly, with Archway's fix (the probe classifier's words and intents). */
export interface ShellDiagnosis {
  status: ProbeStatus;
  message: string;
  fix?: string;
  intent?: FixIntent;
}

export function diagnosisOf(c: Pick<Classification, 'status' | 'message' | 'fix' | 'intent'>): ShellDiagnosis {
  return { status: c.status, message: c.message, ...(c.fix ? { fix: c.fix } : {}), ...(c.intent ? { intent: c.intent } : {}) };
}

/**
 * Is a classification of a shell that exited worth showing? An interactive shell exits non-zero
 * for ordinary reasons (`exit 3`, the last command failed): only what Archway can explain and fix
 * — no handler, another platform, a missing F or C flag — is a diagnosis.
 */
export function worthDiagnosing(c: Pick<Classification, 'status' | 'intent'>): boolean {
  return c.status === 'no-handler' || c.status === 'wrong-arch' || c.intent !== undefined;
}

/** Network modes a shell may ask for: `none` (the default) or an engine network's name. */
export const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Terminal sizes accepted from a face (xterm.js, the CLI's TTY). */
export const MAX_COLS = 1000;
export const MAX_ROWS = 500;
