// SPDX-License-Identifier: MIT
// options.js - the Options page: what a user flips while working (mitmweb's options editor),
// read with GET /api/options and changed one at a time with PATCH /api/options. Each option
// shows the name it has on the command line. A change applies to the next flow, without a
// restart; a 400 from the server (a value not of its kind) is shown and the control goes back
// to the value in force. The host rules and the intercept filter are on the Rules page.

import * as api from "./api.js";
import { el, on, replace } from "./dom.js";

/** The options, in the order shown: key (the API's), flag (the command line's), kind. */
export const OPTIONS = [
	{ key: "ssl_insecure", flag: "--ssl-insecure", kind: "bool",
		label: "Do not verify upstream certificates",
		help: "Accept any certificate from the origins (self-signed, expired, another name). " +
			"Takes effect for the next upstream connection." },
	{ key: "anticache", flag: "--anticache", kind: "bool",
		label: "Anticache: strip If-None-Match and If-Modified-Since",
		help: "Requests go up without their conditional headers, so every response has a body " +
			"instead of 304 Not Modified." },
	{ key: "body_limit", flag: "--body-limit", kind: "size", label: "Body limit",
		help: "Bytes stored per body (k, m, g: KiB, MiB, GiB). A larger body still reaches the " +
			"client whole; its stored copy is cut and marked truncated." },
	{ key: "intercept_budget", flag: "--intercept-budget", kind: "size", label: "Intercept budget",
		help: "Memory the bodies of held and paused flows may take together. Past it, a match " +
			"is not paused; its flow says why." },
];

const UNITS = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "4m" -> 4194304, "512k", "1000" (bytes); throws on anything else (pure; for tests). */
export function parseSize(text) {
	const m = /^\s*(\d+)\s*([kmg])?i?b?\s*$/i.exec(String(text));
	if (!m)
		throw new Error("expected a size: bytes, or a number with k, m or g");
	const n = Number(m[1]) * (m[2] ? UNITS[m[2].toLowerCase()] : 1);
	if (!Number.isSafeInteger(n))
		throw new Error("too large");
	return n;
}

/** The shortest exact way to write n bytes: 4194304 -> "4m", 1536 -> "1536" (pure). */
export function formatSize(n) {
	for (const u of ["g", "m", "k"])
		if (n && n % UNITS[u] === 0)
			return n / UNITS[u] + u;
	return String(n);
}

export function createOptionsPage(root, h) {
	const status = el("div", { class: "rules-status", role: "status", id: "options-status" });
	const controls = new Map();
	let current = {};

	function fail(msg) {
		status.className = "rules-status error-line";
		replace(status, msg);
	}

	/** Shows the values in force (GET's or PATCH's answer). */
	function show(opts) {
		current = opts;
		for (const o of OPTIONS) {
			const c = controls.get(o.key);
			if (o.kind === "bool")
				c.checked = !!opts[o.key];
			else if (document.activeElement !== c || !c.dataset.dirty)
				c.value = formatSize(opts[o.key]);
			delete c.dataset.dirty;
		}
	}

	async function change(o, value) {
		status.className = "rules-status";
		replace(status, "Saving…");
		try {
			show(await api.patchOptions({ [o.key]: value }));
			status.className = "rules-status ok-line";
			replace(status, o.flag.slice(2) + " saved: it applies to the next flow.");
			h.notify("Option " + o.flag.slice(2) + " saved");
		} catch (e) {
			show(current);
			fail(o.flag.slice(2) + " not saved (the old value stays): " + e.message);
		}
	}

	const rows = OPTIONS.map((o) => {
		const id = "option-" + o.key;
		let c;
		if (o.kind === "bool") {
			c = el("input", { type: "checkbox", id, "data-option": o.key });
			on(c, "change", () => change(o, c.checked));
		} else {
			c = el("input", { type: "text", id, class: "mono", "data-option": o.key,
				inputmode: "numeric", spellcheck: "false", autocomplete: "off" });
			on(c, "input", () => { c.dataset.dirty = "1"; });
			on(c, "change", () => {
				let n;
				try {
					n = parseSize(c.value);
				} catch (e) {
					fail(o.flag.slice(2) + ": " + e.message);
					return;
				}
				change(o, n);
			});
		}
		controls.set(o.key, c);
		return el("div", { class: "option-row" },
			o.kind === "bool" ? el("label", { class: "check", for: id }, c, " " + o.label)
				: el("label", { for: id }, o.label, " ", c),
			el("code", { class: "option-flag muted", title: "the same option on the command line" },
				o.flag),
			el("p", { class: "muted option-help" }, o.help));
	});

	const form = el("form", { class: "options-form" },
		el("h2", {}, "Options"),
		el("p", { class: "muted" }, "Changes apply to the next flow without a restart and are " +
			"kept across restarts; an option given on the command line replaces the kept value."),
		...rows,
		el("p", {}, "Which hosts are decrypted or passed through, intercepted or blocked: the ",
			el("a", { href: "#/rules" }, "Rules page"), "."),
		status);
	on(form, "submit", (ev) => ev.preventDefault());
	root.append(form);

	async function load() {
		try {
			show(await api.getOptions());
		} catch (e) {
			fail("Cannot load the options: " + e.message);
		}
	}
	return { load };
}
