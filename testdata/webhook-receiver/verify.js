// Reads {"secret": "whsec_…", "requests": [{"id", "timestamp", "signature", "body"}]}
// on stdin and verifies every request with the standardwebhooks package.
// Prints {"verified": n, "failed": ["id: why", …], "tamperedRejected": bool}.
"use strict";
const { Webhook } = require("standardwebhooks");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const { secret, requests } = JSON.parse(input);
  const wh = new Webhook(secret);
  const headers = (r) => ({
    "webhook-id": r.id,
    "webhook-timestamp": r.timestamp,
    "webhook-signature": r.signature,
  });
  const out = { verified: 0, failed: [], tamperedRejected: false };
  for (const r of requests) {
    try {
      const payload = wh.verify(r.body, headers(r));
      if (typeof payload.type !== "string" || typeof payload.data !== "object") {
        throw new Error("payload without type or data");
      }
      out.verified++;
    } catch (e) {
      out.failed.push(r.id + ": " + e.message);
    }
  }
  // A control: the same verifier must refuse a changed body.
  if (requests.length > 0) {
    const r = requests[0];
    try {
      wh.verify(r.body.replace(/}$/, ',"x":1}'), headers(r));
    } catch (e) {
      out.tamperedRejected = true;
    }
  }
  process.stdout.write(JSON.stringify(out) + "\n");
});
