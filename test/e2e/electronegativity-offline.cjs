// Preloaded (node --require) into the electronegativity process by electronegativity.test.ts.
//
// Its only network use is incidental to the static analysis: fresh translations and Electron's release
// list from GitHub. Its HTTP client (got 11.8.6, the last CommonJS got) crashes the whole process on
// Node 24 when the host cannot be reached: got's request fails at once with
// ERR_SOCKET_CLOSED_BEFORE_CONNECTION while a retry of the DNS error (ENOTFOUND) is still scheduled,
// and that retry throws from a timer a second later ("The `onCancel` handler was attached after the
// promise settled", sindresorhus/got#1489). Node 20 reports only ENOTFOUND and does not crash.
// So every outgoing request fails here at once, with one error got does not retry; the tool then
// reports "no connectivity" and analyses as it does offline. It also keeps the result independent of
// whether GitHub happens to be reachable.
'use strict';
const http = require('node:http');
const https = require('node:https');

function offline() {
  const e = new Error('network disabled: electronegativity runs offline in this test');
  e.code = 'ERR_ARCHWAY_OFFLINE';
  throw e;
}
for (const m of [http, https]) {
  m.request = offline;
  m.get = offline;
}
