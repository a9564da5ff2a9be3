// SPDX-License-Identifier: MIT
// pagelib.mjs - what the browser tests (browser.test.mjs, websocket.test.mjs and the page tests
// *.page.mjs, each its own ctest) share: processes started with their output kept and stopped
// by PID (SIGTERM, then SIGKILL after 5 s); the flowscope binary started on free ports with a
// confdir of the test's own (its token read from the banner, as a user reads it); Debian's
// chromium through playwright-core, and whether the tests can run here (skip); where
// screenshots go (shotDir); HAR documents to fill the store with; the flow list opened live
// (openList) and the row at the top of its view (listTopRow); a flow's stored body (flowBody);
// curl through the proxy (curlProxied); and bounded waits.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";

import { freePort } from "./net.mjs";

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const BIN = process.env.FLOWSCOPE_BIN || "";

let chromium = null; // playwright-core's, or null when the package is missing
try {
	({ chromium } = await import("playwright-core"));
} catch {
	chromium = null;
}

/** false, or why the browser tests cannot run here. */
export const skip = !BIN ? "FLOWSCOPE_BIN is not set" : !existsSync(BIN) ? "no binary at " + BIN
	: !existsSync(CHROMIUM) ? "chromium is not installed (apt-get install chromium)"
		: !chromium ? "playwright-core is missing (npm install in tests/ui)" : false;

/** Whether BIN is a sanitized build (ASan: 3-10 times slower); a bound on how fast the page
 * answers allows for that where it says so. */
export const SANITIZED = (() => {
	try {
		return !!BIN && /libasan/.test(execFileSync("ldd", [BIN]).toString());
	} catch {
		return false;
	}
})();

/** Where screenshots go: $UI_SCREENSHOT_DIR, else $FLOWSCOPE_BUILD/ui-screenshots, else
 * tests/ui/screenshots/out. */
export const shotDir = process.env.UI_SCREENSHOT_DIR || (process.env.FLOWSCOPE_BUILD ?
	join(process.env.FLOWSCOPE_BUILD, "ui-screenshots") :
	join(import.meta.dirname, "screenshots", "out"));

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn every 100 ms until it gives a truthy value (returned), or throws after ms. */
export async function until(what, fn, ms = 10000) {
	const end = Date.now() + ms;
	for (;;) {
		try {
			const v = await fn();
			if (v)
				return v;
		} catch {
			/* not yet */
		}
		if (Date.now() > end)
			throw new Error("timed out waiting for " + what);
		await sleep(100);
	}
}

/** Starts cmd; child.log() is what it printed, child.logName names it (in dir). */
export function start(cmd, args, opts = {}, logName = cmd, dir = ".") {
	const out = [];
	const child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
	child.stdout.on("data", (d) => out.push(d));
	child.stderr.on("data", (d) => out.push(d));
	child.log = () => Buffer.concat(out).toString();
	child.logName = join(dir, logName);
	return child;
}

/** Stops each child still running, the last started first. */
export async function stopAll(procs) {
	for (const p of [...procs].reverse()) {
		if (p.exitCode === null) {
			p.kill("SIGTERM");
			await Promise.race([new Promise((r) => p.once("exit", r)), sleep(5000)]);
			if (p.exitCode === null && p.signalCode === null)
				p.kill("SIGKILL");
		}
	}
}

/**
 * Starts flowscope with dir as its confdir and dir/flows.db, on the given (or free) ports.
 * Resolves once the banner printed the UI's URL: {proc, web, token, proxyPort, webPort,
 * log(), stop()}; stop() may be called more than once.
 */
export async function startFlowscope(dir, { proxyPort, webPort, args = [] } = {}) {
	proxyPort = proxyPort || await freePort();
	webPort = webPort || await freePort();
	const proc = start(BIN, ["--listen", "127.0.0.1:" + proxyPort, "--web", "127.0.0.1:" + webPort,
		"--confdir", join(dir, "conf"), "--db", join(dir, "flows.db"), ...args,
		...(process.env.UI_STATIC_DIR ? ["--static-dir", process.env.UI_STATIC_DIR] : [])]);
	const log = proc.log;
	const token = await until("flowscope's banner", () => {
		if (proc.exitCode !== null)
			throw new Error("flowscope exited: " + log());
		return (/web UI on http:\/\/\S+\?token=(\S+)/.exec(log()) || [])[1];
	}, 15000);
	const web = "http://127.0.0.1:" + webPort;
	// Stops it by its PID; throws unless it exits 0 without a sanitizer report.
	const stop = async () => {
		if (proc.exitCode === null && !proc.signalCode) {
			const gone = new Promise((r) => proc.once("exit", r));
			proc.kill("SIGTERM");
			await gone;
		}
		if (proc.exitCode !== 0 || /ERROR: (Address|Leak)Sanitizer|runtime error:/.test(log()))
			throw new Error("flowscope did not stop cleanly (" + proc.exitCode + "): " +
				log().slice(-3000));
	};
	return { proc, web, token, proxyPort, webPort, log, stop };
}

/** fetch() on the API with the token; JSON answers parsed. */
export async function api(fs, path, init = {}) {
	const res = await fetch(fs.web + path, { ...init, headers: { ...(init.headers || {}),
		Authorization: "Bearer " + fs.token } });
	if (!res.ok)
		throw new Error(path + ": " + res.status + " " + await res.text());
	return res.json();
}

/** The stored body of flow id's side ("request" or "response"), read through the API with the
 * token; resolves to a Buffer (whatever the status). */
export async function flowBody(fs, id, side = "response") {
	const res = await fetch(fs.web + "/api/flows/" + id + "/" + side + "/body",
		{ headers: { Authorization: "Bearer " + fs.token } });
	return Buffer.from(await res.arrayBuffer());
}

/** GET url with curl through flowscope's proxy (20 s at most); returns the body, a Buffer.
 * Throws when curl fails. */
export function curlProxied(fs, url) {
	return execFileSync("curl", ["-sS", "--max-time", "20", "-x",
		"http://127.0.0.1:" + fs.proxyPort, url]);
}

/** A HAR entry for GET url answered with status. */
export function harEntry(url, status = 200, extra = {}) {
	return {
		startedDateTime: new Date(Date.UTC(2026, 0, 1)).toISOString(), time: 1,
		request: { method: "GET", url, httpVersion: "HTTP/1.1", headers: [], queryString: [],
			cookies: [], headersSize: -1, bodySize: 0 },
		response: { status, statusText: "OK", httpVersion: "HTTP/1.1", headers: [],
			cookies: [], content: { size: 0, mimeType: "text/plain" }, redirectURL: "",
			headersSize: -1, bodySize: 0 },
		cache: {}, timings: { send: 0, wait: 1, receive: 0 }, ...extra,
	};
}

/** Imports HAR entries through POST /api/har; resolves to the answer. */
export function importEntries(fs, entries) {
	return api(fs, "/api/har", { method: "POST", headers: { "Content-Type": "application/json" },
		body: JSON.stringify({ log: { version: "1.2", creator: { name: "test", version: "1" },
			entries } }) });
}

/** Debian's chromium, headless, without its background traffic. */
export function launch() {
	return chromium.launch({ executablePath: CHROMIUM, headless: true,
		ignoreDefaultArgs: ["--hide-scrollbars"], // the tests drag the scrollbar
		args: [
		"--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-extensions"] });
}

/**
 * Debian's chromium, headless, in a fresh user-data-dir of its own (dir), its traffic through
 * flowscope's proxy (loopback included, "<-loopback>") and the UI's port direct, with little
 * background traffic of its own. options go to launchPersistentContext(); their args are added.
 */
export function launchProxied(dir, proxyPort, webPort, { args = [], ...options } = {}) {
	return chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true,
		...options, args: [
		"--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-features=AutofillServerCommunication,OptimizationHints,Translate," +
			"MediaRouter,DialMediaRouteProvider,CertificateTransparencyComponentUpdater," +
			"SafeBrowsing,InterestFeedContentSuggestions,PrivacySandboxSettings4",
		"--disable-client-side-phishing-detection", "--disable-default-apps", "--no-pings",
		"--disable-domain-reliability", "--disable-breakpad", "--no-default-browser-check",
		"--disable-extensions", "--safebrowsing-disable-auto-update",
		"--proxy-server=http://127.0.0.1:" + proxyPort,
		"--proxy-bypass-list=<-loopback>;127.0.0.1:" + webPort, ...args] });
}

/** A page test's end: the browser closed, flowscope stopped (stop()'s check), dir removed. */
export async function cleanUp(dir, browser, fs) {
	try {
		await browser?.close();
		await fs?.stop();
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

/**
 * A new page (1400 x 800) on flowscope's UI, its event stream live and the list showing the
 * row of flow newestId. route(page), when given, runs before the UI loads (to answer some of
 * its calls itself with page.route()). Resolves to the page.
 */
export async function openList(browser, fs, newestId, route = null) {
	const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
	if (route)
		await route(page);
	await page.goto(fs.web + "/?token=" + fs.token);
	await page.waitForSelector("#conn[data-state=live]");
	await page.waitForSelector("#list .row[data-id='" + newestId + "']");
	return page;
}

/**
 * The list row at the top of page's view: {id: its flow id (null when no row is drawn there),
 * p: the position the scroll offset stands for at rowPx a row (unscaled)}.
 */
export function listTopRow(page, rowPx = 22) {
	return page.evaluate((rowPx) => {
		const v = document.querySelector("#list .viewport");
		const top = v.getBoundingClientRect().top + 2;
		const row = [...v.querySelectorAll(".row[data-id]")].find((r) => {
			const b = r.getBoundingClientRect();
			return b.top <= top && b.bottom > top;
		});
		return { id: row ? Number(row.dataset.id) : null, p: Math.floor(v.scrollTop / rowPx) };
	}, rowPx);
}
