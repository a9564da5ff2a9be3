// SPDX-License-Identifier: MIT
// views.js - pure content-view logic, no DOM: which view suits a body, the JSON fold model,
// a light tokenizer for markup and code, hex dump lines, form and query parameters.
// contentview.js turns what these return into nodes (as text only).

/** The view for a content type and its bytes: json, html, xml, js, css, image, form, text, hex. */
export function chooseView(contentType, bytes) {
	const ct = String(contentType || "").split(";")[0].trim().toLowerCase();
	if (ct.startsWith("image/"))
		return "image";
	if (ct === "application/json" || ct.endsWith("+json") || ct === "text/json")
		return "json";
	if (ct === "application/x-www-form-urlencoded")
		return "form";
	if (ct === "text/html" || ct === "application/xhtml+xml")
		return "html";
	if (ct.endsWith("/xml") || ct.endsWith("+xml"))
		return "xml";
	if (ct.includes("javascript") || ct === "application/ecmascript")
		return "js";
	if (ct === "text/css")
		return "css";
	if (ct.startsWith("text/"))
		return "text";
	// No useful type: sniff the bytes.
	const text = bytes && isText(bytes) ? decodeText(bytes.subarray(0, 4096)).trimStart() : null;
	if (text !== null) {
		if (text.startsWith("{") || text.startsWith("[")) {
			try {
				JSON.parse(decodeText(bytes));
				return "json";
			} catch {
				/* not JSON after all */
			}
		}
		if (/^<!doctype html|^<html/i.test(text))
			return "html";
		if (text.startsWith("<?xml"))
			return "xml";
		return "text";
	}
	return "hex";
}

/** True when bytes look like UTF-8 text (no NULs or stray control bytes, valid UTF-8). */
export function isText(bytes) {
	const n = Math.min(bytes.length, 8192);
	for (let i = 0; i < n; i++) {
		const b = bytes[i];
		if (b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b) || b === 0x7f)
			return false;
	}
	try {
		new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, n), { stream: true });
		return true;
	} catch {
		return false;
	}
}

export function decodeText(bytes) {
	return new TextDecoder("utf-8").decode(bytes);
}

// ---- JSON fold model ----------------------------------------------------------------------
//
// jsonLines(value, collapsed) flattens a parsed JSON value into display lines. Each line is
// {depth, key, open, close, value, kind, path, count, comma}: `open` is "{" or "[" for the line
// opening an object or array (foldable, identified by `path`), `close` the matching closer on
// its own line, `value` a scalar's JSON text with `kind` (string/number/boolean/null). A path
// in `collapsed` (a Set) is shown as one line "{…} 3 keys" instead of its children.

/**
 * @param {any} value
 * @param {Set<string>} [collapsed]
 * @returns {Array<{depth:number,key:(string|null),open?:string,close?:string,value?:string,
 *          kind?:string,path:string,count?:number,folded?:boolean,comma:boolean}>}
 */
export function jsonLines(value, collapsed = new Set()) {
	const lines = [];
	walk(value, null, 0, "$", false);
	return lines;

	function walk(v, key, depth, path, comma) {
		if (v !== null && typeof v === "object") {
			const isArr = Array.isArray(v);
			const entries = isArr ? v.map((x, i) => [i, x]) : Object.entries(v);
			const open = isArr ? "[" : "{", close = isArr ? "]" : "}";
			if (entries.length === 0) {
				lines.push({ depth, key, value: open + close, kind: "empty", path, comma });
				return;
			}
			if (collapsed.has(path)) {
				lines.push({ depth, key, open, close, path, count: entries.length,
					folded: true, comma });
				return;
			}
			lines.push({ depth, key, open, path, count: entries.length, folded: false,
				comma: false });
			entries.forEach(([k, x], i) => walk(x, isArr ? null : k, depth + 1,
				path + (isArr ? "[" + k + "]" : "." + JSON.stringify(k)),
				i < entries.length - 1));
			lines.push({ depth, key: null, close, path, comma });
			return;
		}
		const kind = v === null ? "null" : typeof v;
		lines.push({ depth, key, value: JSON.stringify(v), kind, path, comma });
	}
}

/** Every foldable path of a value (to collapse all). */
export function jsonPaths(value) {
	return jsonLines(value).filter((l) => l.open).map((l) => l.path);
}

// ---- light highlighting -------------------------------------------------------------------
//
// highlight(text, lang) splits text into [class, text] tokens; joining the texts gives back the
// input exactly. lang: "markup" (HTML/XML), "js", "css", "json". Class "" is plain text.

const JS_KEYWORDS = new Set(("break case catch class const continue debugger default delete do " +
	"else export extends finally for function if import in instanceof let new return super " +
	"switch this throw try typeof var void while with yield async await of true false null " +
	"undefined").split(" "));

const RULES = {
	markup: [
		["comment", /<!--[\s\S]*?(?:-->|$)/y],
		["doctype", /<![^>]*>?/y],
		["tag", /<\/?[A-Za-z][\w:.-]*/y],
		["tag", /\/?>/y],
		["string", /"[^"]*"?|'[^']*'?/y],
		["attr", /[\w:.-]+(?==)/y],
		["entity", /&#?\w+;/y],
	],
	js: [
		["comment", /\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/y],
		["string", /"(?:\\[\s\S]|[^"\\\n])*"?|'(?:\\[\s\S]|[^'\\\n])*'?|`(?:\\[\s\S]|[^`\\])*`?/y],
		["number", /\b\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?\b|\b0[xX][\da-fA-F]+\b/y],
		["word", /[A-Za-z_$][\w$]*/y],
	],
	css: [
		["comment", /\/\*[\s\S]*?(?:\*\/|$)/y],
		["string", /"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?/y],
		["attr", /[\w-]+(?=\s*:)/y],
		["tag", /[.#]?[A-Za-z_-][\w-]*(?=[^{};]*\{)/y],
		["number", /-?\d+(?:\.\d+)?(?:[a-z%]+)?/y],
		["keyword", /@[\w-]+/y],
	],
	json: [
		["attr", /"(?:\\.|[^"\\])*"(?=\s*:)/y],
		["string", /"(?:\\.|[^"\\])*"?/y],
		["number", /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y],
		["keyword", /\b(?:true|false|null)\b/y],
	],
};

/** @returns {Array<[string, string]>} */
export function highlight(text, lang) {
	const rules = RULES[lang];
	if (!rules)
		return [["", text]];
	const out = [];
	let plain = "";
	let i = 0;
	// Markup: strings and attributes only count inside a tag.
	let inTag = false;
	outer: while (i < text.length) {
		for (const [cls, re] of rules) {
			if (lang === "markup" && (cls === "string" || cls === "attr") && !inTag)
				continue;
			re.lastIndex = i;
			const m = re.exec(text);
			if (m && m[0].length > 0) {
				let c = cls;
				if (cls === "word")
					c = JS_KEYWORDS.has(m[0]) ? "keyword" : "";
				if (lang === "markup" && cls === "tag")
					inTag = !m[0].endsWith(">");
				if (c === "") {
					plain += m[0];
				} else {
					if (plain)
						out.push(["", plain]);
					plain = "";
					out.push([c, m[0]]);
				}
				i += m[0].length;
				continue outer;
			}
		}
		plain += text[i++];
	}
	if (plain)
		out.push(["", plain]);
	return out;
}

/** The highlighter language for a view, or null for plain text. */
export function viewLang(view) {
	return { html: "markup", xml: "markup", js: "js", css: "css", json: "json" }[view] || null;
}

// ---- hex ----------------------------------------------------------------------------------

/** Hex dump lines "00000010  48 65 6c 6c ...  |Hello...|", 16 bytes a line. */
export function hexLines(bytes, maxBytes = bytes.length) {
	const lines = [];
	const n = Math.min(bytes.length, maxBytes);
	for (let off = 0; off < n; off += 16) {
		const row = bytes.subarray(off, Math.min(off + 16, n));
		let hex = "", ascii = "";
		for (let i = 0; i < 16; i++) {
			if (i < row.length) {
				hex += row[i].toString(16).padStart(2, "0") + " ";
				ascii += row[i] >= 0x20 && row[i] < 0x7f ? String.fromCharCode(row[i]) : ".";
			} else {
				hex += "   ";
			}
			if (i === 7)
				hex += " ";
		}
		lines.push(off.toString(16).padStart(8, "0") + "  " + hex + " |" + ascii + "|");
	}
	return lines;
}

// ---- parameters ---------------------------------------------------------------------------

/** Decodes "a=1&b=x%20y" into [["a","1"],["b","x y"]]; bad escapes are kept as they are. */
export function parseParams(s) {
	const out = [];
	if (!s)
		return out;
	for (const part of String(s).split("&")) {
		if (part === "")
			continue;
		const eq = part.indexOf("=");
		const k = eq < 0 ? part : part.slice(0, eq);
		const v = eq < 0 ? "" : part.slice(eq + 1);
		out.push([unescapeParam(k), unescapeParam(v)]);
	}
	return out;
}

function unescapeParam(s) {
	const plus = s.replace(/\+/g, " ");
	try {
		return decodeURIComponent(plus);
	} catch {
		return plus;
	}
}

/** The query parameters of a path or URL ("/a?x=1#f" -> [["x","1"]]). */
export function queryParams(pathOrUrl) {
	const s = String(pathOrUrl || "");
	const q = s.indexOf("?");
	if (q < 0)
		return [];
	const h = s.indexOf("#", q);
	return parseParams(s.slice(q + 1, h < 0 ? undefined : h));
}
