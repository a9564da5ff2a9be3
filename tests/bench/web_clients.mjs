// SPDX-License-Identifier: MIT
// web_clients.mjs - N WebSocket clients on /api/events that count what they receive, for
// bench_web.sh.
//
//   node web_clients.mjs --url ws://127.0.0.1:PORT/api/events --token T [--clients 10]
//                        [--secs 10] [--ready FILE]
//
// Opens every client (Authorization: Bearer T), creates FILE once all are open, counts
// messages for --secs seconds from then, closes and prints one line:
//   RESULT clients=N messages=TOTAL min=M max=X resets=R span=S
// where span is the seconds from the first message to the last one any client received.
// Uses the npm package ws from tests/node_modules (npm install --prefix tests).
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "package.json"));
const WebSocket = require("ws");

const opts = { clients: 10, secs: 10 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => argv[++i];
  if (a === "--url") opts.url = next();
  else if (a === "--token") opts.token = next();
  else if (a === "--clients") opts.clients = Number(next());
  else if (a === "--secs") opts.secs = Number(next());
  else if (a === "--ready") opts.ready = next();
  else {
    console.error(`unknown option ${a}`);
    process.exit(2);
  }
}

const counts = new Array(opts.clients).fill(0);
let resets = 0;
let first = 0n;
let last = 0n;
const sockets = [];
let open = 0;

function finish() {
  for (const ws of sockets) ws.terminate();
  const total = counts.reduce((a, b) => a + b, 0);
  const span = first ? Number(last - first) / 1e9 : 0;
  console.log(
    `RESULT clients=${opts.clients} messages=${total} min=${Math.min(...counts)} ` +
      `max=${Math.max(...counts)} resets=${resets} span=${span.toFixed(3)}`,
  );
  process.exit(0);
}

for (let i = 0; i < opts.clients; i++) {
  const ws = new WebSocket(opts.url, { headers: { Authorization: `Bearer ${opts.token}` } });
  sockets.push(ws);
  ws.on("open", () => {
    if (++open === opts.clients) {
      if (opts.ready) writeFileSync(opts.ready, "");
      setTimeout(finish, opts.secs * 1000);
    }
  });
  ws.on("message", (data) => {
    const now = process.hrtime.bigint();
    if (!first) first = now;
    last = now;
    counts[i]++;
    // a reset is rare and short: a cheap test instead of parsing every message
    if (data.length < 40 && data.toString().includes('"reset"')) resets++;
  });
  ws.on("error", (e) => {
    console.log(`error client ${i}: ${e.message}`);
    process.exit(4);
  });
}
setTimeout(() => {
  if (open < opts.clients) {
    console.log(`error only ${open} of ${opts.clients} clients connected`);
    process.exit(4);
  }
}, 10000);
