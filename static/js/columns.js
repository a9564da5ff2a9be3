// SPDX-License-Identifier: MIT
// columns.js - the flow table's columns: which are shown, how wide, and the sort; kept in
// localStorage so that the table looks the same tomorrow (mitmweb's most asked-for list
// feature). The header is built here: drag a header's right edge to resize its column, click
// a header to sort by it (again: the other way, a third time: back to the list's own order,
// newest first), and the ☰ button at the header's end chooses the columns.
//
// Every row always has a cell per column; a hidden column's cells are hidden by a class on the
// table, and the grid lists only the columns shown, so hiding a column re-renders nothing.

import { el, on } from "./dom.js";

/**
 * key, header text, default width (a CSS grid track), hidden by default while the detail pane
 * is open (the table is narrow then), the value sorted on (none: not sortable).
 */
export const COLUMNS = [
	{ key: "marks", title: "", width: "44px", narrow: true },
	{ key: "id", title: "#", width: "52px", narrow: false, sort: (f) => f.id },
	{ key: "method", title: "Method", width: "76px", narrow: true, sort: (f) => f.method || "" },
	{ key: "host", title: "Host", width: "minmax(110px, 1.3fr)", narrow: true,
		sort: (f) => f.host || "" },
	{ key: "path", title: "Path", width: "minmax(140px, 3fr)", narrow: true,
		sort: (f) => f.path || "" },
	{ key: "status", title: "Status", width: "60px", narrow: true, sort: (f) => f.status || 0 },
	{ key: "type", title: "Type", width: "64px", narrow: false,
		sort: (f) => f.content_type || "" },
	{ key: "req", title: "Req", width: "66px", narrow: false,
		sort: (f) => f.request_body_size || 0 },
	{ key: "resp", title: "Resp", width: "70px", narrow: true,
		sort: (f) => f.kind === "tunnel" ? f.bytes_down || 0 : f.response_body_size || 0 },
	{ key: "dur", title: "Time", width: "68px", narrow: true,
		sort: (f) => f.timings?.duration ?? -1 },
	{ key: "start", title: "Started", width: "92px", narrow: false,
		sort: (f) => f.timings?.start ?? 0 },
];

const KEY = "flowscope.columns";
const MIN_WIDTH = 28;

function load() {
	try {
		const v = JSON.parse(localStorage.getItem(KEY) || "{}");
		return v && typeof v === "object" ? v : {};
	} catch {
		return {};
	}
}

/** A comparator of flows for sort {key, dir} (dir 1: ascending), ties by id, newest first. */
export function comparator(sort) {
	const col = COLUMNS.find((c) => c.key === sort.key);
	const get = col.sort;
	return (a, b) => {
		const x = get(a), y = get(b);
		const c = x < y ? -1 : x > y ? 1 : 0;
		return c * sort.dir || b.id - a.id;
	};
}

/**
 * @param {HTMLElement} table   the list's root: gets the grid as --cols and hide-* classes
 * @param {object} h
 * @param {() => void} h.changed            widths or shown columns changed
 * @param {(sort: {key:string, dir:number}|null) => boolean} h.sort  asks for a sort; false:
 *                                          refused (the header stays as it was)
 */
export function createColumns(table, h) {
	const prefs = load(); // {hidden: [keys], widths: {key: px}, sort: {key, dir}}
	const hidden = new Set(Array.isArray(prefs.hidden) ? prefs.hidden : []);
	const widths = prefs.widths && typeof prefs.widths === "object" ? prefs.widths : {};
	let sort = prefs.sort && COLUMNS.some((c) => c.key === prefs.sort.key && c.sort) ?
		prefs.sort : null;
	let narrow = false; // the detail pane is open
	let active = true;  // the sort applies to the list shown (kept as a choice either way)

	function save() {
		try {
			localStorage.setItem(KEY, JSON.stringify({ hidden: [...hidden], widths, sort }));
		} catch {
			/* storage may be disabled: the choice lasts for this page */
		}
	}

	const shown = (c) => !hidden.has(c.key) && (!narrow || c.narrow);

	function layout() {
		const cols = COLUMNS.filter(shown).map((c) =>
			widths[c.key] ? widths[c.key] + "px" : c.width);
		table.style.setProperty("--cols", cols.join(" ") + " 22px");
		for (const c of COLUMNS)
			table.classList.toggle("hide-" + c.key, !shown(c));
		for (const cell of header.children)
			if (cell.dataset.key) {
				const s = sort && active && sort.key === cell.dataset.key ? sort.dir : 0;
				cell.classList.toggle("sort-asc", s === 1);
				cell.classList.toggle("sort-desc", s === -1);
				cell.setAttribute("aria-sort", s === 1 ? "ascending" : s === -1 ?
					"descending" : "none");
			}
	}

	let resizing = false;
	// Resizing: the pointer drags the right edge of the header cell it went down on.
	function startResize(ev, cell, key) {
		ev.preventDefault();
		ev.stopPropagation();
		const x0 = ev.clientX, w0 = cell.getBoundingClientRect().width;
		const move = (e) => {
			widths[key] = Math.max(MIN_WIDTH, Math.round(w0 + e.clientX - x0));
			layout();
		};
		resizing = true;
		const up = () => {
			// the click that ends the drag is no sort
			setTimeout(() => { resizing = false; }, 0);
			window.removeEventListener("pointermove", move);
			window.removeEventListener("pointerup", up);
			save();
			h.changed();
		};
		window.addEventListener("pointermove", move);
		window.addEventListener("pointerup", up);
	}

	function clickSort(key) {
		const next = !sort || sort.key !== key ? { key, dir: key === "id" ||
			key === "start" ? -1 : 1 } : sort.dir === (key === "id" || key === "start" ?
			-1 : 1) ? { key, dir: -sort.dir } : null;
		if (!h.sort(next))
			return;
		sort = next;
		active = true;
		save();
		layout();
	}

	const menu = el("div", { class: "popover col-menu hidden", role: "menu" });
	const menuButton = el("button", { type: "button", class: "small col-button",
		title: "choose columns", "aria-label": "choose columns" }, "☰");
	const header = el("div", { class: "row head", role: "row" },
		COLUMNS.map((c) => {
			const cell = el("span", { class: "c-" + c.key + (c.sort ? " sortable" : ""),
				role: "columnheader", "data-key": c.key, title: c.sort ? "sort by " +
				(c.title || c.key) : null }, c.title,
			el("i", { class: "resize", "aria-hidden": "true" }));
			on(cell, "click", () => c.sort && !resizing && clickSort(c.key));
			on(cell.lastChild, "pointerdown", (ev) => startResize(ev, cell, c.key));
			on(cell.lastChild, "dblclick", (ev) => { // back to the default width
				ev.stopPropagation();
				delete widths[c.key];
				save();
				layout();
				h.changed();
			});
			return cell;
		}), el("span", { class: "c-menu" }, menuButton, menu));

	function fillMenu() {
		menu.replaceChildren(...COLUMNS.filter((c) => c.title).map((c) => {
			const box = el("input", { type: "checkbox", "data-key": c.key,
				checked: !hidden.has(c.key) });
			on(box, "change", () => {
				if (box.checked)
					hidden.delete(c.key);
				else
					hidden.add(c.key);
				save();
				layout();
				h.changed();
			});
			return el("label", { class: "check" }, box, " " + c.title);
		}), el("button", { type: "button", class: "small col-reset" }, "Default widths"));
		on(menu.lastChild, "click", () => {
			for (const k of Object.keys(widths))
				delete widths[k];
			save();
			layout();
			h.changed();
		});
	}
	on(menuButton, "click", (ev) => {
		ev.stopPropagation();
		fillMenu();
		menu.classList.toggle("hidden");
	});
	on(document, "click", (ev) => {
		if (!menu.contains(ev.target))
			menu.classList.add("hidden");
	});

	layout();
	return {
		header,
		get sort() { return sort; }, // the choice, applied or not (active)
		/** The detail pane opened (true) or closed: the narrow set of columns applies. */
		setNarrow(v) {
			narrow = v;
			layout();
		},
		/** Whether the sort applies: not to a list too long to sort (the choice is kept). */
		get active() { return active; },
		setActive(v) {
			active = v;
			layout();
		},
	};
}
