// SPDX-License-Identifier: MIT
// editencoded.page.mjs - a captured response whose body is gzip, edited in the page as mitmweb's
// users edit one. The question: does the edit form show the decoded text with the
// Content-Encoding header kept among the headers, and does saving store the typed text gzip'd
// again (the header still there, Content-Length following)?
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

import { freePort } from "./net.mjs";
import { api, cleanUp, curlProxied, flowBody, launch, skip, start, startFlowscope, stopAll, until }
	from "./pagelib.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ORIGIN = join(HERE, "..", "integration", "data", "encoded_origin.py");

test("a gzip body edited where it stands", { skip, timeout: 90000 }, async () => {
	const T = mkdtempSync(join(tmpdir(), "fs-editenc-"));
	let fs = null, browser = null;
	const procs = [];
	try {
		const port = await freePort();
		procs.push(start("/usr/bin/python3", [ORIGIN, "--port", String(port)], {}, "origin", T));
		fs = await startFlowscope(T);
		const curl = (path) => curlProxied(fs, "http://127.0.0.1:" + port + path);
		await until("the origin", () => curl("/x-custom").toString() ===
			"captured text for x-custom\n");
		assert.equal(gunzipSync(curl("/gzip")).toString(), "captured text for gzip\n");
		const raw = (id) => flowBody(fs, id);
		const header = (f, name) => (f.response.headers.find(([n]) =>
			n.toLowerCase() === name) || [])[1];

		browser = await launch();
		const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
		await page.goto(fs.web + "/?token=" + fs.token);
		await page.waitForSelector("#conn[data-state=live]");
		const row = page.locator('#list .row[data-id]:has(.c-path:text-is("/gzip"))');
		await until("the captured row", async () => (await row.count()) === 1);
		const id = Number(await row.getAttribute("data-id"));
		await row.click();
		await page.waitForSelector("#detail .detail-title");
		const dialog = page.locator("dialog[open] form.edit-form");
		await page.locator('#detail button[data-action="edit-response"]').click();
		await dialog.waitFor();
		const bodyBox = dialog.locator("textarea[name=body]");
		await until("the decoded text in the form", async () =>
			(await bodyBox.inputValue()) === "captured text for gzip\n");
		assert.match(await dialog.locator("textarea[name=headers]").inputValue(),
			/^Content-Encoding: gzip$/m, "the coding is among the headers");
		await bodyBox.fill("typed in the page");
		await dialog.locator("button[type=submit]").click();
		await until("the stored body is the typed text, gzip'd", async () => {
			try {
				return gunzipSync(await raw(id)).toString() === "typed in the page";
			} catch {
				return false;
			}
		});
		const f = await api(fs, "/api/flows/" + id);
		assert.equal(f.modified, true);
		assert.equal(header(f, "content-encoding"), "gzip");
		assert.equal(header(f, "content-length"), String((await raw(id)).length));
	} finally {
		await cleanUp(T, browser, fs);
		await stopAll(procs);
	}
});
