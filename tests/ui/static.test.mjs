// SPDX-License-Identifier: MIT
// static.test.mjs - rules the page's files must keep (STYLE.md section 6): no HTML sinks in
// the scripts (flow data is hostile), nothing inline in the HTML (the CSP forbids it), and
// imports that are relative and end in .js (no bundler, no import map).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "../../static");
const mine = readdirSync(join(root, "js")).filter((f) => f.endsWith(".js"));

test("scripts use no HTML sinks", () => {
	for (const f of mine) {
		// comments may name the sinks; code may not
		const code = readFileSync(join(root, "js", f), "utf8").replace(/\/\*[\s\S]*?\*\//g, "")
			.replace(/^\s*\/\/.*$/gm, "");
		for (const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
			"eval(", "new Function", "srcdoc", "createContextualFragment", "DOMParser"])
			assert.ok(!code.includes(sink), f + " uses " + sink);
	}
});

test("imports are relative .js paths", () => {
	for (const f of mine) {
		const code = readFileSync(join(root, "js", f), "utf8");
		for (const m of code.matchAll(/^import\s[^"']*["']([^"']+)["']/gm))
			assert.match(m[1], /^\.\/[\w-]+\.js$/, f + " imports " + m[1]);
	}
});

const page = "index.html";

test(page + " has nothing inline", () => {
	const html = readFileSync(join(root, page), "utf8");
	assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), "inline script");
	assert.ok(!/<style/i.test(html), "style element");
	assert.ok(!/\sstyle=/i.test(html), "style attribute");
	assert.ok(!/\son\w+=/i.test(html), "inline handler");
	assert.match(html, /<script type="module" src="js\/app\.js"><\/script>/);
	// every module index.html preloads exists, and every module of ours is preloaded
	const pre = [...html.matchAll(/rel="modulepreload" href="js\/([\w-]+\.js)"/g)].map((m) => m[1]);
	assert.deepEqual(pre.sort(), mine.filter((f) => f !== "app.js").sort());
});
