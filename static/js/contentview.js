// SPDX-License-Identifier: MIT
// contentview.js - shows a body through the view its type calls for (views.js decides and
// tokenizes; this module only makes nodes, as text). Images are shown from the body endpoint
// itself (?type= names the image type), which answers with a download disposition and
// `Content-Security-Policy: sandbox`: opened in a tab of its own, a stored SVG runs nothing in
// the UI's origin (a blob: URL of the UI's origin would run its script with the user's
// cookie). HTML is shown as highlighted source, never rendered.

import { el, on, replace } from "./dom.js";
import { chooseView, decodeText, highlight, hexLines, jsonLines, jsonPaths, parseParams,
	viewLang } from "./views.js";
import { formatBytes } from "./format.js";

const TEXT_LIMIT = 256 * 1024;  // bytes shown as text; the rest is behind the download link
const HEX_LIMIT = 64 * 1024;
export const JSON_LIMIT = 2 * 1024 * 1024; // bodies up to this are fetched whole
const LINE_LIMIT = 20000;       // JSON lines rendered at once

export const VIEWS = ["auto", "json", "html", "xml", "js", "css", "form", "text", "hex", "image"];

/**
 * Renders bytes into a new element.
 * @param {object} o
 * @param {Uint8Array} o.bytes
 * @param {string} o.contentType
 * @param {string} [o.view]       a VIEWS entry; "auto" or missing chooses by type
 * @param {string} [o.downloadUrl]
 * @param {string} [o.downloadName]
 * @param {number} [o.totalSize]  the whole body's size when bytes is only its start
 */
export function renderContent(o) {
	const bytes = o.bytes;
	const view = !o.view || o.view === "auto" ? chooseView(o.contentType, bytes) : o.view;
	const box = el("div", { class: "content", "data-view": view });
	const add = (...nodes) => box.append(...nodes.filter(Boolean));
	if (bytes.length === 0) {
		add(el("div", { class: "muted" }, "(empty body)"));
		return box;
	}
	const total = Math.max(o.totalSize || 0, bytes.length);
	const cut = (limit) => {
		if (total <= limit)
			return null;
		return el("div", { class: "notice" }, "Showing the first " + formatBytes(limit) +
			" of " + formatBytes(total) + ". ",
		o.downloadUrl ? el("a", { href: o.downloadUrl, download: o.downloadName || "body" },
			"Download the whole body") : null);
	};
	switch (view) {
	case "image":
		add(imageView(bytes, o.contentType, o.downloadUrl));
		break;
	case "json": {
		let value, ok = false;
		if (total <= JSON_LIMIT) {
			try {
				value = JSON.parse(decodeText(bytes));
				ok = true;
			} catch (e) {
				add(el("div", { class: "notice" }, "Not valid JSON (" + e.message +
					"); shown as text."));
			}
		}
		if (ok)
			add(jsonView(value));
		else
			add(cut(TEXT_LIMIT), codeView(decodeText(bytes.subarray(0, TEXT_LIMIT)),
				"json"));
		break;
	}
	case "form":
		add(paramsTable(parseParams(decodeText(bytes.subarray(0, TEXT_LIMIT)))));
		break;
	case "hex":
		add(cut(HEX_LIMIT), el("pre", { class: "code hex" },
			hexLines(bytes, HEX_LIMIT).join("\n")));
		break;
	default:
		add(cut(TEXT_LIMIT), codeView(decodeText(bytes.subarray(0, TEXT_LIMIT)),
			viewLang(view)));
	}
	return box;
}

/** A <pre> of text, highlighted as lang (views.js tokens become <span class>). */
export function codeView(text, lang) {
	const pre = el("pre", { class: "code" });
	if (!lang) {
		pre.append(text);
		return pre;
	}
	for (const [cls, t] of highlight(text, lang))
		pre.append(cls ? el("span", { class: "tk-" + cls }, t) : t);
	return pre;
}

function imageView(bytes, contentType, bodyUrl) {
	let type = String(contentType || "").split(";")[0].trim().toLowerCase();
	if (!type.startsWith("image/"))
		type = "application/octet-stream";
	const info = el("div", { class: "muted" }, type + ", " + formatBytes(bytes.length));
	if (!bodyUrl)
		return el("div", { class: "image-view" }, info, " (no preview: the body is not stored)");
	const src = bodyUrl + (bodyUrl.includes("?") ? "&" : "?") + "type=" + encodeURIComponent(type);
	const img = el("img", { class: "preview", src, alt: "image preview" });
	on(img, "load", () => info.append(", " + img.naturalWidth + " × " + img.naturalHeight +
		" px"));
	on(img, "error", () => info.append(" (the browser cannot show this image)"));
	return el("div", { class: "image-view" }, img, info);
}

/** Lets go of what previews under node hold (nothing since they stopped using blob: URLs;
 * kept for the detail pane, which calls it when it replaces a body). */
export function releaseContent(node) {
	void node;
}

/** A name/value table (headers, query or form parameters). */
export function paramsTable(pairs, emptyText = "(none)") {
	if (!pairs.length)
		return el("div", { class: "muted" }, emptyText);
	return el("table", { class: "kv" }, el("tbody", {}, pairs.map(([k, v]) =>
		el("tr", {}, el("th", {}, String(k)), el("td", {}, String(v ?? ""))))));
}

/** A foldable JSON tree: click a ▸/▾ to fold an object or array. */
export function jsonView(value) {
	const collapsed = new Set();
	const root = el("div", { class: "json" });
	const tree = el("pre", { class: "code json-tree" });
	const bar = el("div", { class: "json-bar" },
		on(el("button", { type: "button", class: "small" }, "Collapse all"), "click", () => {
			for (const p of jsonPaths(value))
				if (p !== "$")
					collapsed.add(p);
			draw();
		}),
		on(el("button", { type: "button", class: "small" }, "Expand all"), "click", () => {
			collapsed.clear();
			draw();
		}));
	on(tree, "click", (ev) => {
		const t = ev.target.closest("[data-path]");
		if (!t)
			return;
		const p = t.dataset.path;
		if (collapsed.has(p))
			collapsed.delete(p);
		else
			collapsed.add(p);
		draw();
	});
	function draw() {
		const lines = jsonLines(value, collapsed);
		const frag = [];
		for (const [i, l] of lines.entries()) {
			if (i >= LINE_LIMIT) {
				frag.push(el("div", { class: "notice" }, (lines.length - LINE_LIMIT) +
					" more lines; collapse parts to see them."));
				break;
			}
			const parts = [el("span", { class: "indent" }, "  ".repeat(l.depth))];
			if (l.open)
				parts.push(el("span", { class: "fold", "data-path": l.path, role: "button",
					title: l.folded ? "expand" : "collapse" }, l.folded ? "▸" : "▾"));
			else
				parts.push(el("span", { class: "fold-space" }, " "));
			if (l.key !== null)
				parts.push(el("span", { class: "tk-attr" }, JSON.stringify(l.key)), ": ");
			if (l.open && l.folded)
				parts.push(l.open, el("span", { class: "folded", "data-path": l.path },
					"… " + l.count + (l.open === "[" ? " items" : " keys")), l.close);
			else if (l.open)
				parts.push(l.open);
			else if (l.close)
				parts.push(l.close);
			else
				parts.push(el("span", { class: "tk-" + (l.kind === "boolean" ||
					l.kind === "null" ? "keyword" : l.kind) }, l.value));
			if (l.comma)
				parts.push(",");
			frag.push(el("div", { class: "jl" }, parts));
		}
		replace(tree, frag);
	}
	draw();
	root.append(bar, tree);
	return root;
}
