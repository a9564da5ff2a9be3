// SPDX-License-Identifier: MIT
// bench-page.mjs - how many events a second the page itself keeps up with, apart from the
// server: mock-server.mjs streams "add" events at a set rate to the page in Chromium, each
// rate for a few seconds; we count what the page applied and the longest gaps between frames.
//   node tests/ui/bench-page.mjs [RATES=1000,2000,5000,10000,20000] [SECONDS=5]
import { spawn } from "node:child_process";
import { join } from "node:path";
import { chromium } from "playwright-core";

import { printProfile, startFrames, startProfile, stopFrames } from "./pagebench.mjs";

const rates = (process.argv[2] || "1000,2000,5000,10000,20000").split(",").map(Number);
const secs = Number(process.argv[3] || 5);
const port = 18000 + Math.floor(Math.random() * 1000);
const mock = spawn(process.execPath, [join(import.meta.dirname, "mock-server.mjs"), String(port),
	"1000"], { stdio: "ignore" });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
await sleep(800);
const base = "http://127.0.0.1:" + port;
const setRate = async (r) => (await (await fetch(base + "/bench/rate?r=" + r)).json()).sent;
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
	args: ["--no-sandbox", "--disable-gpu"] });
try {
	const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
	await page.goto(base + "/");
	await page.waitForSelector("#conn[data-state=live]");
	for (const r of rates) {
		await startFrames(page);
		const before = await page.evaluate(() => window.flowscopeStats());
		const cdp = await startProfile(page);
		const sent0 = await setRate(r);
		const t0 = Date.now();
		await sleep(secs * 1000);
		const sent1 = await setRate(0);
		const elapsed = (Date.now() - t0) / 1000;
		// give the page a second to drain what is in flight
		await sleep(1000);
		const after = await page.evaluate(() => window.flowscopeStats());
		const gaps = await stopFrames(page);
		await printProfile(cdp, 12);
		const sent = sent1 - sent0, got = after.received - before.received;
		console.log(`${r}/s offered: sent ${sent} in ${elapsed.toFixed(1)} s ` +
			`(${(sent / elapsed).toFixed(0)}/s), page applied ${got} ` +
			`(${(100 * got / sent).toFixed(1)}%), reloads ${after.resyncs - before.resyncs}, ` +
			`frame gap p50 ${gaps.p50.toFixed(0)} ms p99 ${gaps.p99.toFixed(0)} ms ` +
			`max ${gaps.max.toFixed(0)} ms, rows held ${after.rows}, DOM rows ${after.domRows}`);
	}
} finally {
	await browser.close();
	mock.kill("SIGTERM");
}
