// SPDX-License-Identifier: MIT
// bench-page.mjs - how many events a second the page itself keeps up with, apart from the
// server: mock-server.mjs streams "add" events at a set rate to the page in Chromium, each
// rate for a few seconds; we count what the page applied and the longest gaps between frames.
//   node tests/ui/bench-page.mjs [RATES=1000,2000,5000,10000,20000] [SECONDS=5]
import { spawn } from "node:child_process";
import { join } from "node:path";
import { chromium } from "playwright-core";

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
		await page.evaluate(() => {
			window.benchGaps = [];
			let last = performance.now();
			const tick = (t) => {
				window.benchGaps.push(t - last);
				last = t;
				window.benchRaf = requestAnimationFrame(tick);
			};
			window.benchRaf = requestAnimationFrame(tick);
		});
		const before = await page.evaluate(() => window.flowscopeStats());
		let cdp = null;
		if (process.env.PROFILE) {
			cdp = await page.context().newCDPSession(page);
			await cdp.send("Profiler.enable");
			await cdp.send("Profiler.start");
		}
		const sent0 = await setRate(r);
		const t0 = Date.now();
		await sleep(secs * 1000);
		const sent1 = await setRate(0);
		const elapsed = (Date.now() - t0) / 1000;
		// give the page a second to drain what is in flight
		await sleep(1000);
		const after = await page.evaluate(() => window.flowscopeStats());
		const gaps = await page.evaluate(() => {
			cancelAnimationFrame(window.benchRaf);
			const g = window.benchGaps.slice(1).sort((a, b) => a - b);
			return { p50: g[g.length >> 1], p99: g[Math.floor(g.length * 0.99)],
				max: g[g.length - 1] };
		});
		if (cdp) {
			const { profile } = await cdp.send("Profiler.stop");
			const self = new Map();
			const byId = new Map(profile.nodes.map((n) => [n.id, n]));
			profile.samples.forEach((id, i) => {
				const n = byId.get(id);
				const k = n.callFrame.functionName + " " + n.callFrame.url.split("/").pop() +
					":" + n.callFrame.lineNumber;
				self.set(k, (self.get(k) || 0) + (profile.timeDeltas[i] || 0));
			});
			console.log([...self].sort((a, b) => b[1] - a[1]).slice(0, 12)
				.map(([k, v]) => "  " + (v / 1000).toFixed(0) + " ms  " + k).join("\n"));
		}
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
