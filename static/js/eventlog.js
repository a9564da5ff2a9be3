// SPDX-License-Identifier: MIT
// eventlog.js - the Event log page (mitmweb's): what flowscope's terminal says of warning
// level and above (upstream failures, store problems, refused input), flows that ended with
// an error, and the rules applied. Loaded from GET /api/log with every snapshot of the list,
// then each entry as the event stream brings it ({"type": "log"}). Entries that arrive while
// the page is elsewhere count on the nav link's badge until the page is opened.

import * as api from "./api.js";
import { el, on, replace } from "./dom.js";
import { formatTime } from "./format.js";

const KEEP = 500;

/**
 * @param {HTMLElement} root   the page's section
 * @param {HTMLElement} badge  the count of unseen entries beside the nav link
 */
export function createEventLog(root, badge) {
	let entries = [];   // {seq, time, level, source, text}, oldest first
	let lastSeq = 0;
	let hiddenUpTo = 0; // "Clear" hides what came before
	let unseen = 0;
	let visible = false;
	const level = el("select", { "aria-label": "levels shown" },
		el("option", { value: "info" }, "everything"),
		el("option", { value: "warn" }, "warnings and errors"),
		el("option", { value: "error" }, "errors"));
	const clear = el("button", { type: "button" }, "Clear");
	const body = el("tbody");
	const empty = el("p", { class: "muted" }, "Nothing logged yet.");
	root.append(el("div", { class: "toolbar" }, el("h2", {}, "Event log"),
		el("span", { class: "spacer-x" }), level, clear),
	el("table", { class: "eventlog" }, el("thead", {}, el("tr", {},
		el("th", {}, "Time"), el("th", {}, "Level"), el("th", {}, "From"), el("th", {}, "")))
	, body), empty);

	const rank = { debug: 0, info: 1, warn: 2, error: 3 };

	function row(e) {
		return el("tr", { class: "lvl-" + e.level, "data-seq": String(e.seq) },
			el("td", { class: "num" }, formatTime(e.time)), el("td", {}, e.level),
			el("td", {}, e.source), el("td", { class: "mono" }, e.text));
	}

	function render() {
		const min = rank[level.value];
		const shown = entries.filter((e) => e.seq > hiddenUpTo && rank[e.level] >= min);
		replace(body, shown.slice().reverse().map(row)); // newest first
		empty.classList.toggle("hidden", shown.length > 0);
	}

	function setBadge() {
		badge.textContent = unseen > 99 ? "99+" : String(unseen);
		badge.classList.toggle("hidden", unseen === 0);
	}

	function add(e, counts = true) {
		if (!e || typeof e.seq !== "number")
			return;
		if (e.seq <= lastSeq) {
			if (e.seq < lastSeq - KEEP || !counts)
				return; // already here
			// a new flowscope process counts from 1 again: start over
			entries = [];
			hiddenUpTo = 0;
		}
		entries.push(e);
		lastSeq = e.seq;
		if (entries.length > KEEP)
			entries.splice(0, entries.length - KEEP);
		if (!visible && counts && rank[e.level] >= rank.warn) {
			unseen++;
			setBadge();
		}
		if (visible)
			render();
	}

	on(level, "change", render);
	on(clear, "click", () => {
		hiddenUpTo = lastSeq;
		render();
	});

	return {
		add: (e) => add(e),
		/** Loads what the server holds (after a (re)connection). */
		async load() {
			const r = await api.getLog();
			const list = Array.isArray(r.entries) ? r.entries : [];
			if (list.length && list[list.length - 1].seq < lastSeq) {
				entries = []; // flowscope restarted: its log is a new one
				lastSeq = 0;
				hiddenUpTo = 0;
			}
			for (const e of list)
				if (e.seq > lastSeq)
					add(e, lastSeq > 0);
			if (visible)
				render();
		},
		/** The page is shown (true) or left. */
		setVisible(v) {
			visible = v;
			if (v) {
				unseen = 0;
				setBadge();
				render();
			}
		},
	};
}
