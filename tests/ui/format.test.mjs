// SPDX-License-Identifier: MIT
// format.test.mjs - the pure helpers of static/js/format.js, and "copy as curl" (now in
// static/js/exporters.js; its other formats are tested in exporters.test.mjs) run through real
// shells (dash and bash) with a fake curl that records its argv and stdin, fed hostile
// bytes: quotes, $(...), backticks, newlines, escape sequences, NUL, latin-1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, chmodSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatBytes, formatDuration, formatTime, statusClass, shortType, headerValue, flowUrl }
	from "../../static/js/format.js";
import { shellQuote, printfEscape, curlCommand, latin1Bytes } from "../../static/js/exporters.js";

// Each [args, want] of cases: fn(...args) equals want.
function equalAll(fn, cases) {
	for (const [args, want] of cases)
		assert.equal(fn(...args), want, `${fn.name}(${args.map(String).join(", ")})`);
}

test("formatBytes", () => {
	equalAll(formatBytes, [
		[[0], "0 B"], [[1023], "1023 B"], [[1536], "1.50 KiB"],
		[[10 * 1024 * 1024], "10.0 MiB"], [[300 * 1024 * 1024], "300 MiB"],
		[[null], ""], [[-1], ""], [["x"], ""], // not a size
	]);
});

test("formatDuration", () => {
	equalAll(formatDuration, [
		[[850], "850 µs"], [[1500], "1.5 ms"], [[120000], "120 ms"],
		[[1250000], "1.25 s"], [[125e6], "2 min 5 s"],
		[[null], ""], [[undefined], ""], // no duration
	]);
});

test("formatTime", () => {
	assert.equal(formatTime(0), "");
	assert.match(formatTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678) * 1000), /^\d\d:\d\d:05\.678$/);
});

test("statusClass", () => {
	equalAll(statusClass, [
		[[200], "s2xx"], [[204], "s2xx"], [[301], "s3xx"], [[404], "s4xx"], [[503], "s5xx"],
		[[101], "s1xx"],
		[[0, "refused"], "s-err"], // no status, an error
		[[null], "s-none"], [[999], "s-none"], [["<img>"], "s-none"],
	]);
});

test("shortType and headerValue", () => {
	assert.equal(shortType("application/json; charset=utf-8"), "json");
	assert.equal(shortType("application/vnd.api+json"), "json");
	assert.equal(shortType("application/x-www-form-urlencoded"), "www-form-urlencoded");
	assert.equal(shortType("image/png"), "png");
	assert.equal(shortType(null), "");
	const hs = [["Content-Type", "text/html"], ["X-A", "1"], ["x-a", "2"]];
	assert.equal(headerValue(hs, "content-type"), "text/html");
	assert.equal(headerValue(hs, "X-A"), "1");
	assert.equal(headerValue(hs, "nope"), null);
	assert.equal(headerValue(null, "x"), null);
});

test("flowUrl", () => {
	assert.equal(flowUrl({ scheme: "https", host: "a.example", port: 443, path: "/x?y=1" }),
		"https://a.example/x?y=1");
	assert.equal(flowUrl({ scheme: "http", host: "127.0.0.1", port: 8000, path: "/" }),
		"http://127.0.0.1:8000/");
	assert.equal(flowUrl({ scheme: "http", host: "::1", port: 80, path: "/" }), "http://[::1]/");
	assert.equal(flowUrl({ kind: "tunnel", host: "t.example", port: 443 }), "t.example:443");
});

test("shellQuote of plain strings", () => {
	assert.equal(shellQuote("abc"), "'abc'");
	assert.equal(shellQuote("it's"), "'it'\\''s'");
	assert.equal(shellQuote(""), "''");
	// never a raw control byte or non-ASCII in the text
	for (const s of ["a\nb", "\x1b[31m", "é", "\x7f", "a\rb"]) {
		const q = shellQuote(s);
		assert.ok(/^[\x20-\x7e]*$/.test(q), JSON.stringify(q));
	}
	assert.equal(printfEscape(new TextEncoder().encode("%s\\'-")), "%%s\\134\\047-");
	assert.equal(printfEscape(new TextEncoder().encode("-n")), "\\055n");
});

// A fake curl that writes each argument followed by NUL, then its stdin, to $OUT.
function fakeCurlDir() {
	const dir = mkdtempSync(join(tmpdir(), "fs-curl-"));
	writeFileSync(join(dir, "curl"), "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > \"$OUT.args\"\n" +
		"cat > \"$OUT.stdin\"\n");
	chmodSync(join(dir, "curl"), 0o755);
	return dir;
}

function runCmd(shell, cmd, dir) {
	const out = join(dir, "out");
	for (const f of [out + ".args", out + ".stdin"])
		if (existsSync(f))
			rmSync(f);
	// A marker file that an injected command would create.
	execFileSync(shell, ["-c", cmd], { env: { PATH: dir + ":/usr/bin:/bin", OUT: out,
		HOME: dir }, input: "" });
	const args = readFileSync(out + ".args");
	const parts = [];
	let start = 0;
	for (let i = 0; i < args.length; i++)
		if (args[i] === 0) {
			parts.push(args.subarray(start, i));
			start = i + 1;
		}
	return { args: parts.map((b) => Buffer.from(b)), stdin: readFileSync(out + ".stdin") };
}

const hostile = [
	"plain",
	"it's \"quoted\" `uname` $(touch PWNED) ${HOME} $HOME \\ \\' %s %d %%",
	"new\nline and\rcarriage",
	"escape \x1b]0;title\x07 \x1b[31mred",
	"tab\there",
	"-starts-with-dash",
	"@/etc/passwd",
	"unicode é ✓ 😀",
	"!history !! ~user *glob* [a] {b,c} ; & | > <",
];

for (const shell of ["/bin/sh", "/bin/bash"]) {
	test("curl command survives hostile bytes in " + shell, () => {
		const dir = fakeCurlDir();
		try {
			for (const h of hostile) {
				const hs = [["X-Test", h], ["Content-Length", "99"], ["@evil", "x"]];
				const url = "http://127.0.0.1:1/p?q=" + h.replace(/\n|\r/g, "");
				const body = new TextEncoder().encode(h + "\x00\xff binary");
				const cmd = curlCommand({ method: "PO'ST", url, headers: hs }, body);
				const { args, stdin } = runCmd(shell, cmd, dir);
				const strs = args.map((b) => b.toString("utf8"));
				assert.ok(!existsSync(join(dir, "PWNED")), "command injection with " + h);
				// -X, the URL and the header arrive exactly (except a trailing newline)
				assert.equal(strs[strs.indexOf("-X") + 1], "PO'ST");
				assert.equal(strs[strs.indexOf("--url") + 1], url);
				const hv = strs[strs.indexOf("-H") + 1];
				assert.equal(hv, "X-Test: " + h);
				assert.ok(!strs.some((s) => s.startsWith("Content-Length")));
				assert.ok(!strs.some((s) => s.includes("@evil")));
				assert.ok(strs.includes("-g") && strs.includes("--path-as-is"));
				// the binary body goes through stdin byte for byte
				assert.equal(strs[strs.indexOf("--data-binary") + 1], "@-");
				assert.deepEqual([...stdin], [...Buffer.from(body)]);
			}
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	test("curl command with a text body uses --data-raw in " + shell, () => {
		const dir = fakeCurlDir();
		try {
			const text = "@/etc/passwd {\"a\": \"it's $(id)\"}\nline2\t";
			const cmd = curlCommand({ method: "POST", url: "http://h/",
				headers: [["Content-Type", "application/json"]] },
			new TextEncoder().encode(text));
			const { args } = runCmd(shell, cmd, dir);
			const strs = args.map((b) => b.toString("utf8"));
			assert.equal(strs[strs.indexOf("--data-raw") + 1], text);
			assert.equal(strs[strs.indexOf("-H") + 1], "Content-Type: application/json");
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	test("curl command: latin-1 header bytes and empty values in " + shell, () => {
		const dir = fakeCurlDir();
		try {
			// "caf\xe9" as the server sends a non-UTF-8 value: widened to U+00E9
			const cmd = curlCommand({ method: "GET", url: "http://h/",
				headers: [["X-L", "caf\u00e9"], ["X-Empty", ""]] }, null, false, true);
			const { args } = runCmd(shell, cmd, dir);
			const i = args.findIndex((b) => b.toString("latin1").startsWith("X-L"));
			assert.deepEqual([...args[i]], [...Buffer.from("X-L: caf\xe9", "latin1")]);
			assert.ok(args.some((b) => b.toString() === "X-Empty;"));
			assert.ok(!args.some((b) => b.toString() === "-X")); // GET without body
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
}

test("curl command notes a truncated body", () => {
	const cmd = curlCommand({ method: "POST", url: "http://h/", headers: [] },
		new Uint8Array([1, 2, 3]), true);
	assert.match(cmd, /^# note: the stored body was truncated/);
	assert.deepEqual([...latin1Bytes("\u00ff\u0041")], [0xff, 0x41]);
});
