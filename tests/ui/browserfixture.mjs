// SPDX-License-Identifier: MIT
// browserfixture.mjs - what browser.test.mjs stands on: its session set up in a temporary folder
// T (every process pushed on procs, to be stopped by the test): origin.py on HTTP and HTTPS
// (self-signed; flowscope runs with --ssl-insecure), the flowscope binary with the token TOKEN,
// and Debian's chromium with its traffic through flowscope (its CA trusted by SPKI hash), the
// UI's page, the dialogs, page errors and CSP reports it saw, and step(): a subtest of t that
// keeps a screenshot of what it saw when it fails.
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./net.mjs";
import { BIN, launchProxied, shotDir, start, until } from "./pagelib.mjs";

const here = import.meta.dirname;
export const TOKEN = "uitesttoken0123456789";

/**
 * Starts the session (above). Resolves to {httpPort, httpsPort, proxyPort, webPort, web (the
 * UI's base URL), fs (flowscope's process), fsArgs, fsOpts (to start it again), browser (the
 * persistent context, the caller's to close), ui (its page, not yet on the UI), dialogs,
 * pageErrors, cspErrors (filled as they come), step(name, fn)}.
 */
export async function startSession(t, T, procs) {
	// ---- origin: HTTP and HTTPS (self-signed; flowscope runs with --ssl-insecure) ----
	execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt",
		"ec_paramgen_curve:P-256", "-nodes", "-keyout", join(T, "origin.key"), "-out",
		join(T, "origin.pem"), "-days", "2", "-subj", "/CN=localhost", "-addext",
		"subjectAltName=IP:127.0.0.1,DNS:localhost"], { stdio: "ignore" });
	const httpPort = await freePort(), httpsPort = await freePort();
	const origin = start("python3", [join(here, "origin.py"), String(httpPort),
		String(httpsPort), join(T, "origin.pem"), join(T, "origin.key")], {}, "origin.log", T);
	procs.push(origin);
	await until("origin", () => origin.log().includes("ready"));

	// ---- flowscope ----
	const proxyPort = await freePort(), webPort = await freePort();
	const fsArgs = ["--listen", "127.0.0.1:" + proxyPort, "--web",
		"127.0.0.1:" + webPort, "--confdir", join(T, "conf"), "--db", join(T, "flows.db"),
		"--web-token", TOKEN, "--ssl-insecure",
		...(process.env.UI_STATIC_DIR ? ["--static-dir", process.env.UI_STATIC_DIR] : [])];
	const fsOpts = { env: { ...process.env, FLOWSCOPE_LOG: process.env.FLOWSCOPE_LOG || "info" } };
	const fs = start(BIN, fsArgs, fsOpts, "flowscope.log", T);
	procs.push(fs);
	const web = "http://127.0.0.1:" + webPort;
	await until("flowscope's API", async () => {
		const r = await fetch(web + "/api/flows?limit=1", { headers:
			{ Authorization: "Bearer " + TOKEN } });
		return r.ok;
	}, 15000);
	const pem = readFileSync(join(T, "conf", "ca.pem"), "utf8");
	const spki = createHash("sha256").update(new X509Certificate(pem).publicKey
		.export({ type: "spki", format: "der" })).digest("base64");

	// ---- chromium, its traffic through flowscope, the UI's port direct ----
	const browser = await launchProxied(join(T, "chromium"), proxyPort, webPort, {
		viewport: { width: 1440, height: 860 }, acceptDownloads: true,
		args: ["--ignore-certificate-errors-spki-list=" + spki] });
	let ui;
	try {
		ui = browser.pages()[0] || await browser.newPage();
	} catch (e) {
		await browser.close().catch(() => {});
		throw e;
	}
	const dialogs = [], pageErrors = [], cspErrors = [];
	ui.on("dialog", (d) => {
		dialogs.push(d.message());
		d.dismiss();
	});
	ui.on("pageerror", (e) => pageErrors.push(e.message));
	ui.on("console", (m) => {
		if (/Content Security Policy/i.test(m.text()))
			cspErrors.push(m.text());
	});

	// Each step keeps a screenshot of what it saw when it fails.
	const step = (name, fn) => t.test(name, async (st) => {
		try {
			await fn(st);
		} catch (e) {
			await ui.screenshot({ path: join(shotDir, "fail-" + name.replace(/\W+/g, "-") +
				".png") }).catch(() => {});
			throw e;
		}
	});
	return { httpPort, httpsPort, proxyPort, webPort, web, fs, fsArgs, fsOpts, browser, ui,
		dialogs, pageErrors, cspErrors, step };
}
