/** Entry point of the bundled CLI (dist/cli/archway.mjs). */
import { cleanLines } from '../../shared/sanitize';
import { main } from './main';

// The terminal boundary: whatever the CLI prints (status, log, probe output, engine and registry
// answers) passes here, so no untrusted control character reaches the terminal. JSON stays valid
// (JSON.stringify already escapes C0; C1 and bidi controls are dropped).
main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(cleanLines(s)),
  stderr: (s) => process.stderr.write(cleanLines(s)),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`archway: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
