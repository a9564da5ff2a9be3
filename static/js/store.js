// SPDX-License-Identifier: MIT
// store.js - the flow list the page shows, without any DOM.
//
// The server may hold millions of flows, so the store holds only the rows loaded so far: the
// newest ones, extended page by page (older) as the user scrolls. Rows are kept newest first
// (ids decrease down the list). Live messages from /api/events are applied here:
//
//   no filter  add/update/remove change the rows directly
//   filter     the server decides what matches: updates of rows we hold are applied, and the
//              store asks (needsHead) for the head of the list to be fetched again; that page
//              then replaces every row in the id range it covers (reconcileHead)
//   reset      the list is emptied; the stream (stream.js) loads it again with a snapshot
//
// A page is the server's view at the moment it read it, and messages keep coming while it
// travels: the caller fetches every page under EventStream.hold(), so the messages that arrived
// meanwhile are applied after the page, never overwritten by it.
//
// Listeners get ("rows") after any change of rows or total, ("flow", id) after one row's data
// changed, ("page") after an older page was added (someone scrolled down to it), and ("reset")
// when the list was emptied.

/**
 * A flow summary as /api/flows and /api/events send it (web/webjson.c; extra fields kept).
 * Times are microseconds since the epoch, null when the step did not happen.
 * @typedef {Object} FlowSummary
 * @property {number} id
 * @property {string} kind            http | tunnel
 * @property {string} state           pending | done | error | paused
 * @property {string|null} method
 * @property {string|null} scheme
 * @property {string|null} host
 * @property {number} port
 * @property {string|null} path
 * @property {number|null} status
 * @property {string|null} reason
 * @property {string|null} content_type
 * @property {number} request_body_size
 * @property {number} response_body_size
 * @property {boolean} request_truncated
 * @property {boolean} response_truncated
 * @property {{start:number|null, dns_done:number|null, connect_done:number|null,
 *   tls_done:number|null, request_sent:number|null, first_byte:number|null,
 *   end:number|null, duration:number|null}} timings
 * @property {string|null} error
 * @property {boolean} tls
 * @property {boolean} websocket
 * @property {boolean} replay
 * @property {boolean} imported
 * @property {boolean} marked
 * @property {string} [mark]          "" or the colour of the user's mark
 * @property {string} [comment]       the user's comment
 * @property {number|null} replay_of
 * @property {string|null} client_addr
 * @property {string|null} server_addr
 * @property {number} bytes_up
 * @property {number} bytes_down
 * @property {boolean} [latin1]       some string was not UTF-8 and was widened from latin-1
 */

/**
 * f, an update of flow old, with old's notes (mark, comment) when f does not carry them: the
 * proxy's own updates of a flow leave them out (only what was read from the store has them).
 */
export function keepNotes(old, f) {
	if (old && !("mark" in f) && "mark" in old)
		return { ...f, mark: old.mark, comment: old.comment };
	return f;
}

export function createStore() {
	/** @type {number[]} */
	let ids = [];           // loaded rows, newest first
	const byId = new Map(); // id -> FlowSummary
	let total = 0;          // matching flows on the server (as last told, adjusted by events)
	let complete = false;   // true when the oldest matching flow is loaded
	let filter = "";        // current filter expression ("" = all)
	let needsHead = false;  // a filtered list saw changes it cannot judge itself
	const listeners = new Set();
	const removedHere = new Set(); // ids remove() took out before the server's message came

	let version = 0;        // bumps on every change (a sorted view sorts again)

	function emit(what, arg) {
		version++;
		for (const fn of listeners)
			fn(what, arg);
	}

	// Index of id in ids (desc order), or -(insertion point) - 1.
	function search(id) {
		let lo = 0, hi = ids.length - 1;
		while (lo <= hi) {
			const mid = (lo + hi) >> 1;
			if (ids[mid] === id)
				return mid;
			if (ids[mid] > id)
				lo = mid + 1;
			else
				hi = mid - 1;
		}
		return -lo - 1;
	}

	function insert(f) {
		const i = search(f.id);
		if (i >= 0) {
			byId.set(f.id, f);
			return false;
		}
		ids.splice(-i - 1, 0, f.id);
		byId.set(f.id, f);
		return true;
	}

	function removeId(id) {
		const i = search(id);
		if (i < 0)
			return false;
		ids.splice(i, 1);
		byId.delete(id);
		return true;
	}

	// True when a flow with this id belongs in the loaded range.
	function inRange(id) {
		return complete || (ids.length > 0 && id > ids[ids.length - 1]);
	}

	return {
		subscribe(fn) {
			listeners.add(fn);
			return () => listeners.delete(fn);
		},
		get ids() { return ids; },
		get total() { return total; },
		get complete() { return complete; },
		get filter() { return filter; },
		get needsHead() { return needsHead; },
		get version() { return version; },
		get length() { return ids.length; },
		get(id) { return byId.get(id); },
		at(i) { return byId.get(ids[i]); },
		indexOf(id) {
			const i = search(id);
			return i < 0 ? -1 : i;
		},

		/** Starts over with the first page of a (new) filter. */
		reset(page, newFilter, limit) {
			ids = [];
			byId.clear();
			filter = newFilter ?? filter;
			needsHead = false;
			for (const f of page.flows)
				insert(f);
			total = Number(page.total ?? page.flows.length);
			complete = page.flows.length < limit;
			emit("reset");
			emit("rows");
		},

		/** Adds an older page (fetched with before = the oldest loaded id). */
		appendPage(page, limit) {
			for (const f of page.flows)
				insert(f);
			if (page.total !== undefined)
				total = Number(page.total);
			if (page.flows.length < limit)
				complete = true;
			emit("rows");
			emit("page");
		},

		/**
		 * Replaces what is held in the id range covered by a fresh first page: every held row
		 * with id >= the page's oldest (all of them when the page was short) is dropped unless
		 * the page has it.
		 */
		reconcileHead(page, limit) {
			const short = page.flows.length < limit;
			const oldest = page.flows.length ? page.flows[page.flows.length - 1].id : Infinity;
			const keep = [];
			for (const id of ids)
				if (!short && id < oldest)
					keep.push(id);
				else
					byId.delete(id);
			ids = keep;
			for (const f of page.flows)
				insert(f);
			if (short && ids.length === page.flows.length)
				complete = true;
			total = Number(page.total ?? total);
			needsHead = false;
			emit("rows");
		},

		/**
		 * Applies one /api/events message. Returns true when the caller should fetch the
		 * head again (filtered lists only).
		 */
		apply(msg) {
			if (!msg || typeof msg !== "object")
				return false;
			if (msg.type === "reset") {
				// No head fetch: the stream loads a snapshot after a reset and holds the
				// messages until it is in. A head page of its own would race with them
				// (flows added while it travels were dropped by reconcileHead).
				ids = [];
				byId.clear();
				total = 0;
				complete = true;
				needsHead = false;
				emit("reset");
				emit("rows");
				return false;
			}
			if (msg.type !== "flow" || !msg.flow || typeof msg.flow.id !== "number")
				return false;
			const id = msg.flow.id, f = keepNotes(byId.get(id), msg.flow);
			if (msg.action === "remove") {
				if (removedHere.delete(id))
					return false;
				if (removeId(id)) {
					total = Math.max(0, total - 1);
					emit("rows");
				} else if (!filter && !inRange(id)) {
					total = Math.max(0, total - 1);
					emit("rows");
				}
				return false;
			}
			const held = byId.has(id);
			if (filter) {
				// Whether it matches is the server's to say; keep what we show current.
				if (held) {
					byId.set(id, f);
					emit("flow", id);
				}
				needsHead = true;
				return true;
			}
			if (held) {
				byId.set(id, f);
				emit("flow", id);
				return false;
			}
			if (msg.action === "add" || inRange(id)) {
				if (msg.action === "add")
					total++;
				if (inRange(id))
					insert(f);
				emit("rows");
			}
			return false;
		},

		/**
		 * Keeps only the newest max rows (the page calls this while following the newest
		 * flows, so a long session does not grow without end); scrolling down loads the
		 * dropped ones again. Returns the number dropped.
		 */
		trim(max) {
			if (ids.length <= max)
				return 0;
			const dropped = ids.splice(max);
			for (const id of dropped)
				byId.delete(id);
			complete = false;
			emit("rows");
			return dropped.length;
		},

		/** The total as a page read at a position told it (the far window's). */
		setTotal(n) {
			if (n !== total) {
				total = n;
				emit("rows");
			}
		},

		/** Removes a row locally (after a DELETE the server confirmed). */
		remove(id) {
			if (removeId(id)) {
				removedHere.add(id);
				total = Math.max(0, total - 1);
				emit("rows");
			}
		},
	};
}
