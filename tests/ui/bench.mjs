// SPDX-License-Identifier: MIT
// bench.mjs - the page's two figures for the README, measured in Chromium against the real
// binary (not a test; run by hand):
//
//   FLOWSCOPE_BIN=build/proxy/flowscope LOADGEN=build/tests/bench/loadgen \
//     node tests/ui/bench.mjs [FLOWS=1000000] [LOAD_SECONDS=10] [CONNS=16]
//
// 1. Time to first rows with FLOWS flows in the store: the store is filled by copying one real
//    flow row in SQL (sqlite3 CLI), flowscope is started on it, and the time from navigation
//    to the first row on screen is taken (also: one /api/flows page, and scrolling 20 pages).
// 2. Events per second the page keeps up with: loadgen drives nginx through the proxy for
//    LOAD_SECONDS while the page follows the list; we count the events the page received,
//    whether it had to reload (a reset means it fell behind), and the longest frame gap.
import { spawn, execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

import { freePort } from "./net.mjs";
import { printProfile, startFrames, startProfile, stopFrames } from "./pagebench.mjs";

const here = import.meta.dirname;
const repo = resolve(here, "../..");
const BIN = process.env.FLOWSCOPE_BIN || join(repo, "build-ui/proxy/flowscope");
const LOADGEN = process.env.LOADGEN || join(repo, "build-ui/tests/bench/loadgen");
const FLOWS = Number(process.argv[2] || 1000000);
const LOAD_SECONDS = Number(process.argv[3] || 10);
const CONNS = Number(process.argv[4] || 16);
const TOKEN = "benchtoken";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));


async function until(fn, ms = 20000) {
	const end = Date.now() + ms;
	for (;;) {
		try {
			if (await fn())
				return;
		} catch { /* not yet */ }
		if (Date.now() > end)
			throw new Error("timeout");
		await sleep(50);
	}
}

const T = mkdtempSync(join(tmpdir(), "fs-uibench-"));
const procs = [];
function run(cmd, args) {
	const p = spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
	procs.push(p);
	return p;
}
async function stop(p) {
	if (p.exitCode !== null)
		return;
	p.kill("SIGTERM");
	await new Promise((r) => p.once("exit", r));
}

let browser;
try {
	// nginx answering "ok" on a free port
	const originPort = await freePort();
	mkdirSync(join(T, "nginx"), { recursive: true });
	writeFileSync(join(T, "nginx.conf"), `daemon off; master_process off; worker_processes 1;
error_log ${T}/nginx/error.log; pid ${T}/nginx/nginx.pid;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${T}/nginx; proxy_temp_path ${T}/nginx;
  fastcgi_temp_path ${T}/nginx; uwsgi_temp_path ${T}/nginx; scgi_temp_path ${T}/nginx;
  server { listen 127.0.0.1:${originPort}; keepalive_requests 100000;
    location / { default_type application/json; return 200 '{"ok":true}'; } } }`);
	const nginx = run("nginx", ["-c", join(T, "nginx.conf"), "-p", T]);
	const proxyPort = await freePort(), webPort = await freePort();
	const db = join(T, "flows.db");
	const args = ["--listen", "127.0.0.1:" + proxyPort, "--web", "127.0.0.1:" + webPort,
		"--confdir", join(T, "conf"), "--db", db, "--web-token", TOKEN,
		"--static-dir", join(repo, "static")];
	const web = "http://127.0.0.1:" + webPort;
	const api = (path) => fetch(web + path, { headers: { Authorization: "Bearer " + TOKEN } });

	// one real flow, then FLOWS copies of it in SQL
	let fs = run(BIN, args);
	await until(async () => (await api("/api/flows?limit=1")).ok);
	execFileSync("curl", ["-s", "-o", "/dev/null", "-x", "http://127.0.0.1:" + proxyPort,
		"http://127.0.0.1:" + originPort + "/seed"]);
	await until(async () => (await (await api("/api/flows?limit=1")).json()).flows.length === 1);
	await stop(fs);
	const cols = execFileSync("sqlite3", [db, "SELECT group_concat(name) FROM " +
		"pragma_table_info('flows') WHERE name <> 'id'"]).toString().trim();
	let t0 = Date.now();
	execFileSync("sqlite3", [db, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c
		WHERE x < ${FLOWS - 1}) INSERT INTO flows(${cols}) SELECT ${cols} FROM c,
		(SELECT * FROM flows LIMIT 1); UPDATE counts SET n = (SELECT count(*) FROM flows)
		WHERE k = 1;`]);
	console.log(`filled the store with ${FLOWS} flows in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

	fs = run(BIN, args);
	await until(async () => (await api("/api/flows?limit=1")).ok);
	t0 = performance.now();
	const first = await (await api("/api/flows?limit=200")).json();
	console.log(`API: first page of 200 (total ${first.total}) in ` +
		`${(performance.now() - t0).toFixed(1)} ms`);

	browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: [
		"--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
	const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
	await page.goto(web + "/?token=" + TOKEN);
	// in the page: the moment the first row enters the DOM, since navigation start
	await page.addInitScript(() => {
		const mo = new MutationObserver(() => {
			if (document.querySelector("#list .row[data-id]")) {
				window.firstRowAt = performance.now();
				mo.disconnect();
			}
		});
		mo.observe(document, { childList: true, subtree: true });
	});
	t0 = Date.now();
	await page.goto(web + "/");
	await page.waitForSelector("#list .row[data-id]");
	await page.waitForFunction(() => window.firstRowAt);
	const firstRows = Math.round(await page.evaluate(() => window.firstRowAt));
	const nav = await page.evaluate(() => {
		const n = performance.getEntriesByType("navigation")[0];
		const r = performance.getEntriesByType("resource").find((e) =>
			e.name.includes("/api/flows?"));
		return { domContentLoaded: n.domContentLoadedEventEnd, apiStart: r && r.startTime,
			apiEnd: r && r.responseEnd };
	});
	console.log(`page: its first /api/flows request went out at ${nav.apiStart?.toFixed(0)} ms ` +
		`and was answered at ${nav.apiEnd?.toFixed(0)} ms`);
	console.log(`page: first rows ${firstRows} ms after navigation (DOMContentLoaded at ` +
		`${nav.domContentLoaded.toFixed(0)} ms), ${FLOWS} flows in the store`);

	// scroll down 20 pages' worth, each waiting for the next page to arrive
	await page.locator("#list .viewport").focus();
	t0 = Date.now();
	for (let i = 0; i < 20; i++) {
		const want = (i + 2) * 200;
		await page.evaluate(() => {
			const v = document.querySelector("#list .viewport");
			v.scrollTop = v.scrollHeight;
		});
		await page.waitForFunction((w) => window.flowscopeStats().rows >= w &&
			document.querySelector("#list .viewport").scrollHeight >= w * 22, want,
			{ timeout: 30000 }).catch(async (e) => {
			console.log("stuck at", want, await page.evaluate(() => JSON.stringify({
				...window.flowscopeStats(), top: document.querySelector("#list .viewport")
					.scrollTop, h: document.querySelector("#list .viewport").scrollHeight,
				note: document.getElementById("note").textContent })));
			throw e;
		});
	}
	const scrolled = Date.now() - t0;
	const st = await page.evaluate(() => window.flowscopeStats());
	console.log(`page: scrolled through ${st.rows} rows in ${scrolled} ms ` +
		`(${(scrolled / 20).toFixed(0)} ms a page), ${st.domRows} rows in the DOM`);

	// events per second
	await page.evaluate(() => {
		const v = document.querySelector("#list .viewport");
		v.scrollTop = 0;
		document.getElementById("follow").checked = true;
		document.getElementById("follow").dispatchEvent(new Event("change"));
	});
	await startFrames(page);
	const before = await page.evaluate(() => window.flowscopeStats());
	const totalBefore = (await (await api("/api/flows?limit=1")).json()).total;
	t0 = Date.now();
	const cdp = await startProfile(page);
	// loadgen runs asynchronously: the page must keep talking to playwright meanwhile
	const lg = await new Promise((res, rej) => execFile(LOADGEN, ["-c", String(CONNS), "-t", "4",
		"-d", String(LOAD_SECONDS), "-x", "127.0.0.1:" + proxyPort,
		"http://127.0.0.1:" + originPort + "/load"], (err, out) => err ? rej(err) : res(out)));
	const loadMs = Date.now() - t0;
	const result = (lg.match(/RESULT .*/) || [""])[0];
	const totalAfter = (await (await api("/api/flows?limit=1")).json()).total;
	// wait until the page has heard of every committed flow (or 10 s)
	await until(async () => (await page.evaluate(() => window.flowscopeStats())).total >=
		totalAfter, 10000).catch(() => {});
	const after = await page.evaluate(() => window.flowscopeStats());
	const caughtUp = Date.now() - t0;
	const gaps = await stopFrames(page);
	await printProfile(cdp, 15);
	const flows = totalAfter - totalBefore;
	const events = after.received - before.received;
	console.log(`load: ${result}`);
	console.log(`events: ${flows} flows committed in ${(loadMs / 1000).toFixed(1)} s ` +
		`(${(flows / (loadMs / 1000)).toFixed(0)} flows/s); the page received ${events} events ` +
		`(${(events / (loadMs / 1000)).toFixed(0)}/s), reloads ${after.resyncs - before.resyncs}, ` +
		`caught up ${((caughtUp - loadMs) / 1000).toFixed(1)} s after the load ended; total ` +
		`shown ${after.total} vs ${totalAfter} stored; frames ${gaps.frames}, longest gap ` +
		`${gaps.max.toFixed(0)} ms, p99 ${gaps.p99.toFixed(0)} ms; rows held ${after.rows}`);
	await stop(fs);
	await stop(nginx);
} finally {
	if (browser)
		await browser.close();
	for (const p of procs)
		if (p.exitCode === null)
			p.kill("SIGTERM");
	rmSync(T, { recursive: true, force: true });
}
