// SPDX-License-Identifier: MIT
// eventlog.page.mjs - the page's event log. The questions: does what today goes only to the
// terminal reach an open page, live - a refused upstream connection, the proxy's own warnings,
// rules applied - with a count on the nav link until the Event log page is opened, and is it
// there again (GET /api/log) for a page opened afterwards? And the CA page's ca.der download.
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { freePort } from "./net.mjs";
import { api, cleanUp, launch, skip, startFlowscope, until } from "./pagelib.mjs";

// A GET through the proxy; resolves to the status (502 when the upstream refused).
function viaProxy(proxyPort, url) {
	return new Promise((res, rej) => {
		const rq = request({ host: "127.0.0.1", port: proxyPort, path: url, headers:
			{ Host: new URL(url).host } }, (rs) => {
			rs.resume();
			rs.on("end", () => res(rs.statusCode));
		});
		rq.on("error", rej);
		rq.end();
	});
}

test("the event log shows what went wrong, live", { skip, timeout: 60000 }, async () => {
	const T = mkdtempSync(join(tmpdir(), "fs-eventlog-"));
	let fs = null, browser = null;
	try {
		fs = await startFlowscope(T);
		browser = await launch();
		const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
		await page.goto(fs.web + "/?token=" + fs.token);
		await page.waitForSelector("#conn[data-state=live]");

		const closed = await freePort(); // nothing listens there
		assert.equal(await viaProxy(fs.proxyPort, "http://127.0.0.1:" + closed + "/gone"), 502);
		await until("the badge counts it", async () =>
			(await page.locator("#log-badge:not(.hidden)").textContent()) === "1");
		await api(fs, "/api/rules", { method: "PUT", headers: { "Content-Type":
			"application/json" }, body: JSON.stringify({ intercept: "~d nowhere.example" }) });

		await page.locator("nav a[data-page=log]").click();
		await page.waitForSelector("#page-log:not(.hidden)");
		assert.ok(await page.locator("#log-badge").isHidden(), "seen: no count");
		const refused = page.locator("table.eventlog tr.lvl-warn", { hasText: "/gone" });
		await refused.waitFor();
		assert.match(await refused.textContent(), /127\.0\.0\.1/);
		assert.match(await refused.textContent(), /refused/i);
		await page.locator("table.eventlog tr.lvl-info", { hasText: "rules applied" }).waitFor();
		await page.selectOption("#page-log select", "warn");
		assert.equal(await page.locator("table.eventlog tr.lvl-info").count(), 0,
			"warnings and errors only");

		const log = await api(fs, "/api/log");
		assert.ok(log.entries.some((e) => e.source === "flow" && /\/gone/.test(e.text)));
		assert.ok(log.entries.some((e) => e.source === "rules"));
		const fresh = await (await browser.newContext({ acceptDownloads: true })).newPage();
		await fresh.goto(fs.web + "/?token=" + fs.token + "#/log");
		await fresh.locator("table.eventlog tr", { hasText: "/gone" }).waitFor();

		// and the CA page offers ca.der, which its Windows and Android steps use
		await fresh.goto(fs.web + "/#/ca");
		const [download] = await Promise.all([fresh.waitForEvent("download"),
			fresh.locator("a", { hasText: "Download ca.der" }).click()]);
		const der = readFileSync(await download.path());
		assert.equal(der[0], 0x30, "DER: a SEQUENCE");
		assert.equal(der.length, execFileSync("openssl", ["x509", "-in", join(T, "conf",
			"ca.pem"), "-outform", "der"]).length);
	} finally {
		await cleanUp(T, browser, fs);
	}
});
