// SPDX-License-Identifier: MIT
// edit.page.mjs - a captured flow edited where it stands, as mitmweb's users edit one. The
// question: a user opens a recorded flow, changes its response's status and body (the list
// and the detail show the edit and say "modified"), reverts it (what was captured is back),
// replaces a body from a file, edits the request (method, URL, body) and replays it (the
// origin receives the edit), and duplicates a flow (the copy says "duplicate").
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { freePort } from "./net.mjs";
import { api, cleanUp, curlProxied, flowBody, launch, skip, start, startFlowscope, stopAll, until }
	from "./pagelib.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ORIGIN = join(HERE, "..", "integration", "data", "origin.py");

test("edit, revert, replay the edit, duplicate", { skip, timeout: 90000 }, async () => {
	const T = mkdtempSync(join(tmpdir(), "fs-edit-"));
	let fs = null, browser = null;
	const procs = [];
	try {
		const port = await freePort();
		procs.push(start("python3", [ORIGIN, "--port", String(port)], {}, "origin", T));
		fs = await startFlowscope(T);
		const origin = "http://127.0.0.1:" + port;
		const curl = (path) => curlProxied(fs, origin + path).toString();
		await until("the origin", () => /status 200/.test(curl("/status/200/ready")));
		curl("/status/200/edit");
		const flow = (id) => api(fs, "/api/flows/" + id);
		const body = async (id, side) => (await flowBody(fs, id, side)).toString();

		browser = await launch();
		const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
		await page.goto(fs.web + "/?token=" + fs.token);
		await page.waitForSelector("#conn[data-state=live]");
		const row = page.locator('#list .row[data-id]:has(.c-path:text-is("/status/200/edit"))');
		await until("the captured row", async () => (await row.count()) === 1);
		const id = Number(await row.getAttribute("data-id"));
		await row.click();
		await page.waitForSelector("#detail .detail-title");
		const action = (name) => page.locator(`#detail button[data-action="${name}"]`);
		const dialog = page.locator("dialog[open] form.edit-form");

		// the response's status and body
		await action("edit-response").click();
		await dialog.waitFor();
		await dialog.locator("input[name=status]").fill("404");
		await dialog.locator("input[name=reason]").fill("Edited");
		await dialog.locator("textarea[name=body]").fill("edited body");
		await dialog.locator("button[type=submit]").click();
		await until("the list shows the edit", async () =>
			(await row.locator(".c-status").textContent()).trim() === "404" &&
			await row.locator(".m-modified").count() === 1);
		await until("the detail says modified", async () =>
			await page.locator("#detail .detail-title .badge.modified").count() === 1);
		await page.locator('#detail .tabs button[data-tab="response"]').click();
		await until("the edited body in the detail", async () =>
			(await page.locator("#detail .tab-body").textContent()).includes("edited body"));
		assert.equal((await flow(id)).modified, true);

		// Revert
		await action("revert").click();
		await until("the captured status back in the list", async () =>
			(await row.locator(".c-status").textContent()).trim() === "200" &&
			await row.locator(".m-modified").count() === 0);
		await until("the captured body back in the detail", async () =>
			(await page.locator("#detail .tab-body").textContent()).includes("status 200"));
		assert.equal(await body(id, "response"), "status 200\n");
		assert.equal(await action("revert").count(), 0, "nothing more to revert");

		// a body from a file
		await action("edit-response").click();
		await dialog.waitFor();
		await dialog.locator("input[data-field=body-file]").setInputFiles({ name: "b.bin",
			mimeType: "application/octet-stream", buffer: Buffer.from([0, 1, 2, 255]) });
		await dialog.locator("button[type=submit]").click();
		await until("the file is the body", async () =>
			(await flowBody(fs, id)).equals(Buffer.from([0, 1, 2, 255])));

		// the request, then Replay sends the edit
		await action("edit-request").click();
		await dialog.waitFor();
		await dialog.locator("input[name=method]").fill("POST");
		await dialog.locator("input[name=url]").fill(origin + "/echo?edited=1");
		await dialog.locator("textarea[name=body]").fill("hello origin");
		await dialog.locator("button[type=submit]").click();
		const edited = page.locator('#list .row[data-id="' + id + '"]');
		await until("the edited request in the list", async () =>
			(await edited.locator(".c-path").textContent()) === "/echo?edited=1" &&
			(await edited.locator(".c-method").textContent()) === "POST");
		await action("replay").click();
		const replayed = page.locator('#list .row[data-id]:has(.m-replay):has(.c-path:text-is(' +
			'"/echo?edited=1"))');
		await until("the replay's row", async () => (await replayed.count()) === 1 &&
			(await replayed.locator(".c-status").textContent()).trim() === "200", 15000);
		const newId = Number(await replayed.getAttribute("data-id"));
		// the row shows the status once the response's head is in; its body is stored when the
		// response ends, a moment later under load
		await until("the replay's response body", async () =>
			(await body(newId, "response")) === "hello origin", 15000).catch(() => {});
		assert.equal(await body(newId, "response"), "hello origin", "the origin got the edit");
		assert.equal((await flow(newId)).method, "POST");

		// Duplicate
		await edited.click();
		await until("the first flow open again", async () =>
			(await page.locator("#detail .detail-title").textContent()).includes("/echo?edited=1"));
		await action("duplicate").click();
		const dup = page.locator('#list .row[data-id]:has(.m-duplicate)');
		await until("a duplicate row", async () => (await dup.count()) === 1);
		const d = await flow(Number(await dup.getAttribute("data-id")));
		assert.equal(d.duplicate, true);
		assert.equal(d.imported, false);
		assert.equal(d.path, "/echo?edited=1");
	} finally {
		await cleanUp(T, browser, fs);
		await stopAll(procs);
	}
});
