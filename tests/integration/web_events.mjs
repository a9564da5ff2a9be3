// SPDX-License-Identifier: MIT
// web_events.mjs - a WebSocket client for /api/events, used by the t_web_*.sh tests.
//
//   node web_events.mjs --url ws://127.0.0.1:PORT/api/events [options]
//     --header "Name: value"  extra request header (repeatable); e.g. Authorization, Cookie
//     --origin O              Origin header (default: none)
//     --count N               exit after N messages (default: run until --timeout)
//     --timeout SECS          give up after SECS (default 20); exit 2 when --count not reached
//     --stall-ms MS           stop reading the socket for MS after the upgrade (a stalled tab)
//     --ready FILE            create FILE once the socket is open (and, with --stall-ms, paused)
//     --stall-until FILE      stop reading the socket until FILE exists (polled every 100 ms)
//     --until-reset           exit 0 at the first {"type":"reset"} after --count messages
//     --then N                with --until-reset: wait for N more messages after the reset
//     --until-open            exit 0 as soon as the socket is open (a check of the upgrade)
//
// Prints "open", then each message as received (one line each), then "done N". A refused
// upgrade prints "refused STATUS" and exits 3; any other failure prints "error ..." and
// exits 4. Uses the npm package ws (install: npm install --prefix tests).
import { createRequire } from "node:module";
import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "package.json"));
const WebSocket = require("ws");

const opts = { headers: {}, count: 0, timeout: 20, stallMs: 0, untilReset: false, then: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => argv[++i];
  if (a === "--url") opts.url = next();
  else if (a === "--header") {
    const h = next();
    const c = h.indexOf(":");
    opts.headers[h.slice(0, c).trim()] = h.slice(c + 1).trim();
  } else if (a === "--origin") opts.origin = next();
  else if (a === "--count") opts.count = Number(next());
  else if (a === "--timeout") opts.timeout = Number(next());
  else if (a === "--stall-ms") opts.stallMs = Number(next());
  else if (a === "--ready") opts.ready = next();
  else if (a === "--stall-until") opts.stallUntil = next();
  else if (a === "--until-reset") opts.untilReset = true;
  else if (a === "--then") opts.then = Number(next());
  else if (a === "--until-open") opts.untilOpen = true;
  else {
    console.log(`error unknown argument ${a}`);
    process.exit(4);
  }
}

let n = 0;
let afterReset = -1; // messages since the awaited reset, -1 before it
let finished = false;
function finish(code, line) {
  if (finished) return;
  finished = true;
  if (line) console.log(line);
  console.log(`done ${n}`);
  process.exit(code);
}

const wsopts = { headers: opts.headers, handshakeTimeout: opts.timeout * 1000 };
if (opts.origin) wsopts.origin = opts.origin;
const ws = new WebSocket(opts.url, wsopts);
const timer = setTimeout(() => finish(opts.count || opts.untilReset ? 2 : 0), opts.timeout * 1000);

ws.on("unexpected-response", (req, res) => {
  clearTimeout(timer);
  console.log(`refused ${res.statusCode}`);
  process.exit(3);
});
ws.on("error", (err) => finish(4, `error ${err.message}`));
ws.on("open", () => {
  console.log("open");
  if (opts.stallMs > 0) {
    ws._socket.pause();
    setTimeout(() => ws._socket.resume(), opts.stallMs);
  }
  if (opts.stallUntil) {
    ws._socket.pause();
    const poll = setInterval(() => {
      if (existsSync(opts.stallUntil)) {
        clearInterval(poll);
        ws._socket.resume();
      }
    }, 100);
  }
  if (opts.ready) writeFileSync(opts.ready, "open\n");
  if (opts.untilOpen) finish(0);
});
ws.on("message", (data) => {
  n++;
  const text = data.toString();
  console.log(text);
  if (opts.untilReset) {
    if (afterReset >= 0) afterReset++;
    else if (text === '{"type":"reset"}' && n > opts.count) afterReset = 0;
    if (afterReset >= opts.then) finish(0);
  } else if (opts.count && n >= opts.count) {
    finish(0);
  }
});
ws.on("close", (code) => finish(opts.count || opts.untilReset ? 5 : 0, `closed ${code}`));
