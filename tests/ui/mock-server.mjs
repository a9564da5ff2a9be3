// SPDX-License-Identifier: MIT
// mock-server.mjs - a stand-in for flowscope's web API, for working on the page without the
// real binary (node tests/ui/mock-server.mjs [PORT] [NUM_FLOWS]; open /). It serves
// static/ with the real server's CSP, answers the REST calls with generated flows (a filter
// "~d WORD" matches hosts containing WORD; "~x" is a syntax error) and streams a new flow on
// /api/events every 700 ms. The browser test uses the real binary, never this.
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { readFileSync, existsSync } from "node:fs";
import { join, normalize, extname } from "node:path";

const port = Number(process.argv[2] || 8089);
const count = Number(process.argv[3] || 500);
const root = join(import.meta.dirname, "../../static");
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"connect-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'";
const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAKElEQVR4nGP8z8Dwn4EC" +
	"wESJ5lEDRg0YNWDUgFEDRg0YNWDUAAAtpAIdGc1QmgAAAABJRU5ErkJggg==", "base64");

const hosts = ["api.example.com", "cdn.example.net", "auth.example.org", "img.example.com"];
const flows = [];
let nextId = 1;
function make() {
	const id = nextId++;
	const host = hosts[id % hosts.length];
	const now = Date.now() * 1000;
	const kinds = [["/v1/items?page=" + id, "application/json", 200],
		["/logo.png", "image/png", 200], ["/index.html", "text/html", 200],
		["/missing", "text/plain", 404], ["/boom", "text/plain", 502]];
	const [path, ct, status] = kinds[id % kinds.length];
	return { id, kind: "http", state: id % 50 === 0 ? "paused" : "done", method: id % 7 ? "GET" : "POST", scheme: "https",
		host, port: 443, path, status, reason: "OK", content_type: ct, request_body_size: 0,
		response_body_size: 100 + id, timings: { start: now - 90000, dns_done: now - 85000,
			connect_done: now - 80000, tls_done: now - 60000, request_sent: now - 55000,
			first_byte: now - 20000, end: now, duration: 90000 }, error: null, tls: true,
		replay: false, client_addr: "127.0.0.1:50000", server_addr: "93.184.216.34:443",
		bytes_up: 300, bytes_down: 900 };
}
for (let i = 0; i < count; i++)
	flows.push(make());

function body(f) {
	if (f.content_type === "image/png")
		return png;
	if (f.content_type === "application/json")
		return Buffer.from(JSON.stringify({ id: f.id, items: [{ name: "<script>alert(1)</script>",
			ok: true }, { name: "b", n: 2.5 }], meta: null }));
	if (f.content_type === "text/html")
		return Buffer.from("<!doctype html><html><body><img src=x onerror=\"window.pwned=1\">" +
			"<script>window.pwned=1</script></body></html>");
	return Buffer.from("not found\n");
}

function matcher(filter) {
	if (!filter)
		return () => true;
	const bad = filter.indexOf("~x");
	if (bad >= 0)
		throw new Error("at " + bad + ": unknown operator ~x");
	const m = /~d\s+(\S+)/.exec(filter);
	return (f) => !m || f.host.includes(m[1]);
}

const sockets = new Set();
function wsSend(sock, text) {
	const data = Buffer.from(text);
	const head = data.length < 126 ? Buffer.from([0x81, data.length])
		: Buffer.from([0x81, 126, data.length >> 8, data.length & 255]);
	sock.write(Buffer.concat([head, data]));
}

const server = createServer((req, res) => {
	const url = new URL(req.url, "http://x");
	const send = (status, obj, type = "application/json") => {
		res.writeHead(status, { "content-type": type, "content-security-policy": csp });
		res.end(typeof obj === "string" || Buffer.isBuffer(obj) ? obj : JSON.stringify(obj));
	};
	if (url.pathname === "/bench/rate") {
		rate = Number(url.searchParams.get("r") || 0);
		return send(200, { sent });
	}
	if (!url.pathname.startsWith("/api/")) {
		const p = normalize(join(root, url.pathname === "/" ? "/index.html" : url.pathname));
		if (!p.startsWith(root) || !existsSync(p))
			return send(404, { error: "not found" });
		return send(200, readFileSync(p), types[extname(p)] || "application/octet-stream");
	}
	let m;
	if (url.pathname === "/api/flows" && req.method === "GET") {
		let match;
		try {
			match = matcher(url.searchParams.get("filter"));
		} catch (e) {
			return send(400, { error: e.message });
		}
		const before = Number(url.searchParams.get("before") || Infinity);
		const limit = Number(url.searchParams.get("limit") || 100);
		const all = flows.filter(match).reverse();
		return send(200, { flows: all.filter((f) => f.id < before).slice(0, limit),
			total: all.length });
	}
	if ((m = /^\/api\/flows\/(\d+)$/.exec(url.pathname))) {
		const f = flows.find((x) => x.id === Number(m[1]));
		if (!f)
			return send(404, { error: "no such flow" });
		return send(200, { ...f, request: { method: f.method, target: f.path, version: "HTTP/1.1",
			headers: [["Host", f.host], ["User-Agent", "mock"], ["Accept", "*/*"]], head_size: 80,
			body_size: 0, body_stored: 0, truncated: false }, response: { status: f.status,
			reason: "OK", version: "HTTP/1.1", headers: [["Content-Type", f.content_type],
				["Content-Length", String(body(f).length)]], head_size: 90,
			body_size: body(f).length, body_stored: body(f).length, truncated: false },
		tls_info: { sni: f.host, version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384",
			alpn: "http/1.1", cert_subject: "CN=" + f.host, cert_issuer: "CN=Mock CA",
			client_version: "TLSv1.3" } });
	}
	if ((m = /^\/api\/flows\/(\d+)\/response\/body$/.exec(url.pathname)))
		return send(200, body(flows.find((x) => x.id === Number(m[1]))),
			"application/octet-stream");
	if (/\/replay$|^\/api\/har/.test(url.pathname))
		return send(501, { error: "replay is not implemented yet" });
	if (url.pathname === "/api/rules")
		return send(200, { ignore_hosts: ["^bank\\.example:443$"], allow_hosts: [], intercept: "",
			block: [] });
	return send(404, { error: "no such call" });
});

server.on("upgrade", (req, sock) => {
	const key = req.headers["sec-websocket-key"];
	const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
		.digest("base64");
	sock.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + accept + "\r\n\r\n");
	sockets.add(sock);
	sock.on("close", () => sockets.delete(sock));
	sock.on("error", () => sockets.delete(sock));
	sock.on("data", () => {});
});

// The event rate: one flow every 700 ms, or RATE a second once GET /bench/rate?r=RATE set it
// (bench-page.mjs uses that to find how many events a second the page keeps up with).
let rate = 0, sent = 0;
function emitOne() {
	const f = make();
	flows.push(f);
	if (flows.length > 200000)
		flows.splice(0, 100000);
	const msg = JSON.stringify({ type: "flow", action: "add", flow: f });
	for (const s of sockets)
		wsSend(s, msg);
	sent++;
}
setInterval(() => {
	if (!rate)
		emitOne();
}, 700);
let carry = 0;
setInterval(() => {
	if (!rate)
		return;
	carry += rate / 100;
	for (; carry >= 1; carry--)
		emitOne();
}, 10);

server.listen(port, "127.0.0.1", () => console.log("mock on http://127.0.0.1:" + port + "/"));
