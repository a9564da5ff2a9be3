// SPDX-License-Identifier: MIT
// farwindow.js - the rows shown far below the loaded head of the list, without any DOM.
//
// The store (store.js) holds the newest rows, loaded page after page as the user scrolls. The
// scrollbar spans the whole list, though, so a drag to the middle of 200,000 flows or End
// asks for rows the head will never reach: those come from GET /api/flows?position=N (the
// server finds the position through its index of ids, without reading the rows above) and
// are held here, one window of consecutive rows at a time, at their positions in the list.
//
// Positions shift as the list changes above the window: a new flow (ids only grow, so it is
// always above) moves the window down by one, a removed one above moves it up. Without a
// filter the page knows each change exactly (apply()); with a filter the server decides what
// matches, and the caller shifts the window by what the head's total changed (shift()).

import { keepNotes } from "./store.js";

export function createFarWindow() {
	let pos = 0;
	/** @type {object[]} */
	let flows = [];
	const index = new Map(); // id -> index in flows

	function reindex() {
		index.clear();
		flows.forEach((f, i) => index.set(f.id, i));
	}

	return {
		get position() { return pos; },
		get length() { return flows.length; },
		/** The flow at position i of the list, or undefined when it is not in the window. */
		at(i) {
			return i >= pos && i < pos + flows.length ? flows[i - pos] : undefined;
		},
		/** The position of the flow with this id, or -1. */
		indexOf(id) {
			const i = index.get(id);
			return i === undefined ? -1 : pos + i;
		},
		get(id) {
			const i = index.get(id);
			return i === undefined ? undefined : flows[i];
		},
		/** Holds the rows of a page fetched with position= (replacing what was held). */
		set(position, page) {
			pos = position;
			flows = page.slice();
			reindex();
		},
		clear() {
			pos = 0;
			flows = [];
			index.clear();
		},
		/** n flows came (n > 0) or went (n < 0) above the window. */
		shift(n) {
			if (flows.length)
				pos = Math.max(0, pos + n);
		},
		/**
		 * Applies one /api/events message. filtered: the list has a filter (whether a flow
		 * matches is then the server's to say: only the rows held are kept current).
		 * Returns true when what is shown changed.
		 */
		apply(msg, filtered) {
			if (!msg || !flows.length)
				return false;
			if (msg.type === "reset") {
				this.clear();
				return true;
			}
			if (msg.type !== "flow" || !msg.flow)
				return false;
			const id = msg.flow.id, i = index.get(id);
			if (msg.action === "remove") {
				if (i !== undefined) {
					flows.splice(i, 1);
					reindex();
					return true;
				}
				if (!filtered && id > flows[0].id) {
					pos = Math.max(0, pos - 1);
					return true;
				}
				return false;
			}
			if (i !== undefined) {
				flows[i] = keepNotes(flows[i], msg.flow);
				return true;
			}
			if (!filtered && msg.action === "add" && id > flows[0].id) {
				pos++;
				return true;
			}
			return false;
		},
	};
}
