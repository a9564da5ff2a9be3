// SPDX-License-Identifier: MIT
// websocket.test.mjs - a WebSocket's messages in the page, in real Chromium.
//
// The question this test answers: when a page the user browses talks over a WebSocket
// (Chromium's own client, permessage-deflate and all, through flowscope), does the flow's
// Messages tab show the conversation - a row per message with its direction, text, JSON
// pretty-printed and binary as hex - follow new messages while it is open, and show the close?
//
// Set-up, all on 127.0.0.1 and stopped by PID at the end: the echo origin of the integration
// tests (tests/integration/data/wsecho.py, Debian's python3-websockets), which also serves the
// page; the flowscope binary ($FLOWSCOPE_BIN) with a fresh confdir; Debian's chromium (driven
// by playwright-core) with its traffic through flowscope and the UI's port direct. Skips when
// any is missing. Screenshots go to pagelib.mjs's shotDir, as browser.test.mjs's do.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./net.mjs";
import { BIN, launchProxied, shotDir, skip as noBrowser, start, stopAll, until }
	from "./pagelib.mjs";

const here = import.meta.dirname;
const repo = resolve(here, "../..");
const PY = "/usr/bin/python3";
const TOKEN = "uitesttoken0123456789";

function hasWebsockets() {
	try {
		execFileSync(PY, ["-c", "import websockets"], { stdio: "ignore" });
		return true;
	} catch {
		return false;
	}
}
const skip = noBrowser || (!hasWebsockets() ? "python3-websockets is not installed" : false);

test("a WebSocket's messages in the page", { skip, timeout: 120000 }, async (t) => {
	const T = mkdtempSync(join(tmpdir(), "fs-ui-ws-"));
	mkdirSync(shotDir, { recursive: true });
	const procs = [];
	let browser = null;
	try {
		const echoPort = await freePort(), proxyPort = await freePort(), webPort = await freePort();
		procs.push(start(PY, [join(repo, "tests/integration/data/wsecho.py"), "--port",
			String(echoPort)]));
		procs.push(start(BIN, ["--listen", "127.0.0.1:" + proxyPort, "--web",
			"127.0.0.1:" + webPort, "--confdir", join(T, "conf"), "--db", join(T, "flows.db"),
			"--web-token", TOKEN]));
		const web = "http://127.0.0.1:" + webPort;
		await until("flowscope's API", async () => (await fetch(web + "/api/flows?limit=1",
			{ headers: { Authorization: "Bearer " + TOKEN } })).ok, 15000);
		await until("the echo origin", async () =>
			(await fetch("http://127.0.0.1:" + echoPort + "/page.html")).ok, 15000);

		browser = await launchProxied(join(T, "chromium"), proxyPort, webPort,
			{ viewport: { width: 1280, height: 800 } });
		const ui = browser.pages()[0] || await browser.newPage();
		const pageErrors = [];
		ui.on("pageerror", (e) => pageErrors.push(e.message));
		const step = (name, fn) => t.test(name, async () => {
			try {
				await fn();
			} catch (e) {
				await ui.screenshot({ path: join(shotDir, "fail-ws-" +
					name.replace(/\W+/g, "-") + ".png") }).catch(() => {});
				throw e;
			}
		});
		const rows = () => ui.locator("#detail .ws-table tbody tr");

		await step("page loads and goes live", async () => {
			await ui.goto(web + "/?token=" + TOKEN);
			await ui.waitForSelector("#conn[data-state=live]", { timeout: 10000 });
		});

		const tab = await browser.newPage();
		await step("the page's script talks to the echo origin through the proxy", async () => {
			await tab.goto("http://127.0.0.1:" + echoPort + "/page.html");
			await until("three echoes", () => tab.evaluate(() => window.echoes.length === 3));
			await ui.bringToFront();
		});

		await step("the Messages tab shows the conversation", async () => {
			const row = ui.locator('#list .row[data-id]:has(.c-path:text-is("/ws"))').first();
			await row.waitFor({ timeout: 10000 });
			await row.click();
			await ui.locator('#detail button[data-tab="messages"]').click();
			await until("six messages", async () => (await rows().count()) === 6);
			// in wire order: the page sends all three before the first echo comes back
			const dirs = await rows().evaluateAll((trs) => trs.map((r) => r.className));
			assert.equal(dirs.filter((c) => c.includes("ws-out")).length, 3);
			assert.equal(dirs.filter((c) => c.includes("ws-in")).length, 3);
			assert.equal(await rows().nth(0).locator(".ws-preview").textContent(),
				"hello from chromium");
			assert.equal(await ui.locator("#detail .ws-out td:nth-child(3)", { hasText: "binary" })
				.count(), 1);
			await until("the socket shown open", async () =>
				/Open/.test(await ui.locator("#detail .ws-close").textContent()));
		});

		await step("content views: JSON pretty-printed, binary as hex", async () => {
			await rows().filter({ hasText: '"kind"' }).first().click();
			await ui.waitForSelector("#detail .ws-content [data-view=json]");
			await rows().filter({ hasText: "binary" }).last().click();
			await ui.waitForSelector("#detail .ws-content [data-view=hex]");
			await until("the binary message as hex", async () =>
				/00 01 02 ff/i.test(await ui.locator("#detail .ws-content").textContent()));
		});

		await step("new messages appear while the tab is open", async () => {
			await tab.evaluate(() => window.sendMore("live message"));
			await ui.bringToFront();
			await until("eight messages", async () => (await rows().count()) === 8);
			assert.equal(await rows().nth(7).locator(".ws-preview").textContent(),
				"live message");
		});

		await step("the close shows its code and who closed", async () => {
			await tab.evaluate(() => window.closeIt());
			await ui.bringToFront();
			await until("the close", async () => /client: 1000 page done/.test(
				await ui.locator("#detail .ws-close").textContent()));
			// the socket's end updates the flow: the tab stays as it was, no reload
			await until("the flow done", async () => (await ui.locator(
				"#detail .badge.state-done").count()) === 1);
			assert.equal(await rows().count(), 8);
			await ui.screenshot({ path: join(shotDir, "websocket.png") });
			assert.deepEqual(pageErrors, []);
		});
	} finally {
		if (browser)
			await browser.close().catch(() => {});
		await stopAll(procs);
		rmSync(T, { recursive: true, force: true });
	}
});
