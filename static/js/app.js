// SPDX-License-Identifier: MIT
// app.js - wiring only: reads the token, builds the store, starts the event stream, mounts the
// views (flow list, detail pane, filter bar, rules and CA pages) and routes keys and the
// #/flows, #/rules, #/options, #/ca pages.

import * as api from "./api.js";
import { el, on, replace } from "./dom.js";
import { createStore } from "./store.js";
import { EventStream } from "./stream.js";
import { createFlowList } from "./flowlist.js";
import { createFarWindow } from "./farwindow.js";
import { createBulk } from "./bulk.js";
import { createEventLog } from "./eventlog.js";
import { createFlowDetail } from "./flowdetail.js";
import { createActions } from "./actions.js";
import { createOptionsPage } from "./options.js";
import { createRulesPage } from "./rules.js";
import { createCaPage } from "./ca.js";
import { loadFilterHelp } from "./filterhelp.js";

const PAGE = 200;          // rows per /api/flows page
const HEAD_DELAY = 300;    // ms between head refreshes of a filtered list
const FILTER_DELAY = 250;  // ms of typing before a filter is applied

const $ = (id) => document.getElementById(id);

api.initToken();
const store = createStore();
const far = createFarWindow(); // rows far below the store's, where the scrollbar was dragged
let applied = "";          // the filter the list shows (last valid one)
let highlightExpr = "";

// ---- notifications and status bar --------------------------------------------------------

const note = $("note");
let noteTimer = 0;
function notify(text, kind = "info") {
	note.className = "note " + kind;
	replace(note, text);
	clearTimeout(noteTimer);
	noteTimer = setTimeout(() => {
		note.className = "note";
		replace(note);
	}, kind === "error" ? 15000 : 5000);
}

const conn = $("conn");
let authChecked = false;
function setConn(state, detail) {
	if (state === "error" && detail)
		notify(detail, "error");
	// A socket that cannot connect may be a missing token: say so instead of retrying quietly.
	if (state === "reconnecting" && !authChecked) {
		authChecked = true;
		api.listFlows({ limit: 1 }).catch((e) => {
			if (e.status === 401)
				notify("Not authorized: open the address flowscope printed at start " +
					"(…/?token=…)", "error");
			else
				authChecked = false;
		});
	}
	if (state === "live") {
		if (authChecked && conn.dataset.state !== "live")
			notify("flowscope is back");
		authChecked = false;
	}
	conn.className = "conn conn-" + state;
	conn.dataset.state = state;
	const label = { connecting: "connecting…", loading: "loading…", live: "live",
		reconnecting: "reconnecting", error: "error" }[state] || state;
	replace(conn, el("span", { class: "dot" }), label);
	conn.title = detail || "";
}

// The store cannot be written (read-only, disk full, its file deleted): said in the status
// line until it stores again. From the list's answer (store_error) and the event stream's
// {"type": "store"} messages.
const storeError = $("store-error");
function showStoreError(msg) {
	storeError.hidden = !msg;
	storeError.textContent = msg || "";
}

const counts = $("counts");
function updateCounts() {
	const total = store.total, chosen = list ? list.selection.length : 0;
	replace(counts, applied ? total.toLocaleString() + " matching" :
		total.toLocaleString() + " flows", chosen > 1 ? " · " + chosen.toLocaleString() +
		" selected" : "");
}

// ---- list, detail, actions ----------------------------------------------------------------

const split = $("split");
let openId = null;
let wantOpen = null; // a flow to open as soon as it appears (after a replay)

const actions = createActions({
	notify,
	select(id) {
		wantOpen = id;
		if (store.get(id))
			openFlow(id);
	},
	removed: removedHere,
});

/** A flow this page deleted (the server said so). */
function removedHere(id) {
	store.remove(id); // the far window hears of it from the server's message
	list.unselect([id]);
	if (openId === id)
		closeDetail();
}

const list = createFlowList($("list"), store, {
	open: openFlow,
	remove: removeFlows,
	need,
	viewChanged: scheduleHighlight,
	followChanged: (v) => { $("follow").checked = v; },
	selectionChanged: updateCounts,
	sort: sortList,
	contextMenu: (x, y) => bulk.open(x, y),
}, far);

const bulk = createBulk({
	selected: () => list.selectedFlows(),
	open: openFlow,
	remove: removeFlows,
	replayed(id) {
		wantOpen = id;
		if (store.get(id))
			openFlow(id);
	},
	notify,
});

/** Deletes the flows (the selection, or one). */
async function removeFlows(ids) {
	if (ids.length === 1)
		return actions.remove(ids[0]);
	let done = 0;
	for (let i = 0; i < ids.length; i += 8)
		done += (await Promise.all(ids.slice(i, i + 8).map((id) => api.deleteFlow(id)
			.then(() => { removedHere(id); return 1; }, () => 0))))
			.reduce((a, b) => a + b, 0);
	notify("Deleted " + done + " of " + ids.length + " flows", done === ids.length ?
		"info" : "error");
}

// A sort by a column orders the loaded rows: offered when they are the whole list, or can be
// (up to SORT_MAX rows are loaded for it).
const SORT_MAX = 20000;
function sortList(next, quiet = false) {
	if (!next || store.complete)
		return true;
	if (store.total > SORT_MAX) {
		if (!quiet) notify("Sorting by a column needs a list of at most " + SORT_MAX.toLocaleString() +
			" flows (this one has " + store.total.toLocaleString() + "): narrow the filter",
		"error");
		return false;
	}
	(async () => {
		const gen = listGen;
		while (!store.complete && !loadFailed() && gen === listGen) {
			loadingMore = false;
			await loadMore(2000);
		}
		list.schedule(true);
	})();
	return true;
}

// A long list's index of positions is built on the server the first time a position is asked
// for (a scan of the list): asked for once the page is quiet, so that End or a drag of the
// scrollbar finds it built (at 1M flows: 0.05 s instead of 0.9 s).
const WARM_DELAY = 1500, WARM_MIN = 5000;
let warmTimer = 0;
function warmPositions() {
	clearTimeout(warmTimer);
	if (store.complete || store.total < WARM_MIN)
		return;
	const gen = listGen;
	warmTimer = setTimeout(() => {
		if (gen === listGen && !far.length)
			api.listFlows({ filter: applied, position: store.total - 1, limit: 1 })
				.catch(() => { /* only a head start */ });
	}, WARM_DELAY);
}

// A list loaded anew: its positions warmed, and sorted when it can be, else shown in its own
// order (the sort chosen is kept for the next list).
function listLoaded() {
	warmPositions();
	const sort = list.columns.sort;
	if (sort)
		list.columns.setActive(sortList(sort, true));
}

const detail = createFlowDetail($("detail"), {
	actions: (f) => actions.bar(f),
	close: closeDetail,
	note: noteLine,
});

/** The detail pane's line of notes: the mark and the comment, and a button to change them. */
function noteLine(f) {
	return el("div", { class: "detail-note" },
		f.mark ? el("i", { class: "swatch mark-" + f.mark, title: "marked " + f.mark }) : null,
		el("span", { class: f.comment ? "comment" : "muted" }, f.comment || "no note"),
		on(el("button", { type: "button", class: "small", "data-action": "note",
			title: "mark in a colour, comment" }, "Note…"), "click", () => bulk.notes([f])));
}

// The detail pane's width: the splitter beside it is dragged (or moved with the arrow keys);
// kept in localStorage.
const WIDTH_KEY = "flowscope.detailWidth";
function setDetailWidth(px, save) {
	const w = Math.round(Math.max(360, Math.min(px, split.clientWidth - 300)));
	split.style.setProperty("--detail-w", w + "px");
	if (save)
		try {
			localStorage.setItem(WIDTH_KEY, String(w));
		} catch { /* for this page only */ }
}
try {
	const w = Number(localStorage.getItem(WIDTH_KEY));
	if (w > 0)
		split.style.setProperty("--detail-w", w + "px");
} catch { /* the default width */ }
const splitter = $("splitter");
on(splitter, "pointerdown", (ev) => {
	ev.preventDefault();
	splitter.setPointerCapture(ev.pointerId);
	splitter.classList.add("dragging");
	const right = split.getBoundingClientRect().right;
	const move = (e) => setDetailWidth(right - e.clientX, false);
	const up = (e) => {
		splitter.removeEventListener("pointermove", move);
		splitter.removeEventListener("pointerup", up);
		splitter.classList.remove("dragging");
		setDetailWidth(right - e.clientX, true);
	};
	splitter.addEventListener("pointermove", move);
	splitter.addEventListener("pointerup", up);
});
on(splitter, "keydown", (ev) => {
	const d = { ArrowLeft: 20, ArrowRight: -20 }[ev.key];
	if (d) {
		ev.preventDefault();
		ev.stopPropagation();
		setDetailWidth($("detail").getBoundingClientRect().width + d, true);
	}
});

// The list's filter and open flow live in the address (#/flows?filter=…&flow=ID), as
// mitmweb's do: a reload or a bookmark comes back to them.
function saveView() {
	if (!/^#?\/?(flows)?(\?|$)/.test(location.hash))
		return; // another page is shown
	const q = new URLSearchParams();
	if (applied)
		q.set("filter", applied);
	if (openId !== null)
		q.set("flow", String(openId));
	const hash = "#/flows" + (q.size ? "?" + q : "");
	if (location.hash !== hash)
		history.replaceState(null, "", location.pathname + location.search + hash);
}

function restoreView() {
	const m = /^#\/flows\?(.*)$/.exec(location.hash);
	if (!m)
		return;
	const q = new URLSearchParams(m[1]);
	applied = (q.get("filter") || "").trim();
	filterInput.value = applied;
	const id = Number(q.get("flow"));
	if (id > 0)
		wantOpen = id; // opened once the list holds it
}

function openFlow(id) {
	openId = id;
	wantOpen = null;
	clearTimeout(detailTimer); // a refresh due for the flow open before is moot
	list.select(id);
	list.setOpen(id);
	split.classList.add("has-detail");
	detail.show(id, true);
	saveView();
}

function closeDetail() {
	openId = null;
	saveView();
	list.setOpen(null);
	split.classList.remove("has-detail");
	const a = document.activeElement;
	const hadFocus = !a || a === document.body || $("detail").contains(a);
	detail.close();
	if (hadFocus)
		list.focus();
}

// While the view follows the newest flows, rows far below are dropped (and loaded again by
// scrolling), so a page left open for hours holds a bounded number of flows.
const KEEP_ROWS = 5000;
let countsPending = false;
let detailTimer = 0;
store.subscribe((what, id) => {
	if (!countsPending) {
		countsPending = true;
		requestAnimationFrame(() => {
			countsPending = false;
			updateCounts();
			updatePaused();
			if (list.follow && store.length > KEEP_ROWS + PAGE)
				store.trim(KEEP_ROWS);
		});
	}
	if (what === "flow" && id === openId) {
		// Coalesce bursts of updates of the open flow.
		clearTimeout(detailTimer);
		detailTimer = setTimeout(() => detail.refresh(), 150);
	}
	if (wantOpen !== null && store.get(wantOpen))
		openFlow(wantOpen);
});

// Paused flows (intercept) in the loaded rows: "Resume all" / "Kill all" act on them.
function pausedFlows() {
	const out = [];
	for (const id of store.ids) {
		const f = store.get(id);
		if (f && f.state === "paused")
			out.push(f);
	}
	return out;
}
function updatePaused() {
	const any = store.ids.some((id) => store.get(id)?.state === "paused");
	$("resume-all").classList.toggle("hidden", !any);
	$("kill-all").classList.toggle("hidden", !any);
}
on($("resume-all"), "click", () => { for (const f of pausedFlows()) actions.resume(f); });
on($("kill-all"), "click", () => { for (const f of pausedFlows()) actions.kill(f); });

// ---- loading pages ------------------------------------------------------------------------

// Every page below is fetched under stream.hold(): the messages that arrive while it travels
// are applied after it, so a page the server read before a change cannot undo the change.
let loadingMore = false;
let listGen = 0; // bumps when the list starts over, so late pages of an old filter are dropped

const eventLog = createEventLog($("page-log"), $("log-badge"));

// The stream's snapshot (its own queue holds the messages meanwhile).
async function loadFirst() {
	eventLog.load().catch(() => { /* the list's answer says what is wrong */ });
	const gen = ++listGen;
	let page;
	try {
		page = await api.listFlows({ filter: applied, limit: PAGE });
	} catch (e) {
		showStoreError(e.body && e.body.store_error);
		throw e;
	}
	showStoreError(page.store_error);
	if (gen !== listGen)
		return;
	far.clear();
	store.reset(page, applied, PAGE);
	loadingMore = false;
	listLoaded();
}

let moreFailedAt = 0; // after a failed page, wait a little before asking again
const loadFailed = () => Date.now() - moreFailedAt < 3000;

async function loadMore(limit = PAGE) {
	if (loadingMore || store.complete || !store.length || loadFailed())
		return;
	loadingMore = true;
	const gen = listGen;
	try {
		await stream.hold(async () => {
			const page = await api.listFlows({ filter: applied, limit,
				before: store.ids[store.length - 1] });
			if (gen === listGen)
				store.appendPage(page, limit);
		});
	} catch (e) {
		moreFailedAt = Date.now();
		notify("Loading more flows failed: " + e.message, "error");
		setTimeout(() => list.schedule(), 3100);
	} finally {
		if (gen === listGen)
			loadingMore = false;
	}
}

// Rows in view that are not loaded: next to the store's rows, its next page; elsewhere (the
// scrollbar dragged, End) the rows at that position, a little more than the view, fetched once
// the drag rests for FAR_DELAY ms.
const FAR_DELAY = 60, FAR_MARGIN = 60;
let farWant = null, farTimer = 0, farBusy = false;
function need(first, last) {
	if (!store.complete && first <= store.length + PAGE / 2) {
		loadMore();
		return;
	}
	farWant = [first, last];
	clearTimeout(farTimer);
	if (!farBusy)
		farTimer = setTimeout(loadFar, FAR_DELAY);
}

async function loadFar() {
	const [first, last] = farWant;
	farWant = null;
	const position = Math.max(0, first - FAR_MARGIN);
	const gen = listGen;
	farBusy = true;
	try {
		await stream.hold(async () => {
			const page = await api.listFlows({ filter: applied, position,
				limit: last - position + FAR_MARGIN });
			if (gen !== listGen)
				return;
			far.set(page.position, page.flows);
			store.setTotal(page.total);
		});
	} catch (e) {
		notify("Loading flows failed: " + e.message, "error");
	} finally {
		farBusy = false;
		list.schedule(true); // asks again for what is still missing
	}
}

// A filtered list cannot tell by itself whether a new or changed flow matches: refresh its
// head from the server, at most every HEAD_DELAY ms.
let headBusy = false, headTimer = 0;
function scheduleHead() {
	if (headTimer || headBusy)
		return;
	headTimer = setTimeout(async () => {
		headTimer = 0;
		headBusy = true;
		const gen = listGen;
		try {
			// The messages held meanwhile may ask for the head again (needsHead): they are
			// applied before the finally below looks.
			await stream.hold(async () => {
				const page = await api.listFlows({ filter: applied, limit: PAGE });
				if (gen === listGen) {
					const before = store.total;
					store.reconcileHead(page, PAGE);
					far.shift(store.total - before); // what changed, changed above it
				}
			});
		} catch {
			/* the next event tries again */
		} finally {
			headBusy = false;
			if (store.needsHead)
				scheduleHead();
		}
	}, HEAD_DELAY);
}

const stream = new EventStream(api.eventsUrl(), {
	snapshot: loadFirst,
	message(msg) {
		if (msg && msg.type === "store")
			showStoreError(msg.error);
		if (msg && msg.type === "log")
			eventLog.add(msg.entry);
		if (store.apply(msg))
			scheduleHead();
		if (far.apply(msg, !!applied))
			list.schedule();
		if (msg.type === "flow" && msg.action === "remove" && msg.flow && msg.flow.id === openId)
			closeDetail();
		if (msg.type === "messages" && msg.id === openId)
			detail.messagesChanged();
	},
	state: setConn,
});

// ---- filter and highlight -----------------------------------------------------------------

const filterInput = $("filter"), filterError = $("filter-error");
const hlInput = $("highlight"), hlError = $("highlight-error");

/** Shows a filter error ("at 7: ...") under its box, with a caret under the position. */
function showFilterError(box, expr, message, offset = 0) {
	const m = /\bat (\d+)\b/.exec(message);
	const parts = [el("div", {}, message)];
	if (m && Number(m[1]) >= offset) {
		const pos = Math.min(Number(m[1]) - offset, expr.length);
		parts.push(el("pre", { class: "caret" }, expr + "\n" + " ".repeat(pos) + "^"));
	}
	replace(box, parts);
	box.classList.remove("hidden");
}

let filterTimer = 0;
async function applyFilter() {
	const expr = filterInput.value.trim();
	const gen = ++listGen;
	try {
		// Held: messages that come meanwhile apply to the new list, not to the old one
		// that the page replaces.
		await stream.hold(async () => {
			const page = await api.listFlows({ filter: expr, limit: PAGE });
			if (gen !== listGen)
				return;
			applied = expr;
			filterInput.classList.remove("invalid");
			filterError.classList.add("hidden");
			replace(filterError);
			far.clear();
			store.reset(page, applied, PAGE);
			loadingMore = false;
			listLoaded();
			saveView();
			list.setFollow(true);
			scheduleHighlight();
		});
	} catch (e) {
		if (gen !== listGen)
			return;
		filterInput.classList.add("invalid");
		showFilterError(filterError, expr, e.status === 400 ? e.message :
			"Filtering failed: " + e.message);
	}
}
on(filterInput, "input", () => {
	clearTimeout(filterTimer);
	filterTimer = setTimeout(applyFilter, FILTER_DELAY);
});
on(filterInput, "keydown", (ev) => {
	if (ev.key === "Enter") {
		clearTimeout(filterTimer);
		applyFilter();
	}
});

// Highlighting asks the server which rows in view match (filter) & (highlight).
let hlTimer = 0, hlBusy = false, hlAgain = false;
function scheduleHighlight() {
	if (!highlightExpr) {
		return;
	}
	if (hlBusy) {
		hlAgain = true;
		return;
	}
	if (hlTimer)
		return;
	hlTimer = setTimeout(highlightNow, 150);
}

async function highlightNow() {
	hlTimer = 0;
	const ids = list.visibleIds();
	if (!highlightExpr || !ids.length) {
		list.setHighlight(new Set());
		return;
	}
	hlBusy = true;
	const expr = applied ? "(" + applied + ") & (" + highlightExpr + ")" : highlightExpr;
	try {
		// In the list's own order the rows in view are consecutive matches of the filter, so
		// the first ids.length matches from the top one cover them; sorted by a column they
		// are spread over an id range, whose every match is asked for.
		const lowest = ids[ids.length - 1], shown = new Set(ids);
		const sorted = list.columns.sort && list.columns.active && store.complete;
		const page = await api.listFlows({ filter: expr, before: ids[0] + 1, limit: sorted ?
			Math.min(10000, ids[0] - lowest + 1) : ids.length });
		list.setHighlight(new Set(page.flows.map((f) => f.id).filter((id) => shown.has(id))));
		hlInput.classList.remove("invalid");
		hlError.classList.add("hidden");
	} catch (e) {
		hlInput.classList.add("invalid");
		// The position is in the combined expression: "(" + filter + ") & (" + highlight.
		showFilterError(hlError, highlightExpr, e.message, applied ? applied.length + 6 : 0);
	} finally {
		hlBusy = false;
		if (hlAgain) {
			hlAgain = false;
			scheduleHighlight();
		}
	}
}

on(hlInput, "input", () => {
	clearTimeout(hlTimer);
	hlTimer = 0;
	highlightExpr = hlInput.value.trim();
	if (!highlightExpr) {
		list.setHighlight(new Set());
		hlInput.classList.remove("invalid");
		hlError.classList.add("hidden");
		return;
	}
	hlTimer = setTimeout(highlightNow, FILTER_DELAY);
});

// Operator help popover: the operators come from the server's parser (GET /api/filter-help),
// loaded at start and again on opening if that failed.
const help = $("filter-help");
let helpLoaded = loadFilterHelp($("filter-help-ops"));
on($("filter-help-button"), "click", async () => {
	help.classList.toggle("hidden");
	if (!help.classList.contains("hidden") && !(await helpLoaded))
		helpLoaded = loadFilterHelp($("filter-help-ops"));
});
on(help, "click", (ev) => {
	const code = ev.target.closest("code[data-insert]");
	if (code) {
		filterInput.value = (filterInput.value ? filterInput.value + " " : "") +
			code.dataset.insert;
		filterInput.focus();
	}
});

// ---- toolbar ------------------------------------------------------------------------------

on($("follow"), "change", (ev) => list.setFollow(ev.target.checked));
on($("har-all"), "click", () => actions.exportHar(""));
on($("har-filtered"), "click", () => actions.exportHar(applied));
on($("har-file"), "change", (ev) => {
	const file = ev.target.files[0];
	if (file)
		actions.importHar(file);
	ev.target.value = "";
});
const clearButton = $("clear-all");
let clearArmed = 0;
on(clearButton, "click", () => {
	if (!clearArmed) {
		clearButton.textContent = "Click again to clear all";
		clearButton.classList.add("armed");
		clearArmed = setTimeout(disarm, 3000);
		return;
	}
	disarm();
	actions.clearAll();
});
function disarm() {
	clearTimeout(clearArmed);
	clearArmed = 0;
	clearButton.textContent = "Clear all";
	clearButton.classList.remove("armed");
}

// ---- pages and keys -----------------------------------------------------------------------

let rulesPage = null, optionsPage = null, caDone = false;
function route() {
	const page = (location.hash.match(/^#\/(\w+)/) || [])[1] || "flows";
	eventLog.setVisible(page === "log");
	for (const p of ["flows", "rules", "options", "ca", "log"]) {
		$("page-" + p).classList.toggle("hidden", p !== page);
		const link = document.querySelector('nav a[data-page="' + p + '"]');
		if (link)
			link.classList.toggle("active", p === page);
	}
	if (page === "rules") {
		if (!rulesPage)
			rulesPage = createRulesPage($("page-rules"), { notify });
		rulesPage.load();
	} else if (page === "options") {
		if (!optionsPage)
			optionsPage = createOptionsPage($("page-options"), { notify });
		optionsPage.load();
	} else if (page === "ca" && !caDone) {
		caDone = true;
		createCaPage($("page-ca"));
	} else if (page === "flows") {
		list.schedule();
	}
}
on(window, "hashchange", route);

on(document, "keydown", (ev) => {
	const t = ev.target;
	const typing = t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement ||
		t instanceof HTMLSelectElement;
	if (ev.key === "Escape") {
		if (bulk.isOpen)
			bulk.close();
		else if (typing)
			t.blur();
		else if (!help.classList.contains("hidden"))
			help.classList.add("hidden");
		else if (openId !== null)
			closeDetail();
		return;
	}
	if (!typing && (ev.ctrlKey || ev.metaKey) && ev.key === "a" &&
		!$("page-flows").classList.contains("hidden") && !document.querySelector("dialog[open]")) {
		ev.preventDefault();
		list.selectAll();
		return;
	}
	if (typing || ev.ctrlKey || ev.metaKey || ev.altKey || document.querySelector("dialog[open]"))
		return;
	if ($("page-flows").classList.contains("hidden"))
		return;
	if (ev.key === "/") {
		ev.preventDefault();
		filterInput.focus();
		filterInput.select();
		return;
	}
	const cur = detail.current;
	if (cur && ev.key === "r") {
		actions.replay(cur);
		return;
	}
	if (cur && ev.key === "e") {
		if (cur.state === "paused")
			actions.editPaused(cur);
		else
			actions.editReplay(cur);
		return;
	}
	if (list.key(ev))
		ev.preventDefault();
});

// For tests and the README's measurements: read-only numbers about the page.
window.flowscopeStats = () => ({ rows: store.length, total: store.total,
	far: far.length, farPosition: far.position, selected: list.selection,
	received: stream.received, resyncs: stream.resyncs,
	domRows: document.querySelectorAll("#list .row[data-id]").length });

restoreView();
route();
setConn("connecting");
updateCounts();
stream.start();
list.focus();
