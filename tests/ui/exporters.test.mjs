// SPDX-License-Identifier: MIT
// exporters.test.mjs - static/js/exporters.js: every export format pasted and run against a
// real origin, fed hostile bytes in the method, URL, headers and body (quotes, $(...),
// backticks, newlines, NUL, escape sequences, '@' and '=' at the start of a value, non-UTF-8
// bytes the API gives as latin-1 code points with a latin1 mark, a body cut at the body limit).
//
// The origin is a raw TCP listener on 127.0.0.1 (node's net, not an HTTP library that would
// normalise what it reads): it records the request line, each header and the body as bytes.
// curl, HTTPie and the raw request (through nc) run in /bin/sh, the Python script in python3
// with requests, the fetch() call in this node; a missing tool skips its tests. Besides "it
// arrived exactly", each run checks that nothing was injected (a marker file the hostile
// "$(touch ...)" and backticks would create).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createServer, connect } from "node:net";
import { mkdtempSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportCurl, exportHttpie, exportFetch, exportPython, exportRawRequest,
	exportRawResponse, exportRaw, exportAs, FORMATS, jsString, pyBytes, pyString, bytesOf,
	harFilterFor, pickHarEntry } from "../../static/js/exporters.js";
import { freePort } from "./net.mjs";

const enc = new TextEncoder();
const B = (s) => Buffer.from(s, "latin1"); // a byte string

// ---- the recording origin -----------------------------------------------------------------

/** Parses one request out of buf: {method, target, headers: [[Buffer, Buffer]], body} or null. */
function parseRequest(buf) {
	const end = buf.indexOf("\r\n\r\n");
	if (end < 0)
		return null;
	const lines = [];
	let s = 0;
	for (;;) {
		const i = buf.indexOf("\r\n", s);
		if (i < 0 || i > end)
			break;
		lines.push(buf.subarray(s, i));
		s = i + 2;
	}
	const [method, target] = lines[0].toString("latin1").split(" ");
	const headers = lines.slice(1).map((l) => {
		const c = l.indexOf(":");
		let v = c + 1;
		while (l[v] === 0x20 || l[v] === 0x09)
			v++;
		return [l.subarray(0, c), l.subarray(v)];
	});
	const get = (n) => headers.find(([k]) => k.toString("latin1").toLowerCase() === n);
	let rest = buf.subarray(end + 4);
	let body;
	const te = get("transfer-encoding");
	if (te && /chunked/i.test(te[1].toString("latin1"))) {
		const parts = [];
		for (;;) {
			const i = rest.indexOf("\r\n");
			if (i < 0)
				return null;
			const n = parseInt(rest.subarray(0, i).toString("latin1"), 16);
			if (rest.length < i + 2 + n + 2)
				return null;
			if (n === 0)
				break;
			parts.push(rest.subarray(i + 2, i + 2 + n));
			rest = rest.subarray(i + 2 + n + 2);
		}
		body = Buffer.concat(parts);
	} else {
		const cl = get("content-length");
		const n = cl ? Number(cl[1].toString("latin1")) : 0;
		if (rest.length < n)
			return null;
		body = rest.subarray(0, n);
	}
	return { method, target: B(target), headers, body };
}

async function startOrigin() {
	const got = [];
	const server = createServer((sock) => {
		let buf = Buffer.alloc(0);
		sock.on("data", (d) => {
			buf = Buffer.concat([buf, d]);
			const r = parseRequest(buf);
			if (r) {
				got.push(r);
				sock.end("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n" +
					"Connection: close\r\n\r\nok\n");
			}
		});
		sock.on("error", () => {});
	});
	await new Promise((res) => server.listen(0, "127.0.0.1", res));
	return { port: server.address().port, got, close: () => server.close() };
}

// ---- tools --------------------------------------------------------------------------------

function have(cmd, args = ["--version"]) {
	try {
		execFileSync(cmd, args, { stdio: "ignore", timeout: 20000 });
		return true;
	} catch {
		return false;
	}
}
const tools = {
	curl: have("curl"),
	http: have("http"),
	python: have("python3", ["-c", "import requests"]),
	nc: have("sh", ["-c", "command -v nc"]),
};

const dir = mkdtempSync(join(tmpdir(), "fs-export-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const marker = join(dir, "PWNED");

/** Runs cmd in /bin/sh (asynchronously: the origin runs in this process). Its stdout. */
function sh(cmd, input = "") {
	return new Promise((resolve, reject) => {
		const child = spawn("/bin/sh", ["-c", cmd], { cwd: dir, timeout: 30000,
			env: { PATH: process.env.PATH, HOME: dir, LC_ALL: "C.UTF-8" } });
		const out = [], err = [];
		child.stdout.on("data", (d) => out.push(d));
		child.stderr.on("data", (d) => err.push(d));
		child.on("error", reject);
		child.on("close", (code) => {
			if (existsSync(marker))
				reject(new Error("command injection: " + cmd));
			else if (code !== 0)
				reject(new Error("exit " + code + ": " + Buffer.concat(err) + "\n" + cmd));
			else
				resolve(Buffer.concat(out));
		});
		child.stdin.end(input);
	});
}

// ---- the requests -------------------------------------------------------------------------

const HOSTILE = "it's \"quoted\" `touch PWNED` $(touch PWNED) ${HOME} \\ \\' %s %% ; & | > < !!";
const BINARY = new Uint8Array([0, 1, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x27, 0x24, 0x28, 0xff,
	0xfe, 0x0a, 0x0d, 0x80, 0x25, 0x73, 0x5c]);

/** The cases: a name, the request, and what some formats cannot send as is. */
function cases(port) {
	const base = "http://127.0.0.1:" + port;
	return [
		{ name: "hostile headers and a text body", req: {
			method: "POST",
			url: base + "/p/it's/$(touch%20PWNED)/;a=b/*/[x]?q='$(touch+PWNED)'&r=%41%25s!",
			headers: [["Host", "127.0.0.1:" + port], ["X-Hostile", HOSTILE],
				["X-Json", "=not json"], ["X-File", "@/etc/passwd"], ["X-Eq", "a:=b==c"],
				["X-Utf8", "café ✓ 😀"], ["X-Empty", ""], ["-X-Dash", "dash"], ["@evil", "x"],
				["Content-Type", "application/json"], ["Content-Length", "999"]],
			body: enc.encode("@/etc/passwd {\"a\": \"it's $(touch PWNED) `touch PWNED`\"}\n\tend\n"),
		} },
		{ name: "a binary body", req: {
			method: "PUT", url: base + "/bin",
			headers: [["Content-Type", "application/octet-stream"], ["X-A", "1"], ["X-A", "2"]],
			body: BINARY,
		} },
		{ name: "a body cut at the body limit", req: {
			method: "POST", url: base + "/cut",
			headers: [["Content-Type", "text/plain"], ["Content-Length", "1048576"]],
			body: enc.encode("x".repeat(1000)), truncated: true,
		} },
		{ name: "a method that is a token but no word, a NUL in a header", nul: true, req: {
			method: "PO'ST", url: base + "/m",
			headers: [["X-Nul", "a\0b"], ["Content-Type", "text/plain"]],
			body: enc.encode("x"),
		} },
		{ name: "latin-1 bytes (not UTF-8) in the path and a header", latin1Bytes: true, req: {
			method: "GET", url: base + "/caf\u00e9?x=\u00ff", latin1: true,
			headers: [["X-L", "caf\u00e9"], ["Accept-Encoding", "gzip, deflate"]],
			body: null,
		} },
	];
}

/** The header value a format sent for name (the first), as bytes, or undefined. */
function sent(got, name) {
	const h = got.headers.find(([k]) => k.toString("latin1").toLowerCase() === name.toLowerCase());
	return h && h[1];
}

function percentDecode(buf) {
	const s = buf.toString("latin1");
	return B(s.replace(/%([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))));
}

/**
 * Checks what the origin got against req: the method, the target (exactly, or once
 * %-decoded for the libraries that normalise URLs), each header not in `skip` (its value's
 * bytes), and the body.
 */
function check(got, req, { skip = [], exactTarget = true, upper = false, atNames = false } = {}) {
	const method = upper ? req.method.toUpperCase() : req.method;
	assert.equal(got.method, method);
	const want = B(byteStr(bytesOf(req.url.replace(/^http:\/\/[^/]*/, ""), req.latin1)));
	if (exactTarget)
		assert.deepEqual(got.target, want, got.target.toString("latin1"));
	else
		assert.deepEqual(percentDecode(got.target), percentDecode(want),
			got.target.toString("latin1"));
	const counts = new Map();
	for (const [n, v] of req.headers) {
		const ln = n.toLowerCase();
		if (ln === "content-length" || skip.includes(ln))
			continue;
		// curl reads "@name" as a file, and it is no token: left out (the raw text keeps it)
		if (n.startsWith("@") && !atNames) {
			assert.equal(sent(got, n), undefined, n + " left out");
			continue;
		}
		// the i-th header of that name arrives with the i-th value
		const i = counts.get(ln) || 0;
		counts.set(ln, i + 1);
		const all = got.headers.filter(([k]) => k.toString("latin1").toLowerCase() === ln);
		assert.ok(all[i], "header " + n + " arrived");
		assert.deepEqual(all[i][1], Buffer.from(bytesOf(v, req.latin1)), "value of " + n);
	}
	assert.deepEqual(got.body, Buffer.from(req.body || []));
}

function byteStr(bytes) {
	return Buffer.from(bytes).toString("latin1");
}

// ---- the runs -----------------------------------------------------------------------------

const origin = await startOrigin();
test.after(() => origin.close());
const last = () => origin.got[origin.got.length - 1];

test("curl: each case arrives at the origin as captured", { skip: !tools.curl && "no curl" },
	async () => {
		for (const c of cases(origin.port)) {
			const { text, notes } = exportCurl(c.req);
			const n = origin.got.length;
			await sh(text + " --silent --show-error --noproxy '*' -o /dev/null");
			assert.equal(origin.got.length, n + 1, c.name);
			// curl itself %-encodes a byte over 0x7f in the path (not in the query); a NUL
			// cannot be in argv: that header is left out, and said
			check(last(), c.req, { exactTarget: !c.latin1Bytes, skip: c.nul ? ["x-nul"] : [] });
			if (c.nul) {
				assert.equal(sent(last(), "X-Nul"), undefined);
				assert.match(notes.join(), /left out 1 header/);
			}
			if (c.req.truncated)
				assert.match(notes.join(), /truncated/);
		}
	});

test("curl: --compressed only when the request asked for a compression curl undoes", () => {
	const r = (ae) => exportCurl({ method: "GET", url: "http://h/", headers: ae ?
		[["Accept-Encoding", ae]] : [] }).text;
	assert.match(r("gzip, deflate, br"), / --compressed/);
	assert.match(r("br;q=1"), / --compressed/);
	assert.doesNotMatch(r("identity"), /--compressed/);
	assert.doesNotMatch(r(null), /--compressed/);
	// the captured header still goes out as it was
	assert.match(r("gzip"), /-H 'Accept-Encoding: gzip'/);
});

test("HTTPie: each case arrives at the origin as captured", { skip: !tools.http &&
	"no http (apt-get install httpie)" }, async () => {
	for (const c of cases(origin.port)) {
		if (c.nul) {
			// only methods of letters (HTTPie takes anything else for the URL)
			assert.throws(() => exportHttpie(c.req), /only letters/);
			continue;
		}
		const { text, notes } = exportHttpie(c.req);
		const n = origin.got.length;
		await sh(text.replace(/^((printf .*\| )?http) /m, "$1 --print= --timeout 20 "));
		assert.equal(origin.got.length, n + 1, c.name);
		// HTTPie encodes header values as UTF-8: a latin-1 byte cannot go, and says so
		const skip = c.latin1Bytes ? ["x-l"] : [];
		check(last(), c.req, { skip, exactTarget: false });
		if (c.latin1Bytes) {
			assert.equal(sent(last(), "X-L"), undefined);
			assert.match(notes.join(), /left out 1 header/);
		}
		// HTTPie's own defaults are unset when the request had none (urllib3 below it still
		// adds its User-Agent)
		if (!c.req.headers.some(([h]) => /^user-agent$/i.test(h)))
			assert.ok(!/HTTPie/.test(String(sent(last(), "User-Agent") || "")));
		if (!c.req.headers.some(([h]) => /^accept$/i.test(h)))
			assert.equal(sent(last(), "Accept"), undefined);
		if (c.req.body && !c.req.headers.some(([h]) => /^content-type$/i.test(h)))
			assert.equal(sent(last(), "Content-Type"), undefined);
	}
});

test("HTTPie: refuses what it cannot send", () => {
	assert.throws(() => exportHttpie({ method: "PO'ST", url: "http://h/", headers: [] }),
		/only letters/);
	const { text, notes } = exportHttpie({ method: "get", url: "http://h/", headers: [
		["X-Nl", "a\nb"], ["X-Bs", "a\\=b"], ["Bad Name", "x"]] });
	assert.match(notes.join(), /upper-case/);
	assert.match(notes.join(), /left out 3 header/);
	assert.doesNotMatch(text.split("\n").pop(), /X-Nl|X-Bs|Bad Name/);
});

test("Python requests: each case arrives at the origin as captured", { skip: !tools.python &&
	"no python3 with requests (apt-get install python3-requests)" }, async () => {
	for (const c of cases(origin.port)) {
		const { text, notes } = exportPython(c.req);
		assert.ok(/^[\x20-\x7e\n]*$/.test(text), "ASCII only");
		const file = join(dir, "export.py");
		writeFileSync(file, text);
		const n = origin.got.length;
		await sh("python3 export.py >/dev/null");
		assert.equal(origin.got.length, n + 1, c.name);
		// a repeated header is folded into one ("1, 2")
		const folded = c.req.headers.filter(([h]) => h === "X-A").length > 1;
		check(last(), c.req, { exactTarget: false, skip: folded ? ["x-a"] : [] });
		if (folded) {
			assert.deepEqual(sent(last(), "X-A"), B("1, 2"));
			assert.match(notes.join(), /folded 1/);
		}
		// no default User-Agent of requests'
		if (!c.req.headers.some(([h]) => /^user-agent$/i.test(h)))
			assert.ok(!/python-requests/.test(String(sent(last(), "User-Agent") || "")));
	}
});

test("fetch(): each case arrives at the origin, without the headers a page cannot set",
	async () => {
	for (const c of cases(origin.port)) {
		const { text, notes } = exportFetch(c.req);
		assert.ok(/^[\x20-\x7e\n]*$/.test(text), "ASCII only");
		const n = origin.got.length;
		const res = await (0, eval)(text);
		assert.equal(res.status, 200);
		await res.text();
		assert.equal(origin.got.length, n + 1, c.name);
		// fetch() refuses a NUL in a header value: left out, and said
		const forbidden = ["host", "accept-encoding", "content-length", "x-nul"];
		if (c.nul)
			assert.match(notes.join(), /left out 1 header/);
		// a repeated header arrives once, its values joined (Headers does that)
		const repeated = c.req.headers.filter(([h]) => h === "X-A").length > 1;
		check(last(), c.req, { exactTarget: false, skip: repeated ? [...forbidden, "x-a"]
			: forbidden });
		if (repeated) {
			assert.deepEqual(sent(last(), "X-A"), B("1, 2"));
			assert.match(notes.join(), /joins 1 repeated/);
		}
		const left = c.req.headers.filter(([h]) => /^(host|accept-encoding)$/i.test(h));
		if (left.length)
			assert.match(notes.join(), new RegExp(left.map(([h]) => h).join("|")));
	}
	assert.ok(!existsSync(marker));
});

test("fetch(): cookies, referrer, forbidden methods and bodies", () => {
	const { text, notes } = exportFetch({ method: "GET", url: "http://h/", headers: [
		["Cookie", "a=1"], ["Referer", "http://h/from"], ["Sec-Fetch-Mode", "cors"],
		["X-Nul", "a\0b"]], body: enc.encode("x") });
	assert.match(text, /credentials: "include"/);
	assert.match(text, /referrer: "http:\/\/h\/from"/);
	assert.doesNotMatch(text.replace(/^\/\/.*\n/gm, ""), /a=1|Sec-Fetch|X-Nul/);
	assert.match(notes.join(), /Cookie, Referer, Sec-Fetch-Mode/);
	assert.match(notes.join(), /left out 1 header/);
	assert.match(notes.join(), /left out the body/);
	assert.throws(() => exportFetch({ method: "TRACE", url: "http://h/", headers: [] }),
		/TRACE/);
	// A latin-1 header value goes as a byte string, a UTF-8 one as its UTF-8 bytes.
	const t = exportFetch({ method: "GET", url: "http://h/", headers: [["X", "\u00e9"]],
		latin1: true }).text;
	assert.match(t, /\["X", "\\xe9"\]/);
	assert.match(exportFetch({ method: "GET", url: "http://h/", headers: [["X", "\u00e9"]] })
		.text, /\["X", "\\xc3\\xa9"\]/);
});

test("urlLatin1: a UTF-8 URL stays UTF-8 when only the headers are widened bytes", () => {
	const req = { method: "GET", url: "http://h/caf\u00e9", path: "/caf\u00e9",
		headers: [["X-L", "caf\u00e9"]], latin1: true, urlLatin1: false };
	const curl = exportCurl(req).text;
	assert.match(curl, /--url "\$\(printf 'http:\/\/h\/caf\\303\\251'\)"/);
	assert.match(curl, /-H "\$\(printf 'X-L: caf\\351'\)"/);
	assert.match(exportPython(req).text, /url = 'http:\/\/h\/caf%C3%A9'/);
	assert.match(exportPython(req).text, /'X-L': b'caf\\xe9'/);
	assert.match(exportRawRequest(req).text,
		/^GET \/caf\u00e9 HTTP\/1\.1\r\n[\s\S]*X-L: caf\\xe9\r\n/);
	// and the other way round
	assert.match(exportRawRequest({ ...req, urlLatin1: true }).text, /^GET \/caf\\xe9 /);
});

test("every command format says when the body was cut at the body limit", () => {
	const req = cases(1).find((c) => c.req.truncated).req;
	for (const fn of [exportCurl, exportHttpie, exportFetch, exportPython])
		assert.match(fn(req).notes.join(), /truncated; this sends only its start/, fn.name);
	assert.match(exportCurl(req).text, /^# note: the stored body was truncated/);
	assert.match(exportFetch(req).text, /^\/\/ note: the stored body was truncated/);
});

test("raw request through nc: arrives as captured (text bodies)", { skip: !tools.nc && "no nc" },
	async () => {
		for (const c of cases(origin.port)) {
			const { text, notes } = exportRawRequest(c.req);
			assert.ok(!/[\0\x1b]/.test(text), "no NUL or ESC in the text");
			const n = origin.got.length;
			// -N: shut the socket down when stdin ends; -q: some nc have that one instead
			await sh("nc -N 127.0.0.1 " + origin.port + " >/dev/null 2>&1 || nc -q 2 127.0.0.1 " +
				origin.port + " >/dev/null", Buffer.from(text, "utf8"));
			if (/not text/.test(notes.join())) {
				// a binary body is not put in the text: the line says so
				assert.match(text, /\[18 bytes of binary body, not shown\]$/);
				continue;
			}
			assert.equal(origin.got.length, n + 1, c.name);
			if (c.latin1Bytes) {
				// bytes that are not UTF-8 show as \xHH in the text
				assert.deepEqual(last().target, B("/caf\\xe9?x=\\xff"));
				assert.deepEqual(sent(last(), "X-L"), B("caf\\xe9"));
				continue;
			}
			// a NUL (as any control byte) in the head shows as \x00
			check(last(), c.req, { atNames: true, skip: c.nul ? ["x-nul"] : [] });
			if (c.nul)
				assert.deepEqual(sent(last(), "X-Nul"), B("a\\x00b"));
			if (c.req.truncated) {
				assert.deepEqual(sent(last(), "Content-Length"), B("1000"));
				assert.match(notes.join(), /truncated: Content-Length 1048576 is now 1000,/);
			}
		}
	});

test("raw: nothing in a header or start line can begin a line of its own", () => {
	const { text } = exportRawRequest({ method: "GET\r\nX-Injected: 1", url: "http://h/a\nb",
		headers: [["X-A", "v\r\nX-Injected: 2"], ["X-E", "\x1b]0;title\x07"],
			["X-U", "caf\u00e9 \u202e"]] });
	const lines = text.split("\r\n");
	assert.equal(lines[0], "GET\\x0d\\x0aX-Injected: 1 /a\\x0ab HTTP/1.1");
	assert.ok(!lines.some((l) => l.startsWith("X-Injected")));
	assert.ok(lines.includes("X-A: v\\x0d\\x0aX-Injected: 2"));
	assert.ok(lines.includes("X-E: \\x1b]0;title\\x07"));
	// UTF-8 stays readable, a bidi override does not
	assert.ok(lines.includes("X-U: café \\xe2\\x80\\xae"), lines.join("|"));
	assert.ok(lines.includes("Host: h"), "a Host from the URL when there was none");
});

test("raw response, both, and chunked bodies", () => {
	const req = { method: "GET", url: "http://h/x", headers: [["Host", "h"]] };
	const resp = { status: 200, reason: "OK", headers: [["Transfer-Encoding", "chunked"],
		["Content-Type", "text/plain"]], body: enc.encode("hello\n") };
	const r = exportRawResponse(resp).text;
	assert.equal(r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain" +
		"\r\n\r\n6\r\nhello\n\r\n0\r\n\r\n");
	const both = exportRaw(req, resp).text;
	assert.equal(both, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n\r\n\r\n" + r);
	const gz = exportRawResponse({ status: 200, headers: [["Content-Encoding", "gzip"]],
		body: new Uint8Array([0x1f, 0x8b, 8, 0]) });
	assert.match(gz.text, /^HTTP\/1\.1 200\r\n/);
	assert.match(gz.text, /\[4 bytes of binary body, not shown\]$/);
	assert.match(gz.notes.join(), /not text/);
	assert.throws(() => exportRawResponse(null), /no response/);
	assert.equal(exportAs("raw-request", req).text, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
	assert.deepEqual(FORMATS.map((f) => f.id), ["curl", "httpie", "fetch", "python",
		"raw-request", "raw-response", "raw"]);
	for (const f of FORMATS)
		assert.equal(typeof exportAs(f.id, req, resp).text, "string");
});

test("string literals keep anything in", async () => {
	const s = "a\"b\\c'd\n\r\0\x1b\u2028\u202e\ud83d\ude00é";
	const js = jsString(s);
	assert.ok(/^[\x20-\x7e]*$/.test(js));
	assert.equal((0, eval)(js), s);
	assert.ok(/^[\x20-\x7e]*$/.test(pyString(s)));
	assert.ok(/^[\x20-\x7e]*$/.test(pyBytes(BINARY)));
	if (tools.python) {
		const py = "import sys\nsys.stdout.buffer.write(" + pyString(s) +
			".encode('utf-8', 'surrogatepass') + " + pyBytes(BINARY) + ")";
		writeFileSync(join(dir, "lit.py"), py);
		const out = await sh("python3 lit.py");
		assert.deepEqual(out, Buffer.concat([Buffer.from(s, "utf8"), Buffer.from(BINARY)]));
	}
});

test("HAR of one flow: a filter of its URL, method and client, and the pick by start", () => {
	const f = { id: 7, kind: "http", scheme: "https", host: "a.example", port: 443,
		path: "/p?q=\"x\"\\", method: "GET", client_addr: "127.0.0.1:5000",
		timings: { start: 1700000000123456 } };
	const flt = harFilterFor(f);
	assert.equal(flt, "~u \"^https\\\\x3a\\\\x2f\\\\x2fa\\\\x2eexample\\\\x2fp\\\\x3fq\\\\x3d" +
		"\\\\x22x\\\\x22\\\\x5c$\" & ~m \"^GET$\" & ~src \"^127\\\\x2e0\\\\x2e0\\\\x2e1\\\\x3a5000$\"");
	// a non-default port; with the latin1 mark a U+00E9 may be the byte or its UTF-8
	assert.match(harFilterFor({ scheme: "http", host: "h", port: 8080, path: "/\u00e9",
		method: "GET", latin1: true }),
	/h\\\\x3a8080\\\\x2f\(\?:\\\\xe9\|\\\\xc3\\\\xa9\)\$/);
	assert.match(harFilterFor({ scheme: "http", host: "h", port: 80, path: "/\u00e9",
		method: "GET" }), /"\^http\\\\x3a\\\\x2f\\\\x2fh\\\\x2f\\\\xc3\\\\xa9\$"/);
	const e = (t) => ({ request: {}, _flowscope: { t: [t, 0, 0, 0, 0, 0, 0] } });
	const har = { log: { version: "1.2", creator: { name: "flowscope" }, entries: [e(1),
		e(1700000000123456), e(3)] } };
	const one = pickHarEntry(har, f);
	assert.equal(one.log.entries.length, 1);
	assert.equal(one.log.entries[0]._flowscope.t[0], 1700000000123456);
	assert.equal(one.log.creator.name, "flowscope");
	assert.equal(pickHarEntry({ log: { entries: [e(5)] } }, f).log.entries.length, 1);
	assert.throws(() => pickHarEntry({ log: { entries: [e(5), e(6)] } }, f), /not in/);
});

// ---- HAR of one flow against the real server ----------------------------------------------

const BIN = process.env.FLOWSCOPE_BIN || "";


/** Sends raw bytes to host:port and resolves with the answer once the peer closes. */
function rawExchange(port, bytes) {
	return new Promise((res, rej) => {
		const c = connect(port, "127.0.0.1", () => c.write(bytes));
		const parts = [];
		c.on("data", (d) => {
			parts.push(d);
			if (/\r\n\r\nok\n$/.test(Buffer.concat(parts).toString("latin1")))
				c.end();
		});
		c.on("close", () => res(Buffer.concat(parts)));
		c.on("error", rej);
	});
}

test("HAR of one flow: the server's HAR of harFilterFor() holds it, pickHarEntry() finds it",
	{ skip: !(BIN && existsSync(BIN)) && "FLOWSCOPE_BIN is not set", timeout: 60000 }, async () => {
		const T = mkdtempSync(join(tmpdir(), "fs-export-har-"));
		const proxyPort = await freePort(), webPort = await freePort();
		const token = "exporttesttoken0123456789";
		const fs = spawn(BIN, ["--listen", "127.0.0.1:" + proxyPort, "--web", "127.0.0.1:" +
			webPort, "--confdir", join(T, "conf"), "--db", join(T, "flows.db"), "--web-token",
		token], { stdio: "ignore" });
		const web = "http://127.0.0.1:" + webPort;
		const api = async (path) => {
			const r = await fetch(web + path, { headers: { Authorization: "Bearer " + token } });
			assert.ok(r.ok, path + ": " + r.status);
			return r.json();
		};
		try {
			for (let i = 0; ; i++) {
				try {
					await api("/api/flows?limit=1");
					break;
				} catch (e) {
					if (i > 300) // 30 s: a sanitized build starts slowly on a loaded machine
						throw e;
					await new Promise((r) => setTimeout(r, 100));
				}
			}
			// the same hostile URL three times (one not UTF-8, one with "é" as UTF-8), a POST
			const path = "/h/it's/\"q\"/$(x)/(a|b)*?.+[c]^{d}\\?q=1";
			const req = (p, method = "GET") => Buffer.concat([B(method + " http://127.0.0.1:" +
				origin.port), p, B(" HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port +
				"\r\nContent-Length: 0\r\n\r\n")]);
			for (const [p, m] of [[B(path), "GET"], [B(path), "GET"], [B(path), "POST"],
				[B("/caf\xe9?x"), "GET"], [Buffer.from("/caf\u00e9?x", "utf8"), "GET"]])
				await rawExchange(proxyPort, req(p, m));
			let flows;
			for (let i = 0; ; i++) {
				flows = (await api("/api/flows?limit=50")).flows;
				if (flows.length >= 5 && flows.every((f) => f.state === "done") || i > 200)
					break;
				await new Promise((r) => setTimeout(r, 100));
			}
			assert.equal(flows.length, 5);
			for (const s of flows) {
				const f = await api("/api/flows/" + s.id);
				const flt = harFilterFor(f);
				const har = await api("/api/har?filter=" + encodeURIComponent(flt));
				// the filter matches the flow (and, the filter language having no id, the
				// other GET of the same URL from the same client connection)
				assert.ok(har.log.entries.length >= 1 && har.log.entries.length <= 3, flt);
				const one = pickHarEntry(har, f);
				assert.equal(one.log.entries.length, 1);
				assert.equal(one.log.entries[0]._flowscope.t[0], f.timings.start);
				assert.equal(one.log.entries[0].request.method, f.method);
			}
		} finally {
			fs.kill();
			rmSync(T, { recursive: true, force: true });
		}
	});
