// SPDX-License-Identifier: MIT
// wsmessages.js - the Messages tab of a WebSocket flow: one row per message (direction arrow,
// time, type, size, the start of its content), the selected message's content through the
// same views as bodies (JSON pretty-printed, hex for binary), and how the socket closed.
// Messages come from GET /api/flows/ID/messages in pages, after the last index shown; while
// the tab is open each {"type":"messages","id":ID} notice of the event stream loads what is
// new (update()). Only the newest MAX_ROWS rows stay in the page.

import * as api from "./api.js";
import { el, on, replace } from "./dom.js";
import { formatBytes, formatTime } from "./format.js";
import { releaseContent, renderContent } from "./contentview.js";

const PAGE = 500, MAX_ROWS = 2000, PREVIEW = 120;

/**
 * A message as the API answers it (web/server/apimessages.c).
 * @typedef {Object} WsMessage
 * @property {number} index
 * @property {boolean} from_client
 * @property {"text"|"binary"} type
 * @property {string} [content]         text that is UTF-8
 * @property {string} [content_base64]  anything else
 * @property {number} timestamp         µs since the epoch
 * @property {number} size
 * @property {boolean} truncated
 */

/** The stored bytes of a message. @param {WsMessage} m @returns {Uint8Array} */
export function messageBytes(m) {
	if (typeof m.content === "string")
		return new TextEncoder().encode(m.content);
	const bin = atob(m.content_base64 || "");
	const out = new Uint8Array(bin.length);
	for (let i = 0; i < bin.length; i++)
		out[i] = bin.charCodeAt(i);
	return out;
}

/** One line of a message's start, for its row. @param {WsMessage} m */
export function messagePreview(m) {
	if (typeof m.content === "string")
		return m.content.length > PREVIEW ? m.content.slice(0, PREVIEW) + "…" : m.content;
	return m.type === "binary" ? "(binary)" : "(not UTF-8)";
}

/** How the socket ended, in words. */
export function closeText(page) {
	if (page.error)
		return "Ended: " + page.error;
	if (page.close_code === null || page.close_code === undefined)
		return "Open (no Close frame seen yet)";
	return "Closed by the " + (page.closed_by_client ? "client" : "server") + ": " +
		page.close_code + (page.close_reason ? " " + page.close_reason : "");
}

/**
 * The tab's content for flow id: { id, node, update(), stop() }.
 * @param {number} id
 */
export function createMessagesView(id) {
	const tbody = el("tbody");
	const count = el("span", { class: "muted" });
	const close = el("div", { class: "ws-close" });
	const holder = el("div", { class: "ws-content" });
	// the list scrolls on its own, and follows the newest while it is scrolled to its end
	const list = el("div", { class: "ws-list" },
		el("table", { class: "ws-table" },
			el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", {}, "Time"),
				el("th", {}, "Type"), el("th", {}, "Size"), el("th", {}, "Content"))),
			tbody));
	const node = el("div", { class: "ws-messages" },
		el("h3", {}, "Messages ", count), close, list, holder);
	let last = -1, busy = false, again = false, stopped = false, selected = null;
	const abort = new AbortController();

	function select(row, m) {
		if (selected)
			selected.classList.remove("selected");
		selected = row;
		row.classList.add("selected");
		releaseContent(holder);
		replace(holder, m.truncated ? el("div", { class: "notice" }, "Only the first " +
			formatBytes(messageBytes(m).length) + " of " + formatBytes(m.size) +
			" were stored.") : null,
		renderContent({ bytes: messageBytes(m), contentType: "",
			view: m.type === "binary" ? "hex" : "auto" }));
	}

	function row(m) {
		const out = m.from_client;
		const tr = el("tr", { class: "ws-row " + (out ? "ws-out" : "ws-in"),
			"data-index": String(m.index), tabindex: "0" },
		el("td", { class: "ws-dir", title: out ? "client to server" : "server to client" },
			out ? "→" : "←"),
		el("td", { class: "num" }, formatTime(m.timestamp)),
		el("td", {}, m.type),
		el("td", { class: "num" }, formatBytes(m.size) + (m.truncated ? " (cut)" : "")),
		el("td", { class: "ws-preview" }, messagePreview(m)));
		on(tr, "click", () => select(tr, m));
		return tr;
	}

	async function loadNew() {
		for (;;) {
			const page = await api.getMessages(id, last, PAGE, abort.signal);
			if (stopped)
				return;
			const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
			for (const m of page.messages) {
				tbody.append(row(m));
				last = m.index;
			}
			if (atEnd)
				list.scrollTop = list.scrollHeight;
			while (tbody.rows.length > MAX_ROWS)
				tbody.rows[0].remove();
			count.textContent = "(" + page.total + (page.total > tbody.rows.length ?
				", the newest " + tbody.rows.length + " shown" : "") + ")";
			close.textContent = closeText(page);
			if (page.messages.length < PAGE)
				return;
		}
	}

	/** Loads what came since the last load (one load at a time; a call meanwhile repeats it). */
	async function update() {
		if (busy) {
			again = true;
			return;
		}
		busy = true;
		try {
			do {
				again = false;
				await loadNew();
			} while (again && !stopped);
		} catch (e) {
			if (e.name !== "AbortError")
				close.textContent = "Cannot load the messages: " + e.message;
		} finally {
			busy = false;
		}
	}

	async function start() {
		// A long socket: start with its newest messages.
		try {
			const first = await api.getMessages(id, -1, 1, abort.signal);
			last = Math.max(-1, first.total - MAX_ROWS - 1);
		} catch {
			/* update() says what is wrong */
		}
		await update();
	}
	start();
	return { id, node, update, stop() { stopped = true; abort.abort(); } };
}
