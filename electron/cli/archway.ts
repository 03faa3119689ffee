/** Entry point of the bundled CLI (dist/cli/archway.mjs). */
import { main } from './main';

// The terminal boundary is main()'s Out (term.ts terminalSafe, built on shared/sanitize): whatever
// the CLI prints for a person passes there, so no untrusted control character reaches the terminal.
main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  stdoutTTY: { isTTY: process.stdout.isTTY === true, ...(process.stdout.columns ? { columns: process.stdout.columns } : {}) },
  stderrTTY: { isTTY: process.stderr.isTTY === true, ...(process.stderr.columns ? { columns: process.stderr.columns } : {}) },
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`archway: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
