// SPDX-License-Identifier: MIT
// flowlist.js - the flow table: a virtualized list over the whole list of flows. Only the rows
// in view (plus a few) exist in the DOM, each absolutely placed in a spacer as tall as every
// matching flow on the server, so the scrollbar spans the whole list. Rows come from the store
// (store.js: the newest rows, extended page by page when the view nears their end) or, far
// below them (a drag of the scrollbar, End), from the far window (farwindow.js: rows fetched at
// their position); a row not loaded yet shows as a placeholder until its page comes. Newest
// flows are at the top: "follow" keeps the view there as flows arrive; scrolled away, the rows
// in view stay put while new ones are added above. A sort by a column (columns.js) orders the
// loaded rows, which is offered only once they are the whole list. Keyboard: j/k or arrows
// move, Enter opens, Delete removes, Home/End, PageUp/PageDown.

import { el, on } from "./dom.js";
import { formatBytes, formatDuration, formatTime, shortType, statusClass } from "./format.js";
import { COLUMNS, comparator, createColumns } from "./columns.js";
import { createFarWindow } from "./farwindow.js";

export { COLUMNS };

export const ROW_HEIGHT = 22; // px; ui.css .row has the same height
// Browsers cap an element's height (Chromium near 33.5 million px, about 1.5 million rows;
// Firefox near 17.9 million): past MAX_PX the list's spacer stays MAX_PX high and the scroll
// position is scaled (scrollScale()), so that the scrollbar still spans every row.
export const MAX_PX = 15000000;

/**
 * Virtual px (rows at ROW_HEIGHT each, as the positions of the list count them) per real px of
 * scroll position, for a list of total px in a view of view px: 1 up to MAX_PX, then what
 * maps the real scroll range (MAX_PX - view) onto the whole (total - view). Rows are still
 * drawn ROW_HEIGHT apart around the view; only where the view is in the list is scaled.
 */
export function scrollScale(total, view) {
	return total > MAX_PX ? (total - view) / (MAX_PX - view) : 1;
}
const OVERSCAN = 8;
const MIN_FRAME = 50, MAX_FRAME = 500; // ms between renders of new data

/**
 * The marks of a row: [name, symbol, tooltip] for paused, error, TLS, tunnel, replay, imported,
 * duplicate, modified and WebSocket. The TLS lock is drawn by ui.css (no font is sure to have 🔒).
 */
export function marks(f) {
	const m = [];
	if (f.state === "paused") m.push(["paused", "Ⅱ", "paused by intercept"]);
	if (f.error) m.push(["error", "⚠", "error"]);
	if (f.tls || f.scheme === "https") m.push(["tls", "", "TLS"]);
	if (f.kind === "tunnel") m.push(["tunnel", "⇄", "tunnel, not decrypted"]);
	if (f.replay) m.push(["replay", "↻", "replay" + (f.replay_of ? " of #" + f.replay_of : "")]);
	if (f.imported) m.push(["imported", "↓", "imported"]);
	if (f.duplicate) m.push(["duplicate", "⧉", "duplicate"]);
	if (f.modified) m.push(["modified", "Δ", "modified (Revert brings back what was captured)"]);
	if (f.websocket) m.push(["ws", "⇅", "WebSocket"]);
	if (f.mark) m.push(["mark mark-" + f.mark, "●", "marked " + f.mark]);
	else if (f.marked) m.push(["marked", "★", "marked"]);
	if (f.comment) m.push(["comment", "✎", f.comment]);
	return m;
}

function hostText(f) {
	const def = f.scheme === "https" ? 443 : 80;
	return (f.host || "") + (f.port && f.port !== def ? ":" + f.port : "");
}

// The cells of a row for flow f: [class, title, content] per column of COLUMNS.
function cells(f) {
	const m = marks(f);
	const dur = f.timings && f.timings.duration !== null && f.timings.duration !== undefined
		? formatDuration(f.timings.duration) : f.state === "pending" ? "…" : "";
	const status = f.status ? String(f.status) : f.error ? "error" : f.state === "pending" ? "…" : "";
	const tunnel = f.kind === "tunnel";
	return [
		["c-marks", m.map((x) => x[2]).join(", "),
			m.map(([name, sym, tip]) => el("i", { class: "m-" + name, title: tip }, sym))],
		["c-id", "", String(f.id)],
		["c-method", tunnel ? "CONNECT" : f.method || "", tunnel ? "CONNECT" : f.method || ""],
		["c-host", hostText(f), hostText(f)],
		tunnel ? ["c-path muted", "", "(tunnel, not decrypted)"] : ["c-path", f.path || "", f.path || ""],
		["c-status " + statusClass(f.status, f.error), f.error || f.reason || "", status],
		["c-type", f.content_type || "", shortType(f.content_type)],
		["c-req num", f.request_body_size ? f.request_body_size + " bytes" : "",
			f.request_body_size ? formatBytes(f.request_body_size) : ""],
		["c-resp num", (tunnel ? f.bytes_down : f.response_body_size) + " bytes",
			tunnel ? formatBytes(f.bytes_down) : formatBytes(f.response_body_size)],
		["c-dur num", "", dur],
		["c-start num", f.timings && f.timings.start ?
			new Date(f.timings.start / 1000).toISOString() : "",
		formatTime(f.timings && f.timings.start)],
	];
}

// Shows flow f in a row's node: its class (render() sets the view's own, such as "selected",
// again) and its cells. An updated flow is shown in the row and cell elements it already has,
// since an element replaced under the pointer loses a click made while the flow changed
// (mousedown on the old element, mouseup on the new one).
function fillRow(node, f) {
	const cls = ["row", "st-" + f.state];
	if (f.replay) cls.push("replayed");
	node.className = cls.join(" ");
	node.flow = f;
	const spans = node.children;
	cells(f).forEach(([cellClass, title, content], i) => {
		const span = spans[i] || node.appendChild(el("span"));
		if (span.className !== cellClass)
			span.className = cellClass;
		if (title)
			span.title = title;
		else
			span.removeAttribute("title");
		span.replaceChildren(...[content].flat()); // strings become text nodes
	});
	return node;
}

function rowNode(f) {
	return fillRow(el("div", { "data-id": String(f.id), role: "row" }), f);
}


function placeholderNode(i) {
	return el("div", { class: "row placeholder", "data-pos": String(i), role: "row" },
		el("span", { class: "c-wait" }, "…"));
}

/**
 * @param {HTMLElement} root   where the table goes
 * @param {ReturnType<import("./store.js").createStore>} store
 * @param {object} h
 * @param {(id:number) => void} h.open        Enter / click
 * @param {(ids:number[]) => void} h.remove   Delete key (the selected flows)
 * @param {(first:number, last:number) => void} h.need  rows first..last-1 are in view and
 *                                            not loaded: load the store's next page or a far
 *                                            window (h.far) at that position
 * @param {() => void} h.viewChanged          rows in view changed (for highlighting)
 * @param {(on:boolean) => void} h.followChanged
 * @param {() => void} [h.selectionChanged]   the set of selected flows changed
 * @param {(x: number, y: number) => void} [h.contextMenu]  a right click on a row (selected
 *                                            first), or the context-menu key: where to open
 * @param {(sort: object|null) => boolean} [h.sort]  a column sort was asked for; false refuses
 * @param {ReturnType<typeof createFarWindow>} [far]  rows far below the store's
 */
export function createFlowList(root, store, h, far = createFarWindow()) {
	const columns = createColumns(root, {
		changed: () => schedule(true),
		sort(next) {
			if (h.sort && !h.sort(next))
				return false;
			sortKey = null; // sorted again at the next render
			anchor = null;  // a new order starts at its top
			setScrollTop(0);
			setFollow(true);
			schedule(true);
			return true;
		},
	});
	const header = columns.header;
	const spacer = el("div", { class: "spacer" });
	const empty = el("div", { class: "empty hidden" }, "No flows yet. Send traffic through the proxy.");
	const viewport = el("div", { class: "viewport", tabindex: "0", role: "grid",
		"aria-label": "flows", "aria-multiselectable": "true" }, spacer, empty);
	root.append(header, viewport);

	const nodes = new Map(); // id or "p" + position -> row node in the DOM
	let selected = null;     // the cursor: the flow last clicked or moved to
	let chosen = new Set();  // the selected flows (the cursor's among them)
	let rangeFrom = null;    // Shift extends the selection from this flow
	let wantPos = -1;        // a position the cursor moves to once its row is loaded
	let openId = null;       // flow shown in the detail pane
	let follow = true;
	let highlighted = new Set();
	let pending = false;
	let lastSetTop = 0;
	let anchor = null;       // {id, offset}: the row to keep in place when rows are added above
	let viewHeight = 0;      // px; the viewport's height, kept by a ResizeObserver
	let reloaded = false;    // the store started over since the last render
	let sorted = null;       // the loaded ids in the column sort's order, or null
	let sortKey = null;      // what sorted was made from

	// The rows of the view: sorted (every loaded row, in the sort's order), or the store's
	// newest rows followed by the far window's.
	function sortedIds() {
		const sort = columns.sort;
		if (!sort || !columns.active || !store.complete) {
			sorted = null;
			return null;
		}
		const key = store.version + ":" + sort.key + ":" + sort.dir;
		if (key !== sortKey) {
			const cmp = comparator(sort);
			sorted = store.ids.map((id) => store.get(id)).sort(cmp).map((f) => f.id);
			sortKey = key;
		}
		return sorted;
	}
	const count = () => sortedIds() ? sorted.length : store.complete ? store.length :
		Math.max(store.total, store.length);
	function rowAt(i) {
		if (sortedIds())
			return store.get(sorted[i]);
		return i < store.length ? store.at(i) : far.at(i);
	}
	function posOf(id) {
		if (sortedIds())
			return sorted.indexOf(id);
		const i = store.indexOf(id);
		return i >= 0 ? i : far.indexOf(id);
	}
	const flowOf = (id) => store.get(id) || far.get(id);

	// Under a burst of thousands of flows a second every row in view is new at every frame,
	// which no one can read, and laying out and painting them is the page's biggest cost
	// (measured: most of the main thread). So renders for new data are spaced by three times
	// what the last one cost (the time from it to the next frame: script, style, layout,
	// paint), at least MIN_FRAME ms and at most MAX_FRAME ms apart, leaving the rest of the
	// thread to the event stream. Scrolling and keys (urgent) render in the next frame.
	let lastRender = 0, gap = MIN_FRAME;
	function schedule(urgent = false) {
		if (pending)
			return;
		pending = true;
		const wait = lastRender + gap - performance.now();
		if (wait > 0 && !urgent)
			setTimeout(() => requestAnimationFrame(render), wait);
		else
			requestAnimationFrame(render);
	}

	// Scroll positions: "virtual" px count rows at ROW_HEIGHT (top, anchors, i * ROW_HEIGHT);
	// the viewport's scrollTop is real px, the same below MAX_PX (scrollScale()).
	const scale = () => scrollScale(count() * ROW_HEIGHT, viewHeight || viewport.clientHeight);
	const toVirtual = (real) => real * scale();
	const toReal = (virt) => (scale() === 1 ? virt : Math.round(virt / scale()));

	function setScrollTop(v) {
		viewport.scrollTop = toReal(v);
		lastSetTop = viewport.scrollTop;
	}

	// Where the view's top is: the top (following), the anchor row kept in place, or where
	// the user scrolled.
	function viewTop(current) {
		if (!follow && anchor && posOf(anchor.id) < 0 && reloaded) {
			// The list was loaded again (a clear, a reconnect) without the row the user was
			// looking at: start over at the newest flows.
			follow = true;
			h.followChanged(true);
		}
		reloaded = false;
		if (follow)
			return 0;
		if (anchor) {
			const i = posOf(anchor.id);
			if (i >= 0)
				return i * ROW_HEIGHT + anchor.offset;
		}
		return current;
	}

	// Where row i is drawn, in real px: base is the frame's real minus virtual top (0 below
	// MAX_PX), so that the rows around the view are ROW_HEIGHT apart whatever the scale.
	function placeRow(i, f, keep, base) {
		keep.add(f.id);
		let node = nodes.get(f.id);
		if (!node) {
			node = rowNode(f);
			spacer.append(node);
			nodes.set(f.id, node);
		} else if (node.flow !== f) {
			fillRow(node, f);
		}
		const y = i * ROW_HEIGHT + base + "px";
		if (node.style.top !== y)
			node.style.top = y;
		node.classList.toggle("odd", i % 2 === 1);
		node.classList.toggle("selected", chosen.has(f.id));
		node.classList.toggle("cursor", f.id === selected);
		node.classList.toggle("open", f.id === openId);
		node.classList.toggle("hl", highlighted.has(f.id));
		node.setAttribute("aria-selected", chosen.has(f.id) ? "true" : "false");
	}

	function placeHolder(i, keep, base) {
		const k = "p" + i;
		keep.add(k);
		let node = nodes.get(k);
		if (!node) {
			node = placeholderNode(i);
			spacer.append(node);
			nodes.set(k, node);
		}
		const y = i * ROW_HEIGHT + base + "px";
		if (node.style.top !== y)
			node.style.top = y;
	}

	// One frame: every read of layout (scrollTop) comes before the writes, so a burst of new
	// flows costs one layout a frame, not one per row.
	function render() {
		pending = false;
		const started = performance.now();
		lastRender = started;
		requestAnimationFrame(() => {
			const cost = performance.now() - started;
			gap = Math.min(MAX_FRAME, Math.max(MIN_FRAME, 3 * cost));
		});
		const n = count();
		const current = viewport.scrollTop;
		if (current !== lastSetTop)
			userScrolled(current); // its scroll event may not have come yet
		const top = viewTop(toVirtual(current));
		const height = viewHeight || 600;
		const realTop = toReal(top), base = realTop - top;
		const first = Math.max(0, Math.min(n, Math.floor(top / ROW_HEIGHT)) - OVERSCAN);
		const last = Math.min(n, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);

		// Not following, the rows in view stay put as rows come in above them, so the view
		// must be able to scroll to top even when the rows are fewer than fill it: else the
		// browser clamps scrollTop, the next render takes that for the user scrolling to the
		// top, follows again, and rows move under the pointer.
		const h1 = Math.min(MAX_PX, Math.max(n * ROW_HEIGHT, follow ? 0 : top + height)) + "px";
		if (spacer.style.height !== h1)
			spacer.style.height = h1;
		empty.classList.toggle("hidden", n > 0 || !store.complete);
		const keep = new Set();
		let missFrom = -1, missTo = -1;
		for (let i = first; i < last; i++) {
			const f = rowAt(i);
			if (f) {
				placeRow(i, f, keep, base);
				continue;
			}
			placeHolder(i, keep, base);
			if (missFrom < 0)
				missFrom = i;
			missTo = i + 1;
		}
		for (const [k, node] of nodes)
			if (!keep.has(k)) {
				node.remove();
				nodes.delete(k);
			}
		if (missFrom >= 0)
			h.need(missFrom, missTo);
		if (realTop !== current)
			viewport.scrollTop = realTop;
		lastSetTop = realTop;
		rememberAnchor(top);
		if (wantPos >= 0 && rowAt(wantPos)) {
			const f = rowAt(wantPos);
			wantPos = -1;
			choose(f.id, "only");
			if (openId !== null)
				h.open(f.id);
		}
		h.viewChanged();
	}

	function rememberAnchor(top) {
		const i = Math.floor(top / ROW_HEIGHT);
		const f = rowAt(i);
		anchor = f ? { id: f.id, offset: top - i * ROW_HEIGHT } : anchor;
	}

	function setFollow(v) {
		if (follow === v)
			return;
		follow = v;
		h.followChanged(v);
		if (v)
			schedule();
	}

	// The user scrolled: following the newest flows ends, and starts again at the top; the
	// row now at the top of the view is the one to keep in place.
	function userScrolled(real) {
		lastSetTop = real;
		const top = toVirtual(real);
		follow = top < ROW_HEIGHT / 2;
		h.followChanged(follow);
		anchor = null;
		rememberAnchor(top);
	}

	on(viewport, "scroll", () => {
		const top = viewport.scrollTop;
		if (top !== lastSetTop)
			userScrolled(top);
		schedule(true);
	});

	// Selection: how = "only" (a click), "toggle" (Ctrl/Cmd), "range" (Shift: from the last
	// flow clicked to this one, over the rows loaded between them).
	function choose(id, how) {
		if (how === "toggle") {
			if (chosen.has(id))
				chosen.delete(id);
			else
				chosen.add(id);
			rangeFrom = id;
		} else if (how === "range" && rangeFrom !== null && posOf(rangeFrom) >= 0) {
			const a = posOf(rangeFrom), b = posOf(id);
			chosen = new Set();
			for (let i = Math.min(a, b); i <= Math.max(a, b); i++) {
				const f = rowAt(i);
				if (f)
					chosen.add(f.id);
			}
		} else {
			chosen = new Set([id]);
			rangeFrom = id;
		}
		selected = id;
		if (h.selectionChanged)
			h.selectionChanged();
		schedule(true);
	}

	function rowId(ev) {
		const row = ev.target.closest(".row[data-id]");
		return row ? Number(row.dataset.id) : null;
	}

	on(viewport, "click", (ev) => {
		const id = rowId(ev);
		if (id === null)
			return;
		if (ev.shiftKey) {
			choose(id, "range");
			return;
		}
		if (ev.ctrlKey || ev.metaKey) {
			choose(id, "toggle");
			return;
		}
		choose(id, "only");
		h.open(id);
	});
	on(viewport, "mousedown", (ev) => {
		if (ev.shiftKey) // no text selection on Shift-click
			ev.preventDefault();
	});
	on(viewport, "contextmenu", (ev) => {
		const id = rowId(ev);
		if (id === null || !h.contextMenu)
			return;
		ev.preventDefault();
		if (!chosen.has(id))
			choose(id, "only");
		h.contextMenu(ev.clientX, ev.clientY);
	});

	// Scrolls so that position i is in view.
	function reveal(i) {
		const top = toVirtual(viewport.scrollTop), height = viewport.clientHeight;
		if (i * ROW_HEIGHT < top)
			setScrollTop(i * ROW_HEIGHT);
		else if ((i + 1) * ROW_HEIGHT > top + height)
			setScrollTop((i + 1) * ROW_HEIGHT - height);
		if (viewport.scrollTop > 0) {
			setFollow(false);
			anchor = null;
			rememberAnchor(toVirtual(viewport.scrollTop));
		} else {
			setFollow(true);
		}
	}

	function select(id, revealIt = false) {
		if (!chosen.has(id) || chosen.size !== 1 || selected !== id) {
			chosen = new Set([id]);
			rangeFrom = id;
			if (h.selectionChanged)
				h.selectionChanged();
		}
		selected = id;
		if (revealIt) {
			const i = posOf(id);
			if (i >= 0)
				reveal(i);
		}
		schedule(true);
	}

	// Moves the cursor by delta rows (to a row not loaded yet: once it is), Shift extending
	// the selection.
	function move(delta, extend = false) {
		const n = count();
		if (!n)
			return;
		let i = selected === null ? -1 : posOf(selected);
		// from nothing selected: down from above the first row, up from below the last
		i = Math.max(0, Math.min(n - 1, (i < 0 ? (delta > 0 ? -1 : n) : i) + delta));
		reveal(i);
		const f = rowAt(i);
		if (!f) {
			wantPos = i;
			schedule(true);
			return;
		}
		wantPos = -1;
		if (extend) {
			choose(f.id, "range");
		} else {
			select(f.id);
			if (openId !== null)
				h.open(f.id);
		}
	}

	/** Keyboard handling for the list; returns true when the key was used. */
	function key(ev) {
		const page = Math.max(1, Math.floor(viewport.clientHeight / ROW_HEIGHT) - 1);
		const ext = ev.shiftKey;
		switch (ev.key) {
		case "j": case "ArrowDown": move(1, ext); return true;
		case "k": case "ArrowUp": move(-1, ext); return true;
		case "PageDown": move(page, ext); return true;
		case "PageUp": move(-page, ext); return true;
		case "Home": move(-count(), ext); return true;
		case "End": move(count(), ext); return true;
		case " ":
			if (selected !== null)
				choose(selected, "toggle");
			return true;
		case "Enter":
			if (selected !== null)
				h.open(selected);
			return true;
		case "ContextMenu":
		case "F10":
			if (ev.key === "F10" && !ev.shiftKey)
				return false;
			if (selected !== null && h.contextMenu) {
				const node = nodes.get(selected);
				const b = (node || viewport).getBoundingClientRect();
				if (!chosen.has(selected))
					choose(selected, "only");
				h.contextMenu(b.left + 40, b.top + (node ? ROW_HEIGHT : 0));
			}
			return true;
		case "Delete":
			if (chosen.size) {
				const ids = [...chosen];
				const i = posOf(selected);
				const next = [rowAt(i + 1), rowAt(i - 1)].find((f) => f && !chosen.has(f.id));
				h.remove(ids);
				if (next)
					select(next.id, true);
			}
			return true;
		}
		return false;
	}

	/** Ctrl/Cmd+A: every loaded row. */
	function selectAll() {
		chosen = new Set(sortedIds() ? sorted : [...store.ids]);
		for (let i = far.position; i < far.position + far.length; i++)
			if (far.at(i))
				chosen.add(far.at(i).id);
		if (h.selectionChanged)
			h.selectionChanged();
		schedule(true);
	}

	store.subscribe((what) => {
		if (what === "reset") {
			for (const node of nodes.values())
				node.remove();
			nodes.clear();
			reloaded = true;
		}
		// A page the user scrolled down to, or a new list, shows at once.
		schedule(what === "page" || what === "reset");
	});
	new ResizeObserver((entries) => {
		viewHeight = entries[entries.length - 1].contentRect.height;
		schedule(true);
	}).observe(viewport);

	return {
		key,
		select,
		selectAll,
		schedule,
		far,
		columns,
		focus: () => viewport.focus(),
		get selected() { return selected; },
		/** The selected flows' ids, in list order (newest first). */
		get selection() {
			return [...chosen].sort((a, b) => (posOf(a) - posOf(b)) || b - a);
		},
		/** The selected flows' summaries that are loaded. */
		selectedFlows() {
			return this.selection.map(flowOf).filter(Boolean);
		},
		/** Forgets flows that are gone from the selection. */
		unselect(ids) {
			for (const id of ids)
				chosen.delete(id);
			if (h.selectionChanged)
				h.selectionChanged();
			schedule(true);
		},
		get follow() { return follow; },
		setFollow(v) {
			if (v)
				setScrollTop(0);
			setFollow(v);
		},
		setOpen(id) {
			openId = id;
			columns.setNarrow(id !== null);
			schedule(true);
		},
		setHighlight(ids) {
			highlighted = ids;
			schedule();
		},
		/** Ids of the rows in view (for highlighting), newest first. */
		visibleIds() {
			const top = toVirtual(viewport.scrollTop), height = viewport.clientHeight || 600;
			const first = Math.floor(top / ROW_HEIGHT);
			const last = Math.min(count(), Math.ceil((top + height) / ROW_HEIGHT) + 1);
			const out = [];
			for (let i = first; i < last; i++) {
				const f = rowAt(i);
				if (f)
					out.push(f.id);
			}
			return sortedIds() ? out.sort((a, b) => b - a) : out;
		},
	};
}
