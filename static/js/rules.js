// SPDX-License-Identifier: MIT
// rules.js - the Rules page: which hosts are decrypted or passed through, the intercept
// filter and block rules, read with GET /api/rules and replaced whole with PUT /api/rules.
// A 400 from the server (bad regex or filter) is shown and the form keeps what was typed; the
// server keeps the old rules.

import * as api from "./api.js";
import { el, on, replace } from "./dom.js";

const lines = (s) => s.split("\n").map((x) => x.trim()).filter(Boolean);

/** The rules object for PUT from the form's values (pure; exported for tests). */
export function rulesFromForm({ ignore, allow, intercept, block }) {
	const out = { ignore_hosts: lines(ignore), allow_hosts: lines(allow),
		intercept: intercept.trim(), block: [] };
	for (const line of lines(block)) {
		// "403 ~d ads.example" : a status, then the filter
		const m = /^(\d{3})\s+(.+)$/.exec(line);
		if (!m)
			throw new Error("block rule “" + line + "”: write a status, then a filter (403 ~d ads)");
		out.block.push({ status: Number(m[1]), filter: m[2] });
	}
	return out;
}

export function createRulesPage(root, h) {
	const ignore = el("textarea", { rows: "5", class: "mono", id: "rules-ignore",
		placeholder: "one regex a line, e.g. ^(.+\\.)?apple\\.com:443$" });
	const allow = el("textarea", { rows: "5", class: "mono", id: "rules-allow",
		placeholder: "one regex a line; empty: decrypt every host not ignored" });
	const intercept = el("input", { class: "mono grow", id: "rules-intercept",
		placeholder: "a filter expression, e.g. ~d api.example.com & ~m POST" });
	const block = el("textarea", { rows: "3", class: "mono", id: "rules-block",
		placeholder: "status then filter, e.g. 403 ~d ads.example.com" });
	const status = el("div", { class: "rules-status", role: "status" });
	const save = el("button", { type: "submit", class: "primary" }, "Save rules");
	const reload = el("button", { type: "button" }, "Reload");
	const form = el("form", { class: "rules-form" },
		el("h2", {}, "Rules"),
		el("p", { class: "muted" }, "Changes apply to the next connection or request, without a " +
			"restart. Host rules match “host:port” (the SNI or the CONNECT authority)."),
		el("label", { for: "rules-ignore" }, "Pass through without decrypting (ignore hosts)"),
		ignore,
		el("label", { for: "rules-allow" }, "Decrypt only these (allow hosts)"), allow,
		el("label", { for: "rules-intercept" }, "Intercept flows matching"), intercept,
		el("label", { for: "rules-block" }, "Block: answer matching requests with a status"),
		block, status,
		el("div", { class: "buttons" }, save, reload));

	/** Fills the form from a rules object (GET's answer, or PUT's normalized one). */
	function show(r) {
		ignore.value = (r.ignore_hosts || []).join("\n");
		allow.value = (r.allow_hosts || []).join("\n");
		intercept.value = r.intercept || "";
		block.value = (r.block || []).map((b) => (b.status || 403) + " " + b.filter).join("\n");
	}

	/** Reads the server's rules into the form; the form says data-state="ready" once they are
	 * in (what a test waits for before typing, so that the answer cannot overwrite it). */
	async function load() {
		replace(status);
		form.dataset.state = "loading";
		try {
			show(await api.getRules());
			form.dataset.state = "ready";
		} catch (e) {
			status.className = "rules-status error-line";
			replace(status, "Cannot load the rules: " + e.message);
		}
	}

	on(form, "submit", async (ev) => {
		ev.preventDefault();
		let rules;
		status.className = "rules-status";
		try {
			rules = rulesFromForm({ ignore: ignore.value, allow: allow.value,
				intercept: intercept.value, block: block.value });
		} catch (e) {
			status.className = "rules-status error-line";
			replace(status, e.message);
			return;
		}
		try {
			const saved = await api.putRules(rules);
			if (saved && Array.isArray(saved.ignore_hosts))
				show(saved);
			replace(status, "Saved.");
			status.className = "rules-status ok-line";
			h.notify("Rules saved");
		} catch (e) {
			status.className = "rules-status error-line";
			replace(status, "Not saved (the old rules stay): " + e.message);
		}
	});
	on(reload, "click", load);
	root.append(form);
	return { load };
}
