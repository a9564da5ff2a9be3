// SPDX-License-Identifier: MIT
// restart.page.mjs - the page survives a restart of flowscope. The question: a user with the
// page open (a filter typed, a flow selected and open) restarts flowscope; without a new URL
// and without touching the page, does it come back to live, with the same filter, the same
// selection, and new flows arriving live again? And does a reload keep the filter and the
// open flow (they are in the address)?
//
// flowscope runs without --web-token, as a user runs it: the token is the one it keeps in its
// confdir, so the second start has the token the page was opened with. The page is opened
// with ?token= once, which it trades for its cookie and keeps for the tab.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { cleanUp, harEntry, importEntries, launch, skip, startFlowscope, until }
	from "./pagelib.mjs";

test("the page reconnects by itself after a restart", { skip, timeout: 60000 }, async () => {
	const T = mkdtempSync(join(tmpdir(), "fs-restart-"));
	let fs = null, browser = null;
	try {
		fs = await startFlowscope(T);
		await importEntries(fs, ["a", "b", "c", "b"].map((h, i) =>
			harEntry("http://" + h + ".example/" + i)));
		browser = await launch();
		const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
		await page.goto(fs.web + "/?token=" + fs.token);
		await page.waitForSelector("#conn[data-state=live]");
		assert.equal(new URL(page.url()).search, "", "the token left the address bar");

		await page.fill("#filter", "~d b.example");
		await page.press("#filter", "Enter");
		await until("the filtered list", async () => (await page.locator(
			"#list .row[data-id]").count()) === 2);
		const target = page.locator("#list .row[data-id]").nth(1);
		const id = await target.getAttribute("data-id");
		await target.click();
		await page.waitForSelector("#list .row.selected[data-id='" + id + "']");

		const { proxyPort, webPort } = fs;
		await fs.stop();
		await page.waitForSelector("#conn:not([data-state=live])");
		const url = page.url();

		fs = await startFlowscope(T, { proxyPort, webPort });
		await page.waitForSelector("#conn[data-state=live]", { timeout: 15000 });
		assert.equal(page.url(), url, "the same address");
		assert.equal(await page.inputValue("#filter"), "~d b.example", "the filter is kept");
		await until("the filtered rows again", async () => (await page.locator(
			"#list .row[data-id]").count()) === 2);
		// the selection comes back with the rows, drawn at the list's next frame
		await page.waitForSelector("#list .row.selected");
		assert.equal(await page.locator("#list .row.selected").getAttribute("data-id"), id,
			"the selection is kept");
		assert.equal(await page.locator("#note.error").count(), 0, "no error shown");

		await importEntries(fs, [harEntry("http://b.example/new"), harEntry("http://z.example/")]);
		await until("a new matching flow, live", async () => (await page.locator(
			"#list .row[data-id]").count()) === 3, 5000);

		// the filter and the open flow are in the address: a reload comes back to them
		assert.match(page.url(), /#\/flows\?filter=.*&flow=\d+$/);
		await page.reload();
		await page.waitForSelector("#conn[data-state=live]");
		assert.equal(await page.inputValue("#filter"), "~d b.example");
		await until("the filtered rows after a reload", async () => (await page.locator(
			"#list .row[data-id]").count()) === 3);
		await page.waitForSelector("#split.has-detail #detail .detail-title");
		// the detail opens at once, its row is drawn open at the list's next frame
		await page.waitForSelector("#list .row.open");
		assert.equal(await page.locator("#list .row.open").getAttribute("data-id"), id);
	} finally {
		await cleanUp(T, browser, fs);
	}
});
