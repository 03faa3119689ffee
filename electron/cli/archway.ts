/** Entry point of the bundled CLI (dist/cli/archway.mjs). */
import { main } from './main';

main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`archway: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
