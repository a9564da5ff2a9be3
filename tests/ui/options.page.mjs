// SPDX-License-Identifier: MIT
// options.page.mjs - the Options page changes the proxy live. The question: a user whose origin
// has a self-signed certificate sees it refused; on the Options page they tick "do not verify
// upstream certificates", and the next request is recorded (no restart, no new URL). Then
// anticache: a request sent with If-None-Match reaches the origin with it, and after ticking
// anticache without it. A body limit that is not a size is refused in the page and nothing
// changes; a good one is taken. A reload shows what is in force (kept by the server).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { freePort } from "./net.mjs";
import { api, cleanUp, launch, skip, start, startFlowscope, stopAll, until } from "./pagelib.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ORIGIN = join(HERE, "..", "integration", "data", "origin.py");

/** curl through the proxy; resolves to {code, body} (code 0 when curl itself failed). */
function viaProxy(fs, url, headers = []) {
	const args = ["-sS", "--max-time", "20", "--http1.1", "-x", "http://127.0.0.1:" + fs.proxyPort,
		"--cacert", join(fs.dir, "conf", "ca.pem"), "-w", "\n%{http_code}",
		...headers.flatMap((h) => ["-H", h]), url];
	return new Promise((resolve) => execFile("curl", args, (err, out) => {
		const i = out.lastIndexOf("\n");
		resolve({ code: Number(out.slice(i + 1)) || 0, body: out.slice(0, i) });
	}));
}

/** The newest flow whose URL matches re (a filter on ~u), or undefined. */
async function flowOf(fs, re) {
	const page = await api(fs, "/api/flows?limit=1&filter=" + encodeURIComponent("~u " + re));
	return page.flows[0];
}

test("options change the next flow, live", { skip, timeout: 90000 }, async () => {
	const T = mkdtempSync(join(tmpdir(), "fs-options-"));
	let fs = null, browser = null;
	const procs = [];
	try {
		execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt",
			"ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
			"-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(T, "self.key"),
			"-out", join(T, "self.pem")], { stdio: "ignore" });
		const selfPort = await freePort(), plainPort = await freePort();
		procs.push(start("python3", [ORIGIN, "--port", String(selfPort), "--cert",
			join(T, "self.pem"), "--key", join(T, "self.key")], {}, "self-origin", T));
		procs.push(start("python3", [ORIGIN, "--port", String(plainPort)], {}, "origin", T));
		fs = await startFlowscope(T);
		fs.dir = T;
		const self = "https://127.0.0.1:" + selfPort;
		const plain = "http://127.0.0.1:" + plainPort;
		await until("the origins", async () => (await viaProxy(fs, plain + "/status/204")).code ===
			204);

		browser = await launch();
		const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
		await page.goto(fs.web + "/?token=" + fs.token + "#/options");
		await page.waitForSelector("#conn[data-state=live]");
		await page.waitForSelector("#page-options:not(.hidden) #option-ssl_insecure");
		await until("the options shown", async () => await page.inputValue(
			"#option-body_limit") === "4m");
		assert.equal(await page.isChecked("#option-ssl_insecure"), false);
		assert.equal(await page.isChecked("#option-anticache"), false);
		assert.equal(await page.locator("#page-options a[href='#/rules']").count(), 1,
			"the host rules are a link away");

		// ssl_insecure: refused before, recorded after
		assert.equal((await viaProxy(fs, self + "/status/200/before")).code, 502);
		await page.check("#option-ssl_insecure");
		await until("ssl_insecure saved", async () => (await api(fs, "/api/options"))
			.ssl_insecure === true);
		await page.waitForSelector("#options-status.ok-line");
		const after = await viaProxy(fs, self + "/status/200/after");
		assert.equal(after.code, 200, "the next flow reaches the self-signed origin");

		// anticache
		const tag = ['If-None-Match: "v1"'];
		assert.match((await viaProxy(fs, plain + "/headers?cache=1", tag)).body,
			/If-None-Match: "v1"/);
		await page.check("#option-anticache");
		await until("anticache saved", async () => (await api(fs, "/api/options"))
			.anticache === true);
		const stripped = await viaProxy(fs, plain + "/headers?cache=2", tag);
		assert.equal(stripped.code, 200);
		assert.doesNotMatch(stripped.body, /If-None-Match/, "the origin did not get it");

		// a body limit that is not a size: refused in the page, nothing changed
		await page.fill("#option-body_limit", "lots");
		await page.press("#option-body_limit", "Enter");
		await page.waitForSelector("#options-status.error-line");
		assert.equal((await api(fs, "/api/options")).body_limit, 4194304);
		await page.fill("#option-body_limit", "64k");
		await page.press("#option-body_limit", "Enter");
		await until("body_limit saved", async () => (await api(fs, "/api/options"))
			.body_limit === 65536);

		// the flows, as the list shows them
		await page.click("nav a[data-page=flows]");
		const row = (text) => page.locator("#list .row[data-id]", { hasText: text });
		await until("the refused flow", async () => /error/.test(
			await row("/200/before").getAttribute("class")));
		await until("the recorded flow", async () => (await row("/200/after").locator(".c-status")
			.textContent()).trim() === "200");
		const f = await until("cache=2 stored", () => flowOf(fs, "cache=2"));
		const full = await api(fs, "/api/flows/" + f.id);
		assert.ok(!JSON.stringify(full.request.headers).includes("If-None-Match"),
			"the flow records the request as sent");

		// a reload shows what is in force
		await page.goto(fs.web + "/#/options");
		await page.waitForSelector("#page-options:not(.hidden) #option-ssl_insecure");
		await until("the kept options", async () => await page.inputValue(
			"#option-body_limit") === "64k");
		assert.equal(await page.isChecked("#option-ssl_insecure"), true);
		assert.equal(await page.isChecked("#option-anticache"), true);
	} finally {
		await cleanUp(T, browser, fs);
		await stopAll(procs);
	}
});
