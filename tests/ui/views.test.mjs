// SPDX-License-Identifier: MIT
// views.test.mjs - content-view choice, the JSON fold model, the highlighter (lossless on any
// input), hex dumps and parameter parsing of static/js/views.js; rule parsing and timing
// phases of the pages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseView, isText, jsonLines, jsonPaths, highlight, hexLines, parseParams,
	queryParams } from "../../static/js/views.js";
import { rulesFromForm } from "../../static/js/rules.js";
import { phases } from "../../static/js/flowdetail.js";
import { marks } from "../../static/js/flowlist.js";

const enc = (s) => new TextEncoder().encode(s);

test("chooseView by type", () => {
	assert.equal(chooseView("application/json; charset=utf-8", enc("{}")), "json");
	assert.equal(chooseView("application/problem+json", enc("{}")), "json");
	assert.equal(chooseView("text/html", enc("<p>")), "html");
	assert.equal(chooseView("image/svg+xml", enc("<svg/>")), "image");
	assert.equal(chooseView("application/xml", enc("<a/>")), "xml");
	assert.equal(chooseView("text/javascript", enc("x")), "js");
	assert.equal(chooseView("text/css", enc("x")), "css");
	assert.equal(chooseView("application/x-www-form-urlencoded", enc("a=1")), "form");
	assert.equal(chooseView("text/plain", enc("x")), "text");
});

test("chooseView sniffs when the type says nothing", () => {
	assert.equal(chooseView("", enc(' {"a": [1, 2]}')), "json");
	assert.equal(chooseView("application/octet-stream", enc("{not json")), "text");
	assert.equal(chooseView(null, enc("<!DOCTYPE html><html>")), "html");
	assert.equal(chooseView(null, enc("<?xml version='1.0'?><a/>")), "xml");
	assert.equal(chooseView(null, new Uint8Array([0, 1, 2, 255])), "hex");
	assert.equal(chooseView(null, new Uint8Array([0xc3, 0x28])), "hex"); // invalid UTF-8
	assert.ok(isText(enc("héllo\n\tworld")));
	assert.ok(!isText(new Uint8Array([104, 0, 105])));
});

test("jsonLines flattens and folds", () => {
	const v = { a: 1, b: [true, null, "x"], c: {}, d: { e: "f" } };
	const all = jsonLines(v);
	assert.equal(all[0].open, "{");
	assert.equal(all[0].path, "$");
	const text = all.map((l) => "  ".repeat(l.depth) + (l.key !== null ? JSON.stringify(l.key) +
		": " : "") + (l.open || l.close || l.value) + (l.comma ? "," : "")).join("\n");
	assert.equal(text, JSON.stringify(v, null, 2).replace("{}", "{}"));
	assert.deepEqual(jsonPaths(v), ["$", '$."b"', '$."d"']);
	const folded = jsonLines(v, new Set(['$."b"']));
	const b = folded.find((l) => l.path === '$."b"');
	assert.equal(b.folded, true);
	assert.equal(b.count, 3);
	assert.equal(folded.length, all.length - 4); // 3 items and the closer are gone
	const root = jsonLines(v, new Set(["$"]));
	assert.equal(root.length, 1);
	assert.equal(jsonLines("s")[0].value, '"s"');
	assert.equal(jsonLines(null)[0].kind, "null");
	// keys that look like markup stay plain data
	assert.equal(jsonLines({ "<img src=x onerror=alert(1)>": 1 })[1].key,
		"<img src=x onerror=alert(1)>");
});

test("highlight is lossless", () => {
	const samples = [
		'<!doctype html><html><body class="a" onload=\'x()\'><!-- c --><script>alert(1)</script>' +
			"&amp;</body></html>",
		"<a href=\"unterminated",
		"function f(a) { return `x${a}` + 'y' + 0x1f; } // done\n/* open",
		".a #b { color: red; width: 10px } @media x { }",
		'{"k": "v", "n": -1.5e3, "t": true, "z": null}',
		"",
		"\u0000\uffff weird \\ \" '",
	];
	for (const lang of ["markup", "js", "css", "json", "none"])
		for (const s of samples) {
			const toks = highlight(s, lang);
			assert.equal(toks.map((t) => t[1]).join(""), s, lang + ": " + s);
		}
	const t = highlight('<p class="x">hi</p>', "markup");
	assert.deepEqual(t.filter(([c]) => c).map(([c]) => c), ["tag", "attr", "string", "tag", "tag",
		"tag"]);
	assert.ok(highlight("return 1", "js").some(([c, s]) => c === "keyword" && s === "return"));
});

test("hexLines", () => {
	const lines = hexLines(new Uint8Array([0x48, 0x69, 0, 0xff, ...new Array(14).fill(0x41)]));
	assert.equal(lines.length, 2);
	assert.equal(lines[0], "00000000  48 69 00 ff 41 41 41 41  41 41 41 41 41 41 41 41  |Hi..AAAAAAAAAAAA|");
	assert.match(lines[1], /^00000010  41 41 /);
	assert.equal(hexLines(new Uint8Array(100), 32).length, 2);
});

test("parseParams and queryParams", () => {
	assert.deepEqual(parseParams("a=1&b=x%20y&c&d=a+b&&e=%zz"),
		[["a", "1"], ["b", "x y"], ["c", ""], ["d", "a b"], ["e", "%zz"]]);
	assert.deepEqual(queryParams("/p?x=1&y=%3Cscript%3E#frag"), [["x", "1"], ["y", "<script>"]]);
	assert.deepEqual(queryParams("/p"), []);
});

test("rulesFromForm", () => {
	assert.deepEqual(rulesFromForm({ ignore: " a\\.com:443 \n\n b ", allow: "", intercept: " ~m POST ",
		block: "403 ~d ads\n" }), { ignore_hosts: ["a\\.com:443", "b"], allow_hosts: [],
		intercept: "~m POST", block: [{ status: 403, filter: "~d ads" }] });
	assert.throws(() => rulesFromForm({ ignore: "", allow: "", intercept: "", block: "~d x" }),
		/status/);
});

test("timing phases", () => {
	assert.deepEqual(phases({ start: 100, dns_done: 110, connect_done: 130, tls_done: null,
		request_sent: 140, first_byte: 200, end: 250 }), [["DNS", 100, 110],
		["Connect", 110, 130], ["Send", 130, 140], ["Wait", 140, 200], ["Receive", 200, 250]]);
	// HTTPS: upstream connected before the request head arrived
	assert.deepEqual(phases({ start: 200, dns_done: 100, connect_done: 120, tls_done: 150,
		request_sent: 210, first_byte: 300, end: 310 }), [["Connect", 100, 120],
		["TLS", 120, 150], ["Before request", 150, 200], ["Send", 200, 210], ["Wait", 210, 300],
		["Receive", 300, 310]]);
	// a failure before any response
	assert.deepEqual(phases({ start: 100, end: 150 }), [["Until end", 100, 150]]);
	assert.deepEqual(phases({ start: 0 }), []);
	assert.deepEqual(phases(null), []);
});

test("row marks", () => {
	assert.deepEqual(marks({ scheme: "https", tls: true, error: "x", replay: true, replay_of: 3 })
		.map((m) => m[0] + ":" + m[2]), ["error:error", "tls:TLS", "replay:replay of #3"]);
	assert.deepEqual(marks({ scheme: "http" }), []);
});
