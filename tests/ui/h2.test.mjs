// SPDX-License-Identifier: MIT
// h2.test.mjs - a page load over HTTP/2 in Chromium through the real proxy.
//
// The question this test answers: when Chromium browses through flowscope to an origin that
// speaks h2 (nginx, http2 on its TLS port), does the page load whole, with each of its
// requests one flow of version HTTP/2.0 both ways (ALPN h2 mirrored to the origin) and a
// stream id, and does the page's detail of such a flow say HTTP/2.0 and show the stream?
//
// Set-up, all on 127.0.0.1 and stopped by PID at the end: nginx (a config of its own, a
// self-signed certificate; flowscope runs with --ssl-insecure), the flowscope binary with a
// fresh confdir (pagelib), Debian's chromium through flowscope (--proxy-server, loopback
// proxied too, the UI's port bypassed) trusting flowscope's CA by its SPKI hash. Skips like
// the other page tests, and when nginx is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";

import { freePort } from "./net.mjs";
import { CHROMIUM, api, cleanUp, skip as pageSkip, start, startFlowscope, stopAll, until } from
	"./pagelib.mjs";

const NGINX = "/usr/sbin/nginx";
const skip = pageSkip || (!existsSync(NGINX) ? "nginx is not installed" : false);

/** Resolves to true once something accepts on 127.0.0.1:port, else false. */
const listening = (port) => new Promise((resolve) => {
	const s = connect(port, "127.0.0.1");
	s.once("connect", () => {
		s.destroy();
		resolve(true);
	});
	s.once("error", () => resolve(false));
});

/** nginx serving root on 127.0.0.1:port over TLS with http2, its files under dir. */
function nginxConf(dir, root, port) {
	const user = process.getuid && process.getuid() === 0 ? "user root;" : "";
	return `${user}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path ${dir}/tmp;
	proxy_temp_path ${dir}/tmp;
	fastcgi_temp_path ${dir}/tmp;
	uwsgi_temp_path ${dir}/tmp;
	scgi_temp_path ${dir}/tmp;
	types { text/html html; text/css css; application/javascript js; image/svg+xml svg; }
	server {
		listen 127.0.0.1:${port} ssl http2;
		server_name localhost;
		ssl_certificate ${dir}/origin.pem;
		ssl_certificate_key ${dir}/origin.key;
		root ${root};
	}
}
`;
}

test("a page over HTTP/2 through the proxy", { skip, timeout: 90000 }, async (t) => {
	const T = mkdtempSync(join(tmpdir(), "fs-ui-h2-"));
	const procs = [];
	let browser = null, fs = null;
	try {
		// ---- nginx: a page with a stylesheet, a script and an image ----
		const nd = join(T, "nginx"), root = join(nd, "root");
		mkdirSync(join(nd, "tmp"), { recursive: true });
		mkdirSync(root, { recursive: true });
		execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt",
			"ec_paramgen_curve:P-256", "-nodes", "-keyout", join(nd, "origin.key"), "-out",
			join(nd, "origin.pem"), "-days", "2", "-subj", "/CN=localhost", "-addext",
			"subjectAltName=IP:127.0.0.1,DNS:localhost"], { stdio: "ignore" });
		writeFileSync(join(root, "index.html"), "<!doctype html><html><head>" +
			"<link rel=stylesheet href=style.css><script src=app.js></script></head>" +
			"<body><h1 id=title>h2 page</h1><img id=pic src=pic.svg></body></html>");
		writeFileSync(join(root, "style.css"), "h1 { color: rgb(1, 2, 3); }");
		writeFileSync(join(root, "app.js"), "window.appLoaded = true;");
		writeFileSync(join(root, "pic.svg"), "<svg xmlns='http://www.w3.org/2000/svg' " +
			"width='8' height='8'><rect width='8' height='8'/></svg>");
		const port = await freePort();
		writeFileSync(join(nd, "nginx.conf"), nginxConf(nd, root, port));
		const nginx = start(NGINX, ["-p", nd, "-c", join(nd, "nginx.conf"), "-e",
			join(nd, "error.log"), "-g", "daemon off;"], {}, "nginx.log", nd);
		procs.push(nginx);
		await until("nginx", async () => {
			if (nginx.exitCode !== null)
				throw new Error("nginx exited: " + nginx.log());
			return listening(port);
		});

		// ---- flowscope and chromium through it ----
		fs = await startFlowscope(T, { args: ["--ssl-insecure"] });
		const pem = readFileSync(join(T, "conf", "ca.pem"), "utf8");
		const spki = createHash("sha256").update(new X509Certificate(pem).publicKey
			.export({ type: "spki", format: "der" })).digest("base64");
		const { chromium } = await import("playwright-core");
		browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [
			"--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--disable-extensions", "--proxy-server=http://127.0.0.1:" + fs.proxyPort,
			"--proxy-bypass-list=<-loopback>;127.0.0.1:" + fs.webPort,
			"--ignore-certificate-errors-spki-list=" + spki] });
		const page = await browser.newPage();
		const base = "https://localhost:" + port;

		await t.test("the page loads whole", async () => {
			await page.goto(base + "/index.html", { waitUntil: "load", timeout: 20000 });
			assert.equal(await page.textContent("#title"), "h2 page");
			assert.equal(await page.evaluate(() => window.appLoaded), true);
			assert.equal(await page.evaluate(() =>
				getComputedStyle(document.querySelector("h1")).color), "rgb(1, 2, 3)");
			assert.equal(await page.evaluate(() => document.getElementById("pic").naturalWidth),
				8);
		});

		let flows = [];
		await t.test("its flows are HTTP/2.0 both ways, with a stream id", async () => {
			const paths = ["/index.html", "/style.css", "/app.js", "/pic.svg"];
			// the store batches its writes: read until all four are there, done
			flows = await until("the page's four flows", async () => {
				const r = await api(fs, "/api/flows?limit=50&filter=" +
					encodeURIComponent("~http2 & ~d localhost"));
				const got = r.flows.filter((f) => paths.includes(f.path) && f.state === "done");
				return got.length === paths.length ? got : null;
			}, 15000);
			for (const f of flows) {
				const full = await api(fs, "/api/flows/" + f.id);
				assert.equal(full.request.version, "HTTP/2.0", f.path);
				assert.equal(full.response.version, "HTTP/2.0", f.path);
				assert.equal(full.tls_info.alpn, "h2", f.path + ": ALPN h2 towards nginx");
				assert.ok(full.stream_id > 0 && full.stream_id % 2 === 1, f.path);
			}
		});

		await t.test("the detail shows HTTP/2.0 and the stream", async () => {
			const f = flows.find((x) => x.path === "/style.css");
			const ui = await browser.newPage();
			await ui.goto(fs.web + "/?token=" + fs.token);
			await ui.waitForSelector("#conn[data-state=live]");
			const row = ui.locator(`#list .row[data-id="${f.id}"]`);
			await row.waitFor({ timeout: 10000 });
			await row.click();
			await ui.waitForSelector("#detail .detail-title");
			await until("the response says HTTP/2.0 200", async () =>
				/HTTP\/2\.0 200/.test(await ui.textContent("#detail")), 10000);
			await ui.locator("#detail [data-tab=connection]").click();
			await until("the connection tab shows the stream", async () =>
				new RegExp("HTTP/2 stream\\s*" + f.stream_id).test(
					await ui.textContent("#detail")), 10000);
			await ui.close();
		});
	} finally {
		await stopAll(procs);
		await cleanUp(T, browser, fs);
	}
});
