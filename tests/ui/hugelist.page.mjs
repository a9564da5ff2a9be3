// SPDX-License-Identifier: MIT
// hugelist.page.mjs - a list past what a browser can make one element high. At 22 px a row,
// Chromium's cap on an element's height (about 33.5 million px) is reached near 1.5 million
// rows; past MAX_PX the page scales the scroll position instead. The question: with three
// million flows, does the scrollbar still span them all, and do End and a jump to the middle
// show the rows that are there?
//
// Three million stored flows would take minutes to make, and the page asks only for the rows
// it shows: the list calls (GET /api/flows) are answered by the test with rows made on the
// fly, the rest by the real binary. Ids run 1..N without gaps, newest first, so the row at
// position p has id N - p.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { cleanUp, launch, listTopRow, openList, skip, startFlowscope, until } from "./pagelib.mjs";
import { MAX_PX, scrollScale } from "../../static/js/flowlist.js";

const N = 3000000, ROW = 22;

function summary(id) {
	return { id, kind: "http", state: "done", method: "GET", scheme: "http",
		host: "huge.example", port: 80, path: "/n/" + id, status: 200, reason: "OK",
		content_type: "text/plain", request_body_size: 0, response_body_size: 1,
		timings: { start: 1767225600000000 + id, end: 1767225600001000 + id, duration: 1000 },
		error: null, tls: false, replay: false, client_addr: "127.0.0.1:1", server_addr: "" };
}

/** GET /api/flows as the store would answer it for N flows. */
function list(url) {
	const q = url.searchParams;
	const limit = Math.min(Number(q.get("limit") || 200), 1000);
	let from = 0; // position
	if (q.has("position"))
		from = Number(q.get("position"));
	else if (q.has("before"))
		from = N - Number(q.get("before")) + 1;
	const flows = [];
	for (let p = from; p < Math.min(N, from + limit); p++)
		flows.push(summary(N - p));
	return q.has("position") ? { flows, total: N, position: from } : { flows, total: N };
}

test("scroll positions scale past a browser's height cap", () => {
	assert.equal(scrollScale(1000 * ROW, 600), 1);
	assert.equal(scrollScale(MAX_PX, 600), 1);
	const k = scrollScale(N * ROW, 600);
	assert.ok(k > 4 && k < 5, "scale " + k);
	// the last real position shows the last rows
	assert.equal(Math.round((MAX_PX - 600) * k), N * ROW - 600);
});

test("three million rows: End and the middle", { skip, timeout: 90000 }, async (t) => {
	const T = mkdtempSync(join(tmpdir(), "fs-hugelist-"));
	let fs = null, browser = null;
	try {
		fs = await startFlowscope(T);
		browser = await launch();
		const page = await openList(browser, fs, N, (p) => p.route(
			(url) => url.pathname === "/api/flows", (route) =>
				route.request().method() === "GET"
					? route.fulfill({ json: list(new URL(route.request().url())) })
					: route.continue()));
		const vp = page.locator("#list .viewport");

		const h = await vp.evaluate((v) => v.scrollHeight);
		assert.ok(Math.abs(h - MAX_PX) < 2 * ROW, "scrollHeight " + h + ": capped, not 66M");
		assert.match(await page.locator("#counts").textContent(), /3,000,000 flows/);

		await vp.focus();
		const t0 = Date.now();
		await page.keyboard.press("End");
		await page.waitForSelector("#list .row.selected[data-id='1']", { timeout: 5000 });
		t.diagnostic("End: the oldest row selected in " + (Date.now() - t0) + " ms");
		assert.ok(await page.locator("#list .row[data-id='1']").isVisible());

		// a jump to the middle of the scrollbar: the rows at the middle of the list
		const real = await vp.evaluate((v) => {
			v.scrollTop = (v.scrollHeight - v.clientHeight) / 2;
			return { top: v.scrollTop, view: v.clientHeight };
		});
		const p = Math.floor(real.top * scrollScale(N * ROW, real.view) / ROW);
		const id = await until("rows in the middle", async () => {
			const got = (await listTopRow(page, ROW)).id; // (p is unscaled here: unused)
			return got && Math.abs(got - (N - p)) <= 1 ? got : null;
		}, 5000);
		assert.ok(Math.abs(id - N / 2) < N / 100, "row " + id + " near the middle");
		// the rows there are drawn one under the other, 22 px apart
		const ys = await page.evaluate(() => [...document.querySelectorAll(
			"#list .viewport .row[data-id]")].map((r) => [Number(r.dataset.id),
			r.getBoundingClientRect().top]).sort((a, b) => b[0] - a[0]));
		for (let i = 1; i < ys.length; i++)
			if (ys[i - 1][0] - ys[i][0] === 1)
				assert.equal(Math.round(ys[i][1] - ys[i - 1][1]), ROW);
	} finally {
		await cleanUp(T, browser, fs);
	}
});
