// SPDX-License-Identifier: MIT
// browser.test.mjs - the page in real Chromium against the real binary.
//
// The question this test answers: does a user who opens flowscope's page and browses through
// its proxy see their own traffic appear live, filter it, inspect JSON and images, act on flows
// - and can hostile traffic never run script in the page?
//
// Acting on flows is checked against the real server, not its 501s: Replay and Edit & replay
// add rows marked as replays (with the origin's answer), Duplicate adds a copy that says it is a duplicate, each
// format of the Export menu is copied and run against the origin (curl, HTTPie, Python requests
// and the raw request through nc in a shell, fetch() in node; HTTPie, requests and nc are
// skipped when missing) and its "Save HAR of this flow" gives that one entry, Export HAR
// downloads a file whose log.entries hold the flows, the Rules page saves an intercept filter
// (PUT 200) and shows the server's 400 for a bad regex, and requests sent through the
// proxy by the test itself (node's http) that match the intercept filter appear paused: one is
// edited (PUT) and resumed from the page and its client gets the origin's 200, another is killed
// and its client gets a 502. The rules are reset afterwards, whatever happened.
//
// Set-up (browserfixture.mjs), all on 127.0.0.1 and stopped by PID at the end: origin.py (HTTP and
// HTTPS), the flowscope binary ($FLOWSCOPE_BIN, or build-ui/proxy/flowscope) with a fresh confdir,
// and Debian's chromium (driven by playwright-core) whose own traffic goes through flowscope
// (--proxy-server, "<-loopback>" so loopback is proxied too, the UI's port bypassed) and which
// trusts flowscope's CA by its SPKI hash. Skips when the binary, chromium or playwright-core is
// missing. Screenshots go to $UI_SCREENSHOT_DIR (default: $FLOWSCOPE_BUILD/ui-screenshots, else
// tests/ui/screenshots/out); FLOWSCOPE_UPDATE_SCREENSHOT=1 also refreshes the README's
// tests/ui/screenshots/main.png. The page is the one embedded in the binary, or the files in
// $UI_STATIC_DIR (served with --static-dir) when that is set.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, copyFileSync, writeFileSync }
	from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./net.mjs";
import { startSession, TOKEN } from "./browserfixture.mjs";
import { BIN, shotDir, skip, sleep, start, stopAll, until } from "./pagelib.mjs";

const here = import.meta.dirname;

test("the page in Chromium, through the real proxy", { skip, timeout: 180000 }, async (t) => {
	const T = mkdtempSync(join(tmpdir(), "fs-ui-"));
	mkdirSync(shotDir, { recursive: true });
	const procs = [];
	let browser = null;
	try {
		const session = await startSession(t, T, procs);
		browser = session.browser;
		const { httpPort, httpsPort, proxyPort, web, fs, fsArgs, fsOpts, ui, dialogs, pageErrors,
			cspErrors, step } = session;
		const ctx = browser;
		let uiUrl = web + "/";

		await step("page loads and goes live", async () => {
			await ui.goto(web + "/?token=" + TOKEN); // trades the token for the cookie
			uiUrl = ui.url().replace(/#.*/, "");
			await ui.waitForSelector("#conn[data-state=live]", { timeout: 10000 });
			assert.equal(await ui.title(), "flowscope");
		});

		await step("clear all empties the list", async () => {
			// What Chromium fetched by itself at start-up goes; the reset reaches the page.
			// Chromium may fetch something of its own right after a clear: clear again then.
			for (let i = 0; ; i++) {
				await ui.locator("#clear-all").click(); // arms
				await ui.locator("#clear-all").click(); // clears
				try {
					await until("empty list", async () => (await ui.evaluate(() =>
						window.flowscopeStats().total)) === 0, 5000);
					break;
				} catch (e) {
					if (i >= 5)
						throw e;
				}
			}
			// the reset event may come before the DELETE's answer, which the note waits for
			await until("the note says cleared", async () =>
				/cleared/.test(await ui.locator("#note").textContent()));
		});

		// A second tab is the "user browsing": its requests go through the proxy.
		const tab = await ctx.newPage();
		// The UI goes back to the front after each visit: a background tab gets one animation
		// frame a second, and the list renders in animation frames.
		const visit = async (url) => {
			const r = await tab.goto(url);
			await ui.bringToFront();
			return r && r.status();
		};
		const base = "http://127.0.0.1:" + httpPort;

		await step("rows appear live", async () => {
			assert.equal(await visit(base + "/data.json"), 200);
			assert.equal(await visit(base + "/pixel.png"), 200);
			assert.equal(await visit(base + "/xss.html"), 200);
			assert.equal(await visit(base + "/nothing"), 404);
			assert.equal(await visit("https://127.0.0.1:" + httpsPort + "/data.json?tls=1"), 200);
			// a form POST from the page the tab shows (a fetch, also through the proxy)
			assert.equal(await tab.evaluate(async () => (await fetch("/submit?from=test", {
				method: "POST", body: "name=flow+scope&html=%3Cb%3Ehi%3C%2Fb%3E",
				headers: { "Content-Type": "application/x-www-form-urlencoded" } })).status), 200);
			await ui.bringToFront();
			for (const p of ["/data.json", "/pixel.png", "/xss.html", "/nothing"])
				await ui.waitForSelector(`#list .row[data-id] .c-path:text-is("${p}")`,
					{ timeout: 20000 });
			await ui.waitForSelector('#list .row[data-id] .c-path:text-is("/data.json?tls=1")');
			const tlsRow = ui.locator('#list .row[data-id]:has(.c-path:text-is("/data.json?tls=1"))');
			await until("the TLS mark", async () => (await tlsRow.locator(".m-tls").count()) === 1);
			const notFound = ui.locator('#list .row[data-id]:has(.c-path:text-is("/nothing")) .c-status');
			await until("status 404", async () => (await notFound.textContent()) === "404");
			assert.match(await notFound.getAttribute("class"), /s4xx/);
		});

		await step("filter narrows the rows and shows syntax errors", async () => {
			await ui.keyboard.press("Escape");
			await ui.locator("#list .viewport").focus();
			await ui.keyboard.press("/");
			assert.equal(await ui.evaluate(() => document.activeElement.id), "filter");
			await ui.keyboard.type("~u pixel");
			await until("filtered rows", async () => {
				const paths = await ui.locator("#list .row[data-id] .c-path").allTextContents();
				return paths.length > 0 && paths.every((p) => p.includes("pixel"));
			});
			await until("the counts say matching", async () =>
				/matching/.test(await ui.locator("#counts").textContent()));
			// a new matching flow appears in the filtered list; others stay out
			await visit(base + "/nothing?again");
			await visit(base + "/pixel.png?again=1");
			await ui.waitForSelector('#list .row[data-id] .c-path:text-is("/pixel.png?again=1")',
				{ timeout: 10000 });
			assert.equal(await ui.locator('#list .row[data-id] .c-path:text-is("/nothing?again")')
				.count(), 0);
			await ui.fill("#filter", "~u (");
			await ui.waitForSelector("#filter-error:not(.hidden)", { timeout: 5000 });
			await until("an error message", async () =>
				(await ui.locator("#filter-error").textContent()).length > 3);
			await until("the filter marked invalid", async () =>
				/invalid/.test(await ui.locator("#filter").getAttribute("class")));
			await ui.screenshot({ path: join(shotDir, "filter-error.png") });
			await ui.fill("#filter", "");
			await ui.waitForSelector("#filter-error", { state: "hidden" });
			await ui.waitForSelector('#list .row[data-id] .c-path:text-is("/data.json")');
		});

		await step("filter help lists the operators the parser accepts", async () => {
			await ui.click("#filter-help-button");
			await ui.waitForSelector('#filter-help:not(.hidden) code[data-insert="~websocket"]',
				{ timeout: 5000 });
			const ops = await ui.locator("#filter-help-ops code").allTextContents();
			for (const op of ["~websocket", "~marked", "~a", "~replay", "~src regex",
				"~dst regex", "~tq regex", "~ts regex", "~c number"])
				assert.ok(ops.includes(op), op + " is listed: " + ops.join(" "));
			await ui.screenshot({ path: join(shotDir, "filter-help.png") });
			await ui.click('#filter-help code[data-insert="~marked"]');
			await until("~marked inserted", async () => (await ui.inputValue("#filter")) ===
				"~marked");
			await ui.fill("#filter", "");
			await ui.click("#filter-help-button");
			await ui.waitForSelector("#filter-help", { state: "hidden" });
			await ui.waitForSelector('#list .row[data-id] .c-path:text-is("/data.json")');
		});

		await step("highlight marks matching rows", async () => {
			await ui.fill("#highlight", "~u xss");
			await ui.waitForSelector("#list .row.hl", { timeout: 5000 });
			const hl = await ui.locator("#list .row.hl .c-path").allTextContents();
			assert.ok(hl.length >= 1 && hl.every((p) => p.includes("xss")), hl.join());
			await ui.fill("#highlight", "");
		});

		const openRow = async (path) => {
			// Not following: rows stay where they are while Chromium's own requests arrive.
			if (await ui.locator("#follow").isChecked())
				await ui.locator("#follow").uncheck();
			await ui.locator(`#list .row[data-id]:has(.c-path:text-is("${path}"))`).first().click();
			await ui.waitForSelector("#detail .detail-title");
			// the detail of the flow clicked (not one still loading from before)
			await until("the detail of " + path, async () => (await ui.locator(
				"#detail .detail-title").textContent()).includes(path));
			await ui.locator('#detail .tabs button[data-tab="response"]').click();
		};

		await step("JSON body pretty-printed and foldable", async () => {
			await openRow("/data.json");
			await ui.waitForSelector("#detail .json-tree .jl", { timeout: 5000 });
			const lines = await ui.locator("#detail .json-tree .jl").allTextContents();
			assert.ok(lines.length >= 10, "pretty-printed over many lines: " + lines.length);
			assert.ok(lines.some((l) => l.includes('"name": "flowscope"')), lines.join("\n"));
			const before = lines.length;
			await ui.locator('#detail .json-tree .fold[data-path=\'$."items"\']').click();
			await until("folding hides lines", async () =>
				(await ui.locator("#detail .json-tree .jl").count()) < before);
			// The README's picture: only the test's own traffic (not Chromium's background
			// requests), the JSON flow open.
			await ui.fill("#filter", "~d 127.0.0.1");
			await until("filtered", async () => /matching/.test(await ui.locator("#counts")
				.textContent()));
			await ui.waitForSelector('#list .row.open .c-path:text-is("/data.json")');
			await ui.screenshot({ path: join(shotDir, "json.png") });
			await ui.fill("#filter", "");
			await until("unfiltered", async () => !/matching/.test(await ui.locator("#counts")
				.textContent()));
			if (process.env.FLOWSCOPE_UPDATE_SCREENSHOT === "1")
				copyFileSync(join(shotDir, "json.png"), join(here, "screenshots", "main.png"));
		});

		await step("image previewed from the body endpoint", async () => {
			await openRow("/pixel.png");
			const img = ui.locator("#detail img.preview");
			await img.waitFor({ timeout: 5000 });
			assert.match(await img.getAttribute("src"),
				/^\/api\/flows\/\d+\/response\/body(\?decode=1)?[?&]type=image%2Fpng$/);
			await until("image decoded", () => img.evaluate((i) => i.complete &&
				i.naturalWidth === 16));
			await ui.screenshot({ path: join(shotDir, "image.png") });
		});

		await step("a stored SVG is shown and runs nothing in the UI's origin", async () => {
			// An SVG whose script, run in our origin, would replace the rules with the
			// user's cookie (a HAR entry, as an imported file brings it).
			const evil = "<svg xmlns='http://www.w3.org/2000/svg' width='24' height='12'>" +
				"<rect width='24' height='12' fill='red'/><script>fetch('/api/rules', " +
				"{method: 'PUT', headers: {'Content-Type': 'application/json'}, body: " +
				"JSON.stringify({block: [{filter: '~u svgran'}]})}); window.pwned = 1;" +
				"</script></svg>";
			const har = { log: { version: "1.2", creator: { name: "t", version: "1" }, entries: [{
				startedDateTime: new Date().toISOString(), time: 1,
				request: { method: "GET", url: "http://svg.example/evil.svg", httpVersion:
					"HTTP/1.1", headers: [], queryString: [], cookies: [], headersSize: -1,
					bodySize: 0 },
				response: { status: 200, statusText: "OK", httpVersion: "HTTP/1.1", headers:
					[{ name: "Content-Type", value: "image/svg+xml" }], cookies: [],
					content: { size: evil.length, mimeType: "image/svg+xml", text: evil },
					redirectURL: "", headersSize: -1, bodySize: evil.length },
				cache: {}, timings: { send: 0, wait: 1, receive: 0 } }] } };
			const auth = { Authorization: "Bearer " + TOKEN };
			const imp = await fetch(web + "/api/har", { method: "POST", headers: { ...auth,
				"Content-Type": "application/json" }, body: JSON.stringify(har) });
			assert.equal(imp.status, 200);
			const rulesBefore = await (await fetch(web + "/api/rules", { headers: auth })).text();
			await ui.waitForSelector('#list .row[data-id] .c-path:text-is("/evil.svg")',
				{ timeout: 10000 });
			await openRow("/evil.svg");
			const img = ui.locator("#detail img.preview");
			await img.waitFor({ timeout: 5000 });
			const src = await img.getAttribute("src");
			assert.ok(!src.startsWith("blob:"), src);
			await until("SVG shown", () => img.evaluate((i) => i.complete &&
				i.naturalWidth === 24));
			// what its address answers: the image type, never as a document of our origin
			const res = await fetch(new URL(src, web), { headers: auth });
			assert.equal(res.headers.get("content-type"), "image/svg+xml");
			assert.match(res.headers.get("content-disposition"), /^attachment/);
			assert.match(res.headers.get("content-security-policy"), /; sandbox$/);
			// a top-level navigation to it, with the user's cookie: a download, no script
			const tab = await ctx.newPage();
			const download = tab.waitForEvent("download", { timeout: 5000 }).catch(() => null);
			await tab.goto(new URL(src, web).href).catch(() => {});
			const dl = await download;
			if (dl)
				await dl.cancel().catch(() => {});
			await sleep(500);
			assert.equal(await tab.evaluate(() => window.pwned).catch(() => undefined),
				undefined);
			await tab.close();
			assert.equal(await ui.evaluate(() => window.pwned), undefined);
			assert.equal(await (await fetch(web + "/api/rules", { headers: auth })).text(),
				rulesBefore, "the SVG's script did not run");
		});

		await step("hostile HTML never executes", async () => {
			await openRow("/xss.html");
			await ui.waitForSelector("#detail pre.code", { timeout: 5000 });
			await until("the body shown as text", async () => (await ui.locator(
				"#detail pre.code").textContent()).includes("<script>window.pwned=1"));
			await ui.locator('#detail .tabs button[data-tab="response"]').click();
			await until("the header shown as text", async () => (await ui.locator(
				"#detail table.kv").first().textContent()).includes(
				"<img src=x onerror=window.pwned=1>"));
			// every view of the body, and the JSON that carries markup in strings
			for (const v of ["html", "text", "hex", "auto"]) {
				await ui.selectOption("#detail .body-bar select", v);
				await sleep(200);
			}
			await openRow("/data.json");
			await sleep(300);
			await ui.locator('#detail .tabs button[data-tab="request"]').click();
			await sleep(300);
			assert.equal(await ui.evaluate(() => window.pwned), undefined);
			assert.deepEqual(dialogs, []);
			assert.equal(await ui.evaluate(() => document.scripts.length), 1);
			assert.equal(await ui.evaluate(() => document.querySelectorAll("img:not(.preview)")
				.length), 0);
		});

		await step("form body and query as tables", async () => {
			await openRow("/submit?from=test");
			await ui.locator('#detail .tabs button[data-tab="request"]').click();
			await ui.waitForSelector('#detail .content[data-view="form"] table.kv');
			const form = await ui.locator('#detail .content[data-view="form"]').textContent();
			assert.ok(form.includes("flow scope") && form.includes("<b>hi</b>"), form);
			const tables = await ui.locator("#detail table.kv").allTextContents();
			assert.ok(tables.some((x) => x.includes("from") && x.includes("test")), "query table");
		});

		await step("a failed flow shows its error", async () => {
			const closed = await freePort(); // nothing listens there
			await visit("http://127.0.0.1:" + closed + "/refused");
			await openRow("/refused");
			await ui.waitForSelector('#detail .tabs button[data-tab="error"]');
			await ui.locator('#detail .tabs button[data-tab="error"]').click();
			const msg = await until("an error text", async () => {
				const m = await ui.locator("#detail .error-box").textContent();
				return m.length > 5 && m;
			});
			const row = ui.locator('#list .row[data-id]:has(.c-path:text-is("/refused"))');
			await until("the row marked as an error", async () =>
				(await row.locator(".m-error").count()) === 1);
			t.diagnostic("refused: " + msg);
		});

		await step("copy as curl repeats the request", async () => {
			await openRow("/submit?from=test");
			await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: web });
			await ui.locator('#detail button[data-action="copy-as-curl"]').click();
			let cmd;
			await until("curl command", async () => {
				if (await ui.locator("dialog[open] textarea").count())
					cmd = await ui.locator("dialog[open] textarea").inputValue();
				else if (/copied/.test(await ui.locator("#note").textContent()))
					cmd = await ui.evaluate(() => navigator.clipboard.readText());
				return cmd;
			});
			if (await ui.locator("dialog[open]").count())
				await ui.keyboard.press("Escape");
			assert.match(cmd, /--url 'https?:\/\/127\.0\.0\.1:\d+\/submit\?from=test'/);
			assert.match(cmd, /--data-raw 'name=flow\+scope&html=%3Cb%3Ehi%3C%2Fb%3E'/);
			// run it (straight to the origin, whose certificate is self-signed): the origin
			// answers with the size of the body it got
			const out = execFileSync("sh", ["-c", cmd + " --silent --insecure --noproxy '*'"])
				.toString();
			assert.deepEqual(JSON.parse(out), { got: 40 });
		});

		await step("Export menu: each format pasted and run against the origin", async () => {
			// a form POST over plain HTTP (the one above went to the HTTPS origin, whose
			// self-signed certificate each tool would need to be told about)
			await visit(base + "/nothing?export");
			assert.equal(await tab.evaluate(async () => (await fetch("/submit?from=export", {
				method: "POST", body: "name=flow+scope&html=%3Cb%3Ehi%3C%2Fb%3E",
				headers: { "Content-Type": "application/x-www-form-urlencoded" } })).status), 200);
			await ui.bringToFront();
			await ui.waitForSelector('#list .row[data-id] .c-path:text-is("/submit?from=export")',
				{ timeout: 20000 });
			await openRow("/submit?from=export");
			await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: web });
			const menuItem = (id) => ui.locator(
				`.menu.placed:popover-open button[data-export="${id}"]`);
			const copied = async (id, shot) => {
				await ui.evaluate(() => navigator.clipboard.writeText("-"));
				await ui.locator('#detail button[data-action="export"]').click();
				await menuItem(id).waitFor({ timeout: 5000 });
				if (shot)
					await ui.screenshot({ path: join(shotDir, shot) });
				await menuItem(id).click();
				let text;
				await until(id + " text", async () => {
					if (await ui.locator("dialog[open] textarea").count())
						text = await ui.locator("dialog[open] textarea").inputValue();
					else
						text = await ui.evaluate(() => navigator.clipboard.readText());
					return text !== "-" && text;
				});
				if (await ui.locator("dialog[open]").count())
					await ui.keyboard.press("Escape");
				return text;
			};
			const env = { ...process.env, NO_PROXY: "*", no_proxy: "*" };
			const run = (cmd, input) => execFileSync("sh", ["-c", cmd], { env, input, cwd: T,
				timeout: 30000 }).toString();
			const have = (cmd) => {
				try {
					execFileSync("sh", ["-c", cmd], { stdio: "ignore", env });
					return true;
				} catch {
					return false;
				}
			};
			const got = { got: 40 }; // the origin answers with the size of the body it got
			// the menu lists every format, keyboard and all
			const ids = await (async () => {
				await ui.locator('#detail button[data-action="export"]').click();
				await ui.waitForSelector(".menu.placed:popover-open");
				await until("the first item focused", async () => (await ui.evaluate(() =>
					document.activeElement.dataset.export)) === "curl");
				await ui.keyboard.press("ArrowDown");
				await until("the second item focused", async () => (await ui.evaluate(() =>
					document.activeElement.dataset.export)) === "httpie");
				const all = await ui.locator(".menu:popover-open button").evaluateAll((bs) =>
					bs.map((b) => b.dataset.export));
				await ui.keyboard.press("Escape");
				await ui.waitForSelector(".menu:popover-open", { state: "detached" }).catch(() => {});
				assert.equal(await ui.locator(".menu:popover-open").count(), 0);
				assert.ok(await ui.locator("#split.has-detail").count(), "Escape closed only the menu");
				return all;
			})();
			assert.deepEqual(ids, ["curl", "httpie", "fetch", "python", "raw-request",
				"raw-response", "raw", "har"]);

			const curl = await copied("curl", "export-menu.png");
			assert.match(curl, /--url 'http:\/\/127\.0\.0\.1:\d+\/submit\?from=export'/);
			assert.deepEqual(JSON.parse(run(curl + " --silent --noproxy '*'")), got);

			const httpie = await copied("httpie");
			assert.match(httpie, /^http .*-- POST 'http:\/\/127\.0\.0\.1:\d+\/submit\?from=export'/m);
			if (have("command -v http"))
				assert.deepEqual(JSON.parse(run(httpie)), got);
			else
				t.diagnostic("no http (httpie): the HTTPie command was not run");

			const py = await copied("python");
			assert.match(py, /^import requests$/m);
			if (have("python3 -c 'import requests'")) {
				writeFileSync(join(T, "export.py"), py);
				assert.match(run("python3 export.py"), /^200 OK\n\{"got": 40\}/);
			} else {
				t.diagnostic("no python3 requests: the Python code was not run");
			}

			const fetchCode = await copied("fetch");
			assert.match(fetchCode, /^\/\/ note: the browser sets these itself, a page cannot: .*Host/m);
			const res = await (0, eval)(fetchCode);
			assert.deepEqual(await res.json(), got);

			const raw = await copied("raw-request");
			assert.match(raw, /^POST \/submit\?from=export HTTP\/1\.1\r\n/);
			if (have("command -v nc"))
				assert.match(run("nc -N 127.0.0.1 " + httpPort + " || nc -q 2 127.0.0.1 " +
					httpPort, raw), /^HTTP\/1\.[01] 200 [\s\S]*\{"got": 40\}$/);
			const rawResp = await copied("raw-response");
			assert.match(rawResp, /^HTTP\/1\.[01] 200 OK\r\n[\s\S]*\r\n\r\n\{"got": 40\}$/);
			const both = await copied("raw");
			assert.equal(both, raw + "\r\n\r\n" + rawResp);

			// HAR of this flow: the server's HAR cut down to this one entry
			const dl = ui.waitForEvent("download", { timeout: 20000 });
			await ui.locator('#detail button[data-action="export"]').click();
			await menuItem("har").click();
			const file = join(T, "one.har");
			await (await dl).saveAs(file);
			const har = JSON.parse(readFileSync(file, "utf8"));
			assert.equal(har.log.entries.length, 1);
			assert.match(har.log.entries[0].request.url, /^http:\/\/.*\/submit\?from=export$/);
			assert.equal(har.log.entries[0].request.postData.text,
				"name=flow+scope&html=%3Cb%3Ehi%3C%2Fb%3E");
		});

		await step("timing and connection tabs", async () => {
			await openRow("/data.json?tls=1");
			await ui.locator('#detail .tabs button[data-tab="timing"]').click();
			await ui.waitForSelector("#detail .waterfall .wf-row");
			await ui.screenshot({ path: join(shotDir, "timing.png") });
			await ui.locator('#detail .tabs button[data-tab="connection"]').click();
			await until("the connection says TLS", async () =>
				/TLS/.test(await ui.locator("#detail .connection").textContent()));
			const conn = await ui.locator("#detail .connection").textContent();
			// the listener the flow came through: its mode and address
			assert.match(conn, /mode\s*(mitm|regular)listener/);
			assert.match(conn, /listener\s*127\.0\.0\.1:\d+/);
		});

		await step("keyboard moves and opens", async () => {
			await ui.keyboard.press("Escape");
			await ui.locator("#list .viewport").focus();
			await ui.keyboard.press("Home");
			await ui.keyboard.press("j");
			await ui.keyboard.press("Enter");
			await ui.waitForSelector("#split.has-detail");
			const sel = await ui.locator("#list .row.selected").getAttribute("data-id");
			const second = await ui.evaluate(() => window.flowscopeStats && document
				.querySelectorAll("#list .row[data-id]")[1] && true);
			assert.ok(sel && second);
			await ui.keyboard.press("Escape");
			await ui.waitForSelector("#split:not(.has-detail)");
		});

		await step("replay adds a row marked as a replay of the flow", async () => {
			await openRow("/data.json");
			const src = Number(await ui.locator("#list .row.open").getAttribute("data-id"));
			const rowsBefore = await ui.evaluate(() => window.flowscopeStats().total);
			await ui.locator('#detail button[data-action="replay"]').click();
			await until("a replay row", async () => (await ui.locator(
				'#list .row[data-id]:has(.m-replay):has(.c-path:text-is("/data.json"))').count()) > 0,
			15000);
			// the row may come live before the POST's answer, which the note waits for
			await until("the note says replayed", async () =>
				/Replayed #\d+ as #\d+/.test(await ui.locator("#note").textContent()));
			assert.ok(await ui.evaluate(() => window.flowscopeStats().total) > rowsBefore);
			// the new flow opens; it says what it replays and got the origin's answer
			await until("the replay open", async () => {
				const open = ui.locator("#list .row.open");
				return (await open.locator(".m-replay").count()) === 1 &&
					(await open.locator(".c-status").textContent()) === "200";
			}, 15000);
			const title = await ui.locator('#list .row.open .c-marks').getAttribute("title");
			assert.match(title, new RegExp("replay of #" + src + "\\b"));
		});

		await step("edit and replay sends the edited request", async () => {
			await openRow("/data.json");
			await ui.locator('#detail button[data-action="edit-replay"]').click();
			await ui.waitForSelector("dialog[open] form.edit-form");
			await ui.fill('dialog[open] input[name="url"]', base + "/data.json?edited=1");
			await ui.fill('dialog[open] textarea[name="headers"]',
				"Host: 127.0.0.1:" + httpPort + "\nX-Edited: yes");
			await ui.locator('dialog[open] button[type="submit"]').click();
			await ui.waitForSelector("dialog[open]", { state: "detached", timeout: 10000 });
			const row = ui.locator('#list .row[data-id]:has(.m-replay):has(.c-path:text-is(' +
				'"/data.json?edited=1"))');
			await until("the edited replay row", async () => (await row.count()) > 0 &&
				(await row.first().locator(".c-status").textContent()) === "200", 15000);
		});

		await step("duplicate copies the flow, marked as a duplicate", async () => {
			await openRow("/pixel.png");
			await ui.locator('#detail button[data-action="duplicate"]').click();
			await until("duplicated", async () => /Duplicated #\d+/.test(await ui.locator("#note")
				.textContent()) || /failed/.test(await ui.locator("#note").textContent()), 15000);
			assert.match(await ui.locator("#note").textContent(), /Duplicated #\d+/);
			await until("a duplicate row", async () => (await ui.locator(
				'#list .row[data-id]:has(.m-duplicate):has(.c-path:text-is("/pixel.png"))').count())
				> 0, 15000);
		});

		await step("HAR export downloads a HAR file", async () => {
			const dl = ui.waitForEvent("download", { timeout: 20000 });
			await ui.locator("#har-all").click();
			const download = await dl;
			const file = join(T, "export.har");
			await download.saveAs(file);
			const har = JSON.parse(readFileSync(file, "utf8"));
			assert.ok(Array.isArray(har.log.entries), "log.entries");
			assert.ok(har.log.entries.length >= 4, "entries: " + har.log.entries.length);
			assert.ok(har.log.entries.some((e) => /\/data\.json$/.test(e.request.url)),
				"the /data.json flow is in it");
			await until("saved note", async () => /HAR saved/.test(await ui.locator("#note")
				.textContent()));
		});

		// The rules as the server has them, put back at the end whatever happens.
		const api = (method, path, body) => fetch(web + path, { method, headers: {
			Authorization: "Bearer " + TOKEN, "Content-Type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body) });
		const noRules = { ignore_hosts: [], allow_hosts: [], intercept: "", block: [] };
		// A GET straight through the proxy (absolute form), resolved with {status, body}.
		const proxyGet = (path) => new Promise((res, rej) => {
			const rq = httpRequest({ host: "127.0.0.1", port: proxyPort, path: base + path,
				headers: { Host: "127.0.0.1:" + httpPort } }, (r) => {
				const parts = [];
				r.on("data", (d) => parts.push(d));
				r.on("end", () => res({ status: r.statusCode,
					body: Buffer.concat(parts).toString() }));
			});
			rq.on("error", rej);
			rq.end();
		});

		await step("rules page saves an intercept filter and shows the server's 400", async () => {
			await ui.goto(uiUrl + "#/rules");
			// typed before the page's own GET /api/rules answers, the answer would overwrite it
			await ui.waitForSelector(".rules-form[data-state=ready] #rules-intercept");
			// a bad regex: the server says which, nothing changes
			await ui.fill("#rules-ignore", "(");
			await ui.locator(".rules-form button[type=submit]").click();
			await ui.waitForSelector(".rules-status.error-line", { timeout: 10000 });
			const msg = await ui.locator(".rules-status").textContent();
			assert.match(msg, /Not saved/);
			assert.match(msg, /ignore_hosts/);
			await ui.screenshot({ path: join(shotDir, "rules.png") });
			assert.deepEqual(await (await api("GET", "/api/rules")).json(), noRules);
			// a good intercept filter is saved (PUT answered 200) and read back
			await ui.fill("#rules-ignore", "");
			await ui.fill("#rules-intercept", "~q & ~u hold=");
			const put = ui.waitForResponse((r) => r.url().endsWith("/api/rules") &&
				r.request().method() === "PUT", { timeout: 10000 });
			await ui.locator(".rules-form button[type=submit]").click();
			assert.equal((await put).status(), 200);
			await ui.waitForSelector(".rules-status.ok-line", { timeout: 10000 });
			const rules = await (await api("GET", "/api/rules")).json();
			assert.equal(rules.intercept, "~q & ~u hold=");
			await ui.locator(".rules-form button[type=button]").click(); // Reload
			await until("reloaded form", async () => (await ui.inputValue("#rules-intercept")) ===
				"~q & ~u hold=");
		});

		await step("intercepted flows pause; Resume lets one go on, Kill ends another",
			async () => {
				try {
					await ui.goto(uiUrl);
					await ui.waitForSelector("#conn[data-state=live]", { timeout: 10000 });
					const held = (n) => ui.locator('#list .row[data-id]:has(.c-path:text-is(' +
						'"/data.json?hold=' + n + '"))');
					// resume: the client's request completes with the origin's answer
					let settled = false;
					const first = proxyGet("/data.json?hold=1").finally(() => { settled = true; });
					await until("a paused row", async () => (await held(1).locator(".m-paused")
						.count()) === 1, 15000);
					await until("Resume all shown", () => ui.locator("#resume-all").isVisible());
					assert.equal(settled, false, "the client waits while the flow is paused");
					// Edit changes the paused request (PUT /api/flows/ID); Resume sends it on
					await openRow("/data.json?hold=1");
					await ui.locator('#detail button[data-action="edit"]').click();
					await ui.waitForSelector("dialog[open] form.edit-form");
					const hs = await ui.inputValue('dialog[open] textarea[name="headers"]');
					await ui.fill('dialog[open] textarea[name="headers"]', hs + "\nX-Edited: yes");
					await ui.locator('dialog[open] button[type="submit"]').click();
					await ui.waitForSelector("dialog[open]", { state: "detached", timeout: 10000 });
					await until("the note says edited", async () => /Edited the request/.test(
						await ui.locator("#note").textContent()));
					assert.equal(settled, false, "still paused after the edit");
					await ui.locator('#detail button[data-action="resume"]').click();
					const r1 = await first;
					assert.equal(r1.status, 200);
					assert.match(r1.body, /"name": "flowscope"/);
					await until("resumed row done", async () => (await held(1).locator(".m-paused")
						.count()) === 0 && (await held(1).locator(".c-status").textContent()) ===
						"200", 15000);
					await until("no Resume button", async () => (await ui.locator(
						'#detail button[data-action="resume"]').count()) === 0);
					await ui.locator('#detail .tabs button[data-tab="request"]').click();
					await until("the edited header recorded", async () => (await ui.locator(
						"#detail table.kv").allTextContents()).some((x) => x.includes("X-Edited")));
					// kill: the client gets a 502
					const second = proxyGet("/data.json?hold=2");
					await until("another paused row", async () => (await held(2)
						.locator(".m-paused").count()) === 1, 15000);
					await openRow("/data.json?hold=2");
					await ui.locator('#detail button[data-action="kill"]').click();
					const r2 = await second;
					assert.equal(r2.status, 502);
					await until("killed row marked as an error", async () => (await held(2)
						.locator(".m-error").count()) === 1, 15000);
					await until("Resume all hidden", async () => !(await ui.locator("#resume-all")
						.isVisible()));
					await until("the detail shows the killed flow", async () => (await ui.locator(
						'#detail button[data-action="kill"]').count()) === 0 && (await ui.locator(
						'#detail .tabs button[data-tab="error"]').count()) === 1, 15000);
					await ui.screenshot({ path: join(shotDir, "intercept.png") });
				} finally {
					const r = await api("PUT", "/api/rules", noRules);
					assert.equal(r.status, 200, "rules reset");
				}
			});

		await step("CA page offers the certificate", async () => {
			await ui.goto(uiUrl + "#/ca");
			const href = await ui.locator(".ca-page a.button").first().getAttribute("href");
			const r = await ui.evaluate(async (h) => (await fetch(h)).text(), href);
			assert.match(r, /BEGIN CERTIFICATE/);
			await ui.screenshot({ path: join(shotDir, "ca.png") });
		});

		await step("dark theme", async () => {
			await ui.emulateMedia({ colorScheme: "dark" });
			await ui.goto(uiUrl);
			await ui.waitForSelector("#conn[data-state=live]");
			await ui.locator('#list .row[data-id]:has(.c-path:text-is("/data.json"))').first().click();
			await ui.waitForSelector("#detail .json-tree .jl");
			const bg = await ui.evaluate(() => getComputedStyle(document.body).backgroundColor);
			assert.equal(bg, "rgb(22, 24, 29)");
			await ui.screenshot({ path: join(shotDir, "dark.png") });
			// the Export menu in the dark theme
			await ui.locator('#detail button[data-action="export"]').click();
			await ui.waitForSelector(".menu.placed:popover-open");
			assert.equal(await ui.locator(".menu:popover-open").evaluate((m) =>
				getComputedStyle(m).backgroundColor), "rgb(22, 24, 29)");
			await ui.screenshot({ path: join(shotDir, "export-menu-dark.png") });
			await ui.keyboard.press("Escape");
		});

		await step("a long list pages in as it scrolls, few rows in the DOM", async () => {
			// 450 more flows, straight through the proxy (absolute-form requests)
			const get = (i) => new Promise((res, rej) => {
				const rq = httpRequest({ host: "127.0.0.1", port: proxyPort,
					path: base + "/many/" + i, headers: { Host: "127.0.0.1:" + httpPort } },
				(r) => {
					r.resume();
					r.on("end", res);
				});
				rq.on("error", rej);
				rq.end();
			});
			for (let i = 0; i < 450; i += 15)
				await Promise.all(Array.from({ length: 15 }, (_, k) => get(i + k)));
			await ui.goto(uiUrl);
			await ui.waitForSelector("#conn[data-state=live]");
			const stats = () => ui.evaluate(() => window.flowscopeStats());
			await until("all flows counted", async () => (await stats()).total >= 450);
			const first = await stats();
			assert.ok(first.rows < first.total, "the first page is not everything: " +
				JSON.stringify(first));
			// The scrollbar spans every flow, loaded or not: its end is the oldest flows.
			await until("the scrollbar spans " + first.total + " rows", async () =>
				(await ui.evaluate(() => document.querySelector("#list .viewport")
					.scrollHeight)) >= first.total * 22);
			await ui.evaluate(() => {
				const v = document.querySelector("#list .viewport");
				v.scrollTop = v.scrollHeight;
			});
			await until("the last rows shown", async () => {
				const s = await stats();
				return s.far > 0 || s.rows === s.total;
			});
			const end = await stats();
			assert.ok(end.domRows < 80, "virtualized: " + end.domRows + " rows in the DOM");
			// The oldest rows show at the bottom; rows may still be appended while we scroll
			// (a busy machine), so scroll again until the early /data.json row is in view.
			const dataRow = ui.locator('#list .row[data-id] .c-path:text-is("/data.json")');
			await until("the early /data.json row in view at the bottom", async () => {
				await ui.evaluate(() => {
					const v = document.querySelector("#list .viewport");
					v.scrollTop = v.scrollHeight;
				});
				await sleep(200);
				return (await dataRow.count()) > 0 && await dataRow.first().isVisible();
			}, 30000);
		});

		await step("reconnects after a restart", async () => {
			fs.kill("SIGTERM");
			await new Promise((r) => fs.once("exit", r));
			assert.equal(fs.exitCode, 0, "flowscope exits cleanly");
			await ui.waitForSelector("#conn[data-state=reconnecting]", { timeout: 10000 });
			const again = start(BIN, fsArgs, fsOpts, "flowscope-2.log", T);
			procs.push(again);
			await ui.waitForSelector("#conn[data-state=live]", { timeout: 30000 });
			// the list was loaded again; the row in view is not in its first page, so the
			// view went back to the newest flows
			await until("following the newest", () => ui.locator("#follow").isChecked());
			await until("the list loaded again", async () =>
				(await ui.evaluate(() => window.flowscopeStats())).total >= 460);
			// and live updates flow again
			await visit(base + "/after-restart");
			await ui.waitForSelector('#list .row[data-id] .c-path:text-is("/after-restart")',
				{ timeout: 10000 });
		});

		await step("a store whose file was deleted starts over at its path", async () => {
			const storeError = ui.locator("#store-error");
			assert.ok(await storeError.isHidden(), "nothing to say while it stores");
			for (const f of ["flows.db", "flows.db-wal", "flows.db-shm"])
				rmSync(join(T, f), { force: true });
			// The writer starts a fresh store there with the next flow, and the page's list
			// starts over (a reset) with the flows recorded since.
			const after = ui.locator('#list .row[data-id] .c-path:text-is("/after-delete")');
			await until("the list holds only the flows recorded since", async () => {
				await visit(base + "/after-delete");
				return (await after.count()) > 0 &&
					(await ui.evaluate(() => window.flowscopeStats())).total < 100;
			}, 15000);
			assert.ok(existsSync(join(T, "flows.db")), "a fresh database at the path");
			assert.ok(await storeError.isHidden(), "flows are stored: the status line is quiet");
			await ui.screenshot({ path: join(shotDir, "store-deleted.png") });
		});

		await step("no CSP violations or script errors", () => {
			assert.deepEqual(cspErrors, []);
			assert.deepEqual(pageErrors, []);
		});
		t.diagnostic("screenshots in " + shotDir);
	} catch (e) {
		for (const p of procs)
			t.diagnostic(p.logName + ":\n" + p.log().slice(-3000));
		throw e;
	} finally {
		if (browser)
			await browser.close().catch(() => {});
		await stopAll(procs);
		rmSync(T, { recursive: true, force: true });
	}
});
