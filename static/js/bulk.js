// SPDX-License-Identifier: MIT
// bulk.js - what the page does to many flows at once: the context menu of the flow list (a
// right click on a row, or the context-menu key / Shift+F10 on the list) acting on the
// selection: open, replay, mark in a colour or unmark, comment, save their HAR, delete. Each
// action goes over the selected flows a few at a time and says how many it did.

import * as api from "./api.js";
import { el, on, saveBlob } from "./dom.js";
import { harFilterFor, pickHarEntry } from "./exporters.js";

export const MARKS = ["red", "orange", "yellow", "green", "blue", "purple", "grey"];
const AT_ONCE = 6;

/** Runs fn over items, AT_ONCE at a time; resolves to the number that did not throw. */
async function each(items, fn) {
	let done = 0;
	for (let i = 0; i < items.length; i += AT_ONCE)
		done += (await Promise.all(items.slice(i, i + AT_ONCE).map((x) =>
			fn(x).then(() => 1, () => 0)))).reduce((a, b) => a + b, 0);
	return done;
}

/**
 * @param {object} h
 * @param {() => object[]} h.selected          the selected flows' summaries, in list order
 * @param {(id: number) => void} h.open
 * @param {(ids: number[]) => Promise<void>} h.remove
 * @param {(id: number) => void} h.replayed    a replay's new flow id (to open it)
 * @param {(text: string, kind?: string) => void} h.notify
 */
export function createBulk(h) {
	let menu = null;

	function close() {
		if (menu)
			menu.remove();
		menu = null;
	}

	const plural = (n, what) => n + " " + what + (n === 1 ? "" : "s");

	async function replay(flows) {
		let last = null;
		const done = await each(flows, async (f) => {
			const r = await api.replayFlow(f.id);
			last = r && r.id;
		});
		h.notify("Replayed " + done + " of " + plural(flows.length, "flow"),
			done === flows.length ? "info" : "error");
		if (flows.length === 1 && last)
			h.replayed(last);
	}

	async function note(flows, notes, what) {
		const done = await each(flows, (f) => api.noteFlow(f.id, notes));
		h.notify(what + " " + done + " of " + plural(flows.length, "flow"),
			done === flows.length ? "info" : "error");
	}

	/** The selection's HAR: each flow's entry from the server's HAR (exporters.js). */
	async function saveHar(flows) {
		const entries = [];
		let log = null;
		const done = await each(flows, async (f) => {
			const doc = pickHarEntry(JSON.parse(await (await api.exportHar(harFilterFor(f)))
				.text()), f);
			log = log || doc.log;
			entries.push([f.id, doc.log.entries[0]]);
		});
		if (!log) {
			h.notify("HAR export failed", "error");
			return;
		}
		entries.sort((a, b) => a[0] - b[0]); // oldest first, as HAR files are
		const text = JSON.stringify({ log: { ...log, entries: entries.map((e) => e[1]) } },
			null, 1);
		saveBlob(new Blob([text], { type: "application/json" }), "flowscope-selection.har");
		h.notify("HAR of " + done + " of " + plural(flows.length, "flow") + " saved",
			done === flows.length ? "info" : "error");
	}

	/** The notes dialog: a mark (one flow: its own; many: left as they are) and a comment. */
	function comment(flows) {
		const one = flows.length === 1 ? flows[0] : null;
		const area = el("textarea", { rows: "4", cols: "60", maxlength: "10000",
			"aria-label": "comment" }, one ? one.comment || "" : "");
		const mark = el("select", { "aria-label": "mark" },
			one ? null : el("option", { value: "keep" }, "(marks as they are)"),
			el("option", { value: "" }, "no mark"),
			MARKS.map((c) => el("option", { value: c, selected: one && one.mark === c }, c)));
		const dlg = el("dialog", { class: "modal comment-dialog" },
			el("form", { method: "dialog" },
				el("h3", {}, "Note on " + (one ? "#" + one.id : plural(flows.length, "flow"))),
				el("label", {}, "Mark ", mark),
				area,
				el("div", { class: "buttons" },
					el("button", { value: "cancel", type: "submit" }, "Cancel"),
					el("button", { value: "save", type: "submit", class: "primary" }, "Save"))));
		on(dlg, "close", () => {
			if (dlg.returnValue === "save")
				note(flows, mark.value === "keep" ? { comment: area.value } :
					{ comment: area.value, mark: mark.value }, "Noted");
			dlg.remove();
		});
		document.body.append(dlg);
		dlg.showModal();
		area.focus();
	}

	function item(label, fn, extra = {}) {
		return on(el("button", { type: "button", role: "menuitem", ...extra }, label), "click",
			() => {
				close();
				fn();
			});
	}

	/** Opens the menu at (x, y) for the selected flows. */
	function open(x, y) {
		close();
		const flows = h.selected();
		if (!flows.length)
			return;
		const n = flows.length;
		const count = n > 1 ? " " + plural(n, "flow") : "";
		menu = el("div", { class: "popover context-menu", role: "menu",
			"aria-label": "actions on " + plural(n, "flow") },
		n === 1 ? item("Open", () => h.open(flows[0].id)) : null,
		item("Replay" + count, () => replay(flows), { "data-act": "replay" }),
		el("div", { class: "marks-row", role: "group", "aria-label": "mark" },
			el("span", { class: "muted" }, "Mark"),
			MARKS.map((c) => item("", () => note(flows, { mark: c }, "Marked " + c),
				{ class: "swatch mark-" + c, title: c, "aria-label": "mark " + c,
					"data-mark": c }))),
		item("Unmark" + count, () => note(flows, { mark: "" }, "Unmarked"),
			{ "data-act": "unmark" }),
		item("Comment…", () => comment(flows), { "data-act": "comment" }),
		item("Save HAR" + count, () => saveHar(flows), { "data-act": "har" }),
		item("Delete" + count, () => h.remove(flows.map((f) => f.id)),
			{ class: "danger", "data-act": "delete" }));
		document.body.append(menu);
		const r = menu.getBoundingClientRect();
		menu.style.left = Math.max(0, Math.min(x, innerWidth - r.width - 4)) + "px";
		menu.style.top = Math.max(0, Math.min(y, innerHeight - r.height - 4)) + "px";
		const items = [...menu.querySelectorAll("[role=menuitem]")];
		items[0].focus();
		on(menu, "keydown", (ev) => {
			const i = items.indexOf(document.activeElement);
			if (ev.key === "Escape") {
				close();
			} else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
				const d = ev.key === "ArrowDown" ? 1 : -1;
				items[(i + d + items.length) % items.length].focus();
			} else {
				return;
			}
			ev.preventDefault();
			ev.stopPropagation();
		});
	}

	on(document, "pointerdown", (ev) => {
		if (menu && !menu.contains(ev.target))
			close();
	});
	on(window, "blur", close);

	return { open, close, notes: comment, get isOpen() { return menu !== null; } };
}
