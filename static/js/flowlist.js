// SPDX-License-Identifier: MIT
// flowlist.js - the flow table: a virtualized list over the store (store.js). Only the rows in
// view (plus a few) exist in the DOM, each absolutely placed in a spacer as tall as all loaded
// rows; scrolling near the bottom asks for the next older page. Newest flows are at the top:
// "follow" keeps the view there as flows arrive; scrolled away, the rows in view stay put while
// new ones are added above. Keyboard: j/k or arrows move, Enter opens, Delete removes,
// Home/End, PageUp/PageDown.

import { el, on } from "./dom.js";
import { formatBytes, formatDuration, formatTime, shortType, statusClass } from "./format.js";

export const ROW_HEIGHT = 22; // px; ui.css .row has the same height
const OVERSCAN = 8;
const MIN_FRAME = 50, MAX_FRAME = 500; // ms between renders of new data

export const COLUMNS = [
	["marks", ""], ["id", "#"], ["method", "Method"], ["host", "Host"], ["path", "Path"],
	["status", "Status"], ["type", "Type"], ["req", "Req"], ["resp", "Resp"],
	["dur", "Time"], ["start", "Started"],
];

/**
 * The marks of a row: [name, symbol, tooltip] for paused, error, TLS, tunnel, replay, imported
 * and WebSocket. The TLS lock is drawn by ui.css (no font is sure to have 🔒).
 */
export function marks(f) {
	const m = [];
	if (f.state === "paused") m.push(["paused", "Ⅱ", "paused by intercept"]);
	if (f.error) m.push(["error", "⚠", "error"]);
	if (f.tls || f.scheme === "https") m.push(["tls", "", "TLS"]);
	if (f.kind === "tunnel") m.push(["tunnel", "⇄", "tunnel, not decrypted"]);
	if (f.replay) m.push(["replay", "↻", "replay" + (f.replay_of ? " of #" + f.replay_of : "")]);
	if (f.imported) m.push(["imported", "↓", "imported"]);
	if (f.websocket) m.push(["ws", "⇅", "WebSocket"]);
	if (f.marked) m.push(["marked", "★", "marked"]);
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
			m.map(([name, sym]) => el("i", { class: "m-" + name }, sym))],
		["c-id", "", String(f.id)],
		["c-method", "", tunnel ? "CONNECT" : f.method || ""],
		["c-host", hostText(f), hostText(f)],
		tunnel ? ["c-path muted", "", "(tunnel, not decrypted)"] : ["c-path", f.path || "", f.path || ""],
		["c-status " + statusClass(f.status, f.error), f.error || f.reason || "", status],
		["c-type", f.content_type || "", shortType(f.content_type)],
		["c-req num", "", f.request_body_size ? formatBytes(f.request_body_size) : ""],
		["c-resp num", "", tunnel ? formatBytes(f.bytes_down) : formatBytes(f.response_body_size)],
		["c-dur num", "", dur],
		["c-start num", "", formatTime(f.timings && f.timings.start)],
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

/**
 * @param {HTMLElement} root   where the table goes
 * @param {ReturnType<import("./store.js").createStore>} store
 * @param {object} h
 * @param {(id:number) => void} h.open        Enter / click
 * @param {(id:number) => void} h.remove      Delete key
 * @param {() => void} h.loadMore             the view is near the end of the loaded rows
 * @param {() => void} h.viewChanged          rows in view changed (for highlighting)
 * @param {(on:boolean) => void} h.followChanged
 */
export function createFlowList(root, store, h) {
	const header = el("div", { class: "row head", role: "row" },
		COLUMNS.map(([k, t]) => el("span", { class: "c-" + k, role: "columnheader" }, t)));
	const spacer = el("div", { class: "spacer" });
	const empty = el("div", { class: "empty hidden" }, "No flows yet. Send traffic through the proxy.");
	const more = el("div", { class: "more hidden" }, "loading…");
	const viewport = el("div", { class: "viewport", tabindex: "0", role: "grid",
		"aria-label": "flows" }, spacer, empty);
	root.append(header, viewport);

	const nodes = new Map(); // id -> row node in the DOM
	let selected = null;     // selected flow id
	let openId = null;       // flow shown in the detail pane
	let follow = true;
	let highlighted = new Set();
	let pending = false;
	let lastSetTop = 0;
	let anchor = null;       // {id, offset}: the row to keep in place when rows are added above
	let viewHeight = 0;      // px; the viewport's height, kept by a ResizeObserver
	let reloaded = false;    // the store started over since the last render

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

	function setScrollTop(v) {
		viewport.scrollTop = v;
		lastSetTop = viewport.scrollTop;
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
		const n = store.length;
		const current = viewport.scrollTop;
		if (current !== lastSetTop)
			userScrolled(current); // its scroll event may not have come yet
		let top = current;
		if (!follow && anchor && store.indexOf(anchor.id) < 0 && reloaded) {
			// The list was loaded again (a clear, a reconnect) without the row the user was
			// looking at: start over at the newest flows.
			follow = true;
			h.followChanged(true);
		}
		reloaded = false;
		if (follow) {
			top = 0;
		} else if (anchor) {
			const i = store.indexOf(anchor.id);
			if (i >= 0)
				top = i * ROW_HEIGHT + anchor.offset;
		}
		const height = viewHeight || 600;
		const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
		const last = Math.min(n, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);

		// Not following, the rows in view stay put as rows come in above them, so the view
		// must be able to scroll to top even when the rows are fewer than fill it: else the
		// browser clamps scrollTop, the next render takes that for the user scrolling to the
		// top, follows again, and rows move under the pointer.
		const rowsHeight = n * ROW_HEIGHT + (store.complete ? 0 : ROW_HEIGHT);
		const h1 = Math.max(rowsHeight, follow ? 0 : top + height) + "px";
		if (spacer.style.height !== h1)
			spacer.style.height = h1;
		empty.classList.toggle("hidden", n > 0 || !store.complete);
		const keep = new Set();
		for (let i = first; i < last; i++) {
			const f = store.at(i);
			if (!f)
				continue;
			keep.add(f.id);
			let node = nodes.get(f.id);
			if (!node) {
				node = rowNode(f);
				spacer.append(node);
				nodes.set(f.id, node);
			} else if (node.flow !== f) {
				fillRow(node, f);
			}
			const y = i * ROW_HEIGHT + "px";
			if (node.style.top !== y)
				node.style.top = y;
			node.classList.toggle("odd", i % 2 === 1);
			node.classList.toggle("selected", f.id === selected);
			node.classList.toggle("open", f.id === openId);
			node.classList.toggle("hl", highlighted.has(f.id));
		}
		for (const [id, node] of nodes)
			if (!keep.has(id)) {
				node.remove();
				nodes.delete(id);
			}
		if (!store.complete) {
			const y = n * ROW_HEIGHT + "px";
			if (more.style.top !== y)
				more.style.top = y;
			if (!more.parentNode)
				spacer.append(more);
			more.classList.remove("hidden");
			if (last >= n - OVERSCAN)
				h.loadMore();
		} else {
			more.remove();
		}
		if (top !== current)
			viewport.scrollTop = top;
		lastSetTop = top;
		rememberAnchor(top);
		h.viewChanged();
	}

	function rememberAnchor(top) {
		const i = Math.floor(top / ROW_HEIGHT);
		const f = store.at(i);
		anchor = f ? { id: f.id, offset: top - i * ROW_HEIGHT } : null;
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
	function userScrolled(top) {
		lastSetTop = top;
		follow = top < ROW_HEIGHT / 2;
		h.followChanged(follow);
		rememberAnchor(top);
	}

	on(viewport, "scroll", () => {
		const top = viewport.scrollTop;
		if (top !== lastSetTop)
			userScrolled(top);
		schedule(true);
	});

	on(viewport, "click", (ev) => {
		const row = ev.target.closest(".row[data-id]");
		if (!row)
			return;
		const id = Number(row.dataset.id);
		select(id);
		h.open(id);
	});

	function select(id, reveal = false) {
		selected = id;
		if (reveal) {
			const i = store.indexOf(id);
			if (i >= 0) {
				const top = viewport.scrollTop, height = viewport.clientHeight;
				if (i * ROW_HEIGHT < top)
					setScrollTop(i * ROW_HEIGHT);
				else if ((i + 1) * ROW_HEIGHT > top + height)
					setScrollTop((i + 1) * ROW_HEIGHT - height);
				if (viewport.scrollTop > 0)
					setFollow(false);
			}
		}
		schedule(true);
	}

	function move(delta) {
		const n = store.length;
		if (!n)
			return;
		let i = selected === null ? -1 : store.indexOf(selected);
		i = i < 0 ? (delta > 0 ? 0 : n - 1) : Math.max(0, Math.min(n - 1, i + delta));
		select(store.at(i).id, true);
		if (openId !== null)
			h.open(store.at(i).id);
	}

	/** Keyboard handling for the list; returns true when the key was used. */
	function key(ev) {
		const page = Math.max(1, Math.floor(viewport.clientHeight / ROW_HEIGHT) - 1);
		switch (ev.key) {
		case "j": case "ArrowDown": move(1); return true;
		case "k": case "ArrowUp": move(-1); return true;
		case "PageDown": move(page); return true;
		case "PageUp": move(-page); return true;
		case "Home": move(-store.length); return true;
		case "End": move(store.length); return true;
		case "Enter":
			if (selected !== null)
				h.open(selected);
			return true;
		case "Delete":
			if (selected !== null) {
				const i = store.indexOf(selected);
				const next = store.at(i + 1) || store.at(i - 1);
				h.remove(selected);
				if (next)
					select(next.id, true);
			}
			return true;
		}
		return false;
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
		schedule,
		focus: () => viewport.focus(),
		get selected() { return selected; },
		get follow() { return follow; },
		setFollow(v) {
			if (v)
				setScrollTop(0);
			setFollow(v);
		},
		setOpen(id) {
			openId = id;
			schedule(true);
		},
		setHighlight(ids) {
			highlighted = ids;
			schedule();
		},
		/** Ids of the rows in view (for highlighting), newest first. */
		visibleIds() {
			const top = viewport.scrollTop, height = viewport.clientHeight || 600;
			const first = Math.floor(top / ROW_HEIGHT);
			const last = Math.min(store.length, Math.ceil((top + height) / ROW_HEIGHT) + 1);
			return store.ids.slice(first, last);
		},
	};
}
