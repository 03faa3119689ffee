// A vitest reporter for scripts/test.mjs: writes how the run ended and the errors vitest attached to
// no test (unhandled errors and rejections, a crashed worker) to $ARCHWAY_VITEST_OUTCOME, so the
// runner can name them next to its closing line. The JSON reporter leaves them out.
import { writeFileSync } from 'node:fs';

const firstLine = (e) => String(e?.message ?? e?.name ?? e).split('\n')[0].slice(0, 200);

export default class OutcomeReporter {
  onTestRunEnd(_testModules, unhandledErrors, reason) {
    const file = process.env.ARCHWAY_VITEST_OUTCOME;
    if (!file) return;
    writeFileSync(file, JSON.stringify({ reason, unhandledErrors: (unhandledErrors ?? []).map(firstLine) }));
  }
}
