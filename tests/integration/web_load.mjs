// SPDX-License-Identifier: MIT
// web_load.mjs - sends many plain-HTTP GETs through a proxy, keep-alive, for t_web_slow.sh
// when tests/bench's loadgen is not built.
//
//   node web_load.mjs PROXY_PORT URL TOTAL [CONNECTIONS]
//
// Prints "RESULT requests=N errors=E seconds=S" and exits 0 when every request got an answer.
import http from "node:http";

const [proxyPort, url, totalArg, connArg] = process.argv.slice(2);
const total = Number(totalArg);
const conns = Number(connArg ?? 16);
const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
const target = new URL(url);
let started = 0;
let done = 0;
let errors = 0;
const t0 = process.hrtime.bigint();

function one() {
  if (started >= total) return;
  const i = started++;
  const req = http.request(
    {
      host: "127.0.0.1",
      port: Number(proxyPort),
      path: `${url}${target.search ? "&" : "?"}n=${i}`,
      headers: { Host: target.host },
      agent,
    },
    (res) => {
      res.resume();
      res.on("end", () => {
        if (res.statusCode !== 200) errors++;
        finish();
      });
    },
  );
  req.on("error", () => {
    errors++;
    finish();
  });
  req.end();
}

function finish() {
  done++;
  if (done === total) {
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`RESULT requests=${done} errors=${errors} seconds=${secs.toFixed(2)}`);
    agent.destroy();
    process.exit(errors ? 1 : 0);
  }
  one();
}

for (let c = 0; c < conns * 2 && c < total; c++) one();
