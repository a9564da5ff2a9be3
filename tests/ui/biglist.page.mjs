// SPDX-License-Identifier: MIT
// biglist.page.mjs - a list that reaches every row, at 200,000 stored flows. The questions:
// does the scrollbar span the whole list; do End, and a drag of the scrollbar to the middle,
// show the rows that are there within a second; does the view stay on its rows while new
// flows arrive above; and do the columns sort, resize and hide (kept across a reload), the
// detail pane widen by its splitter, and a long value show whole in its tooltip?
//
// The store is filled fast: one flow is imported as HAR, then copied 199,999 times in SQL
// (sqlite3 CLI; the imported one renumbered 1), each copy with its own path (/n/<x>) and one in a hundred on another host, so
// that every position's row is known: ids run 1..200000 without gaps, newest first, so the
// row at position p has id 200000 - p.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { SANITIZED, api, cleanUp, harEntry, importEntries, launch, listTopRow, openList, skip,
	startFlowscope, until } from "./pagelib.mjs";

const N = 200000, ROW = 22;
// "within a second": the answers come from flowscope, which a sanitizer slows 3-10 times
const SECOND = SANITIZED ? 3000 : 1000;

function fill(db) {
	const cols = execFileSync("sqlite3", [db, "SELECT group_concat(name) FROM " +
		"pragma_table_info('flows') WHERE name NOT IN ('id', 'path', 'host', 'url')"])
		.toString().trim();
	execFileSync("sqlite3", [db, `UPDATE heads SET id = 1 WHERE id = (SELECT min(id) FROM flows);
		UPDATE flows SET id = 1 WHERE id = (SELECT min(id) FROM flows);
		WITH RECURSIVE c(x) AS (SELECT 2 UNION ALL SELECT x + 1
		FROM c WHERE x < ${N}) INSERT INTO flows(id, path, host, url, ${cols})
		SELECT x, '/n/' || x, CASE WHEN x % 100 = 0 THEN 'hundred.example' ELSE
		'seed.example' END, 'http://seed.example/n/' || x, ${cols} FROM c,
		(SELECT * FROM flows WHERE id = 1);
		INSERT OR IGNORE INTO hosts VALUES ('hundred.example');
		UPDATE counts SET n = (SELECT count(*) FROM flows) WHERE k = 1;`]);
}

test("every row of 200,000 flows is in reach", { skip, timeout: 100000 }, async (t) => {
	const T = mkdtempSync(join(tmpdir(), "fs-biglist-"));
	let fs = null, browser = null;
	try {
		fs = await startFlowscope(T);
		const long = "/first/" + "a-long-segment-".repeat(20) + "end";
		await importEntries(fs, [harEntry("http://seed.example" + long)]);
		await fs.stop();
		fill(join(T, "flows.db"));
		fs = await startFlowscope(T);
		assert.equal((await api(fs, "/api/flows?limit=1")).total, N);

		browser = await launch();
		// Once the page is quiet it asks for the last position, so that the server builds its
		// index of positions before End needs it: End is measured after that, as a user meets
		// it (pressed before, it raced with that request and built the index itself).
		let warmed;
		const page = await openList(browser, fs, N, async (p) => {
			warmed = p.waitForResponse((r) => new URL(r.url()).pathname === "/api/flows" &&
				new URL(r.url()).searchParams.get("position") === String(N - 1),
			{ timeout: 60000 }).catch(() => null);
		});
		const vp = page.locator("#list .viewport");
		const topRow = () => listTopRow(page, ROW);

		await t.test("the scrollbar spans the whole list", async () => {
			const h = await vp.evaluate((v) => v.scrollHeight);
			assert.ok(Math.abs(h - N * ROW) < 2 * ROW, "scrollHeight " + h);
			assert.match(await page.locator("#counts").textContent(), /200,000 flows/);
		});

		await t.test("End shows the oldest flow within a second", async () => {
			assert.ok(await warmed, "the page asked for the last position once quiet");
			await vp.focus();
			const t0 = Date.now();
			await page.keyboard.press("End");
			await page.waitForSelector("#list .row.selected[data-id='1']", { timeout: SECOND });
			t.diagnostic("End: the oldest row selected in " + (Date.now() - t0) + " ms");
			assert.ok(await page.locator("#list .row[data-id='1']").isVisible());
			// a long value cut by its column is whole in the tooltip
			assert.equal(await page.locator("#list .row[data-id='1'] .c-path")
				.getAttribute("title"), long);
		});

		await t.test("a drag of the scrollbar to the middle shows the rows there", async () => {
			const box = await vp.boundingBox();
			// the scrollbar's thumb, at its top below the arrow button (tiny: 200,000 rows)
			const x = box.x + box.width - 7;
			await vp.evaluate((v) => { v.scrollTop = 0; });
			await page.waitForSelector("#list .row[data-id='" + N + "']");
			await page.mouse.move(x, box.y + 22);
			await page.mouse.down();
			await page.mouse.move(x, box.y + box.height * 0.5, { steps: 8 });
			await page.mouse.up();
			const t0 = Date.now();
			const at = await until("rows in the middle", async () => {
				const r = await topRow();
				return r.id && r.p > N / 4 ? r : null;
			}, SECOND);
			t.diagnostic("drag: rows at position " + at.p + " shown in " + (Date.now() - t0) +
				" ms after the drag ended");
			assert.equal(at.id, N - at.p, "the row at position " + at.p);
			// and the same with scrollTop set at once (a jump), deep in the list
			const t1 = Date.now();
			await vp.evaluate((v) => { v.scrollTop = 151234 * 22; });
			const deep = await until("rows at 151,234", async () => {
				const r = await topRow();
				return r.id && r.p === 151234 ? r : null;
			}, SECOND);
			t.diagnostic("jump to 151,234: shown in " + (Date.now() - t1) + " ms");
			assert.equal(deep.id, N - 151234);
		});

		await t.test("new flows above keep the view on its rows", async () => {
			const before = await topRow();
			await importEntries(fs, [harEntry("http://seed.example/new-1"),
				harEntry("http://seed.example/new-2")]);
			await until("the total", async () => /200,002/.test(
				await page.locator("#counts").textContent()));
			// the list draws the new rows at a later frame: read until the view shows them
			const after = await until("the view two rows further down", async () => {
				const r = await topRow();
				return r.id === before.id && r.p === before.p + 2 ? r : null;
			}).catch(() => topRow());
			assert.equal(after.id, before.id, "the same row at the top");
			assert.equal(after.p, before.p + 2, "two rows further down");
		});

		await t.test("a filtered list reaches its end too", async () => {
			await page.fill("#filter", "~d hundred");
			await page.press("#filter", "Enter");
			await until("2,000 matching", async () => /2,000 matching/.test(
				await page.locator("#counts").textContent()));
			await vp.focus();
			await page.keyboard.press("End");
			await page.waitForSelector("#list .row.selected[data-id='100']", { timeout: SECOND });
		});

		await t.test("columns sort, resize and hide, kept across a reload", async () => {
			await page.locator("#list .row.head .c-path").click(); // ascending
			await until("sorted by path", async () => (await page.locator(
				"#list .row[data-id][style*='top: 0px'] .c-path").textContent()) === "/n/100");
			assert.equal(await page.locator("#list .row.head .c-path").getAttribute("aria-sort"),
				"ascending");
			const host = page.locator("#list .row.head .c-host");
			const w0 = (await host.boundingBox()).width;
			const grip = await host.locator(".resize").boundingBox();
			await page.mouse.move(grip.x + 2, grip.y + 5);
			await page.mouse.down();
			await page.mouse.move(grip.x + 122, grip.y + 5, { steps: 4 });
			await page.mouse.up();
			const w1 = (await host.boundingBox()).width;
			assert.ok(Math.abs(w1 - (w0 + 120)) < 4, "resized from " + w0 + " to " + w1);
			await page.locator("#list .col-button").click();
			await page.locator(".col-menu input[data-key=type]").uncheck();
			assert.ok(await page.locator("#list .row[data-id] .c-type").first().isHidden());

			await page.reload();
			await page.waitForSelector("#conn[data-state=live]");
			await page.waitForSelector("#list .row[data-id]");
			assert.ok(await page.locator("#list .row[data-id] .c-type").first().isHidden(),
				"the hidden column stays hidden");
			const w2 = (await page.locator("#list .row.head .c-host").boundingBox()).width;
			assert.ok(Math.abs(w2 - w1) < 2, "the width is kept: " + w2);
			// the filter came back from the address, and the sort with it
			assert.equal(await page.inputValue("#filter"), "~d hundred");
			await until("the sort kept", async () => (await page.locator(
				"#list .row[data-id][style*='top: 0px'] .c-path").textContent()) === "/n/100");
			assert.equal(await page.locator("#list .row.head .c-path").getAttribute("aria-sort"),
				"ascending");
			// unfiltered: 200,002 flows are more than the page sorts
			await page.fill("#filter", "");
			await page.press("#filter", "Enter");
			await until("all flows", async () => /200,002 flows/.test(
				await page.locator("#counts").textContent()));
			assert.equal(await page.locator("#list .row.head .c-path").getAttribute("aria-sort"),
				"none", "a sort the list cannot take is not shown");
			await page.fill("#filter", "~d hundred");
			await page.press("#filter", "Enter");
			await until("sorted again", async () => (await page.locator(
				"#list .row[data-id][style*='top: 0px'] .c-path").textContent()) === "/n/100");
			assert.equal(await page.locator("#list .row.head .c-path").getAttribute("aria-sort"),
				"ascending");
		});

		await t.test("the detail pane widens by its splitter", async () => {
			await page.locator("#list .row[data-id]").first().click();
			await page.waitForSelector("#split.has-detail");
			const d0 = (await page.locator("#detail").boundingBox()).width;
			const s = await page.locator("#splitter").boundingBox();
			await page.mouse.move(s.x + 2, s.y + 100);
			await page.mouse.down();
			await page.mouse.move(s.x - 98, s.y + 100, { steps: 4 });
			await page.mouse.up();
			const d1 = (await page.locator("#detail").boundingBox()).width;
			assert.ok(Math.abs(d1 - (d0 + 100)) < 4, "from " + d0 + " to " + d1);
		});
	} finally {
		await cleanUp(T, browser, fs);
	}
});
