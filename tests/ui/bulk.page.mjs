// SPDX-License-Identifier: MIT
// bulk.page.mjs - many flows at once. The questions: do click, Shift-click, Ctrl-click and the
// keyboard (Shift+arrows, Ctrl+A) select what a user expects; does the list's context menu
// (right click, or Shift+F10) mark the selection in a colour, comment it, replay it, save its
// HAR and delete it, each seen in the list and in the server's answers?
//
// Six flows are imported as HAR, their URLs on an HTTP server of this test (node's http on
// 127.0.0.1), so that a replay reaches it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { api, cleanUp, harEntry, importEntries, launch, skip, startFlowscope, until }
	from "./pagelib.mjs";

test("multi-select and the context menu's bulk actions", { skip, timeout: 60000 }, async (t) => {
	const T = mkdtempSync(join(tmpdir(), "fs-bulk-"));
	let fs = null, browser = null;
	const hits = [];
	const origin = createServer((rq, rs) => {
		hits.push(rq.url);
		rs.end("ok");
	});
	await new Promise((r) => origin.listen(0, "127.0.0.1", r));
	const base = "http://127.0.0.1:" + origin.address().port;
	try {
		fs = await startFlowscope(T);
		await importEntries(fs, [1, 2, 3, 4, 5, 6].map((i) => harEntry(base + "/p" + i)));
		browser = await launch();
		const ctx = await browser.newContext({ viewport: { width: 1300, height: 700 },
			acceptDownloads: true });
		const page = await ctx.newPage();
		await page.goto(fs.web + "/?token=" + fs.token);
		await page.waitForSelector("#conn[data-state=live]");
		const row = (p) => page.locator(`#list .row[data-id]:has(.c-path:text-is("${p}"))`);
		await row("/p1").waitFor();
		const selected = async () => (await page.evaluate(() => window.flowscopeStats()
			.selected)).length;
		const total = async (filter) => (await api(fs, "/api/flows?limit=1&filter=" +
			encodeURIComponent(filter))).total;
		const menu = page.locator(".context-menu");

		await t.test("click, Shift-click and Ctrl-click select", async () => {
			await row("/p6").click();
			await row("/p3").click({ modifiers: ["Shift"] });
			assert.equal(await selected(), 4);
			// the rows show the selection at the next frame the list draws, not at the click
			await until("4 rows drawn selected", async () =>
				(await page.locator("#list .row.selected").count()) === 4);
			assert.match(await page.locator("#counts").textContent(), /4 selected/);
			await row("/p5").click({ modifiers: ["Control"] });
			assert.equal(await selected(), 3);
			await until("/p5 drawn unselected", async () =>
				(await row("/p5").getAttribute("aria-selected")) === "false");
			assert.equal(await page.locator("#list .row.selected").count(), 3);
		});

		await t.test("the menu marks the selection red", async () => {
			await row("/p4").click({ button: "right" });
			await menu.waitFor();
			await menu.locator("[data-mark=red]").click();
			await until("3 marked red", async () => await total("~mark red") === 3);
			await until("the marks shown", async () =>
				(await page.locator("#list .row .m-mark.mark-red").count()) === 3);
			assert.equal(await menu.count(), 0, "the menu closed");
		});

		await t.test("the keyboard selects and opens the menu: a comment", async () => {
			await page.locator("#list .viewport").focus();
			await page.keyboard.press("Home");
			await page.keyboard.press("Shift+ArrowDown");
			await page.keyboard.press("Shift+ArrowDown");
			assert.equal(await selected(), 3);
			await page.keyboard.press("Shift+F10");
			await menu.waitFor();
			await menu.locator("[data-act=comment]").click();
			await page.locator("dialog.comment-dialog textarea").fill("checked by hand");
			await page.locator("dialog.comment-dialog button[value=save]").click();
			await until("3 commented", async () => await total("~comment 'by hand'") === 3);
			await until("the comment as a tooltip", async () => (await page.locator(
				"#list .row .m-comment[title='checked by hand']").count()) === 3);
		});

		await t.test("the detail pane's Note… marks and comments the open flow", async () => {
			await row("/p5").click();
			await page.waitForSelector("#split.has-detail");
			await page.locator("#detail .detail-note button[data-action=note]").click();
			await page.selectOption("dialog.comment-dialog select", "blue");
			await page.locator("dialog.comment-dialog textarea").fill("the fifth");
			await page.locator("dialog.comment-dialog button[value=save]").click();
			await page.locator("#detail .detail-note .comment", { hasText: "the fifth" }).waitFor();
			await row("/p5").locator(".m-mark.mark-blue").waitFor();
			assert.equal(await total("~mark blue & ~comment fifth"), 1);
			await page.keyboard.press("Escape");
		});

		await t.test("Ctrl+A and Save HAR: every flow, with its notes", async () => {
			await page.locator("#list .viewport").focus();
			await page.keyboard.press("Control+a");
			assert.equal(await selected(), 6);
			await page.keyboard.press("Shift+F10");
			const [download] = await Promise.all([page.waitForEvent("download"),
				menu.locator("[data-act=har]").click()]);
			const har = JSON.parse(readFileSync(await download.path(), "utf8"));
			assert.equal(har.log.entries.length, 6);
			const marks = har.log.entries.filter((e) => e._flowscope?.mark === "red");
			assert.equal(marks.length, 3);
			// p5's comment was replaced by the detail pane's note
			assert.equal(har.log.entries.filter((e) => e._flowscope?.comment ===
				"checked by hand").length, 2);
			assert.equal(har.log.entries.filter((e) => e._flowscope?.mark === "blue").length, 1);
		});

		await t.test("replay of two flows sends both again", async () => {
			await row("/p1").click();
			await row("/p2").click({ modifiers: ["Control"] });
			hits.length = 0;
			await row("/p2").click({ button: "right" });
			await menu.locator("[data-act=replay]").click();
			await until("both replayed", async () => await total("~replay") === 2);
			// a replay's flow is stored as it starts: its request may still be on its way
			await until("both at the origin", () => hits.length === 2);
			assert.deepEqual(hits.sort(), ["/p1", "/p2"]);
		});

		await t.test("delete of the selection", async () => {
			await row("/p3").click();
			await row("/p4").click({ modifiers: ["Shift"] });
			await row("/p4").click({ button: "right" });
			await menu.locator("[data-act=delete]").click();
			await until("two fewer", async () => await total("") === 6);
			await until("gone from the list", async () => (await row("/p3").count()) === 0 &&
				(await row("/p4").count()) === 0);
			assert.equal(await selected(), 0);
		});
	} finally {
		origin.close();
		await cleanUp(T, browser, fs);
	}
});
