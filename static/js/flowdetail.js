// SPDX-License-Identifier: MIT
// flowdetail.js - the detail pane of one flow: a title, the actions, and tabs Request,
// Response, Timing (a waterfall), Connection and Error. The whole flow comes from
// GET /api/flows/ID, bodies from .../request/body and .../response/body (decoded unless the
// user asks for raw bytes). Everything from the flow is put in the page as text.

import * as api from "./api.js";
import { el, on, replace, svg } from "./dom.js";
import { formatBytes, formatDateTime, formatDuration, flowUrl, headerValue, statusClass }
	from "./format.js";
import { JSON_LIMIT, VIEWS, paramsTable, releaseContent, renderContent } from "./contentview.js";
import { queryParams } from "./views.js";
import { createMessagesView } from "./wsmessages.js";

/**
 * A whole flow as GET /api/flows/ID returns it (web/webjson.c): the summary's fields plus
 * @typedef {Object} FlowDetail
 * @property {{method:string,target:string,version:string,headers:Array<[string,string]>,
 *   trailers?:Array<[string,string]>,head_size:number,body_size:number,body_stored:number,
 *   truncated:boolean}|null} request
 * @property {{status:number,reason:string,version:string,headers:Array<[string,string]>,
 *   trailers?:Array<[string,string]>,head_size:number,body_size:number,body_stored:number,
 *   truncated:boolean}|null} response
 * @property {{sni:string,version:string,cipher:string,alpn:string,cert_subject:string,
 *   cert_issuer:string,client_version:string}|null} tls_info
 */

const TABS = ["request", "response", "messages", "timing", "connection", "error"];

/**
 * @param {HTMLElement} root
 * @param {object} h
 * @param {(f: FlowDetail) => HTMLElement} h.actions  the action bar for a flow
 * @param {(f: FlowDetail) => HTMLElement} [h.note]  the line of the user's notes on a flow
 * @param {() => void} h.close
 */
export function createFlowDetail(root, h) {
	let current = null;   // FlowDetail shown
	let wanted = null;    // id of the last show(): what refresh() loads, even while it loads
	let tab = "response";
	let abort = null;     // AbortController of the loads in flight
	const bodyView = { request: "auto", response: "auto" };
	const decode = { request: true, response: true };
	let messages = null;  // the Messages tab's view while it is shown (wsmessages.js)
	let refreshLater = 0; // a refresh() put off while a menu or dialog is open

	function stopMessages() {
		if (messages)
			messages.stop();
		messages = null;
	}

	function clear() {
		releaseContent(root);
		replace(root);
	}

	async function show(id, keepTab = true) {
		wanted = id;
		if (abort)
			abort.abort();
		abort = new AbortController();
		const signal = abort.signal;
		let f;
		try {
			f = await api.getFlow(id, signal);
		} catch (e) {
			if (e.name === "AbortError")
				return;
			clear();
			root.append(el("div", { class: "error-box" }, "Cannot load flow #" + id + ": " +
				e.message));
			return;
		}
		if (!current || current.id !== id || !keepTab) {
			tab = f.response ? "response" : f.error ? "error" : "request";
			bodyView.request = bodyView.response = "auto";
		} else if (JSON.stringify(f) === JSON.stringify(current)) {
			return; // nothing new: a redraw would only replace what is under the pointer
		}
		current = f;
		draw(signal);
	}

	function draw(signal) {
		const f = current;
		clear();
		const tabs = TABS.filter((t) => (t !== "error" || f.error) &&
			(t !== "messages" || f.websocket));
		if (!tabs.includes(tab))
			tab = tabs[0];
		const title = el("div", { class: "detail-title" },
			el("span", { class: "method" }, f.kind === "tunnel" ? "CONNECT" : f.method || ""),
			" ",
			el("span", { class: "url", title: flowUrl(f) }, flowUrl(f)),
			f.status ? el("span", { class: "badge " + statusClass(f.status) },
				String(f.status)) : null,
			el("span", { class: "badge state-" + f.state }, f.state),
			f.modified ? el("span", { class: "badge modified",
				title: "edited since it was captured; Revert brings the original back" },
			"modified") : null,
			on(el("button", { type: "button", class: "close", title: "Close (Esc)",
				"aria-label": "close" }, "×"), "click", () => h.close()));
		const bar = el("div", { class: "tabs", role: "tablist" }, tabs.map((t) =>
			on(el("button", { type: "button", role: "tab", class: t === tab ? "active" : null,
				"aria-selected": t === tab ? "true" : "false", "data-tab": t },
			t[0].toUpperCase() + t.slice(1)), "click", () => {
				tab = t;
				draw(abort ? abort.signal : undefined);
			})));
		if (tab !== "messages")
			stopMessages();
		const body = el("div", { class: "tab-body" });
		root.append(title, ...(h.note ? [h.note(f)] : []), h.actions(f), bar, body);
		switch (tab) {
		case "request": body.append(messageTab(f, "request", signal)); break;
		case "response": body.append(messageTab(f, "response", signal)); break;
		case "messages":
			// kept while the same flow is redrawn (its end, a refresh): no reload, no flicker
			if (messages && messages.id === f.id) {
				messages.update();
			} else {
				stopMessages();
				messages = createMessagesView(f.id);
			}
			body.append(messages.node);
			break;
		case "timing": body.append(timingTab(f)); break;
		case "connection": body.append(connectionTab(f)); break;
		case "error": body.append(el("pre", { class: "error-box" }, f.error || "")); break;
		}
	}

	function messageTab(f, side, signal) {
		const m = f[side];
		const box = el("div", { class: "message" });
		if (!m) {
			box.append(el("div", { class: "muted" }, side === "response" ?
				(f.kind === "tunnel" ? "A tunnel passed through without decryption: " +
					formatBytes(f.bytes_up) + " up, " + formatBytes(f.bytes_down) + " down." :
					f.error ? "No response: " + f.error : "No response yet.") :
				"No request."));
			return box;
		}
		const line = side === "request" ? [m.method, " ", m.target, " ", m.version]
			: [m.version, " ", String(m.status), " ", m.reason || ""];
		box.append(el("pre", { class: "startline" }, ...line));
		box.append(el("h3", {}, "Headers ", el("span", { class: "muted" },
			"(" + m.headers.length + ", " + formatBytes(m.head_size) + ")")));
		box.append(paramsTable(m.headers, "(no headers)"));
		if (m.trailers && m.trailers.length)
			box.append(el("h3", { class: "trailers" }, "Trailers ", el("span", { class: "muted" },
				"(" + m.trailers.length + ")")), paramsTable(m.trailers));
		if (side === "request") {
			const q = queryParams(m.target);
			if (q.length)
				box.append(el("h3", {}, "Query"), paramsTable(q));
		}
		box.append(bodySection(f, side, m, signal));
		return box;
	}

	function bodySection(f, side, m, signal) {
		const sec = el("section", { class: "body" });
		const ct = headerValue(m.headers, "content-type") || "";
		const enc = headerValue(m.headers, "content-encoding");
		const size = m.body_size || 0;
		const name = "flow-" + f.id + "-" + side + (decode[side] ? "" : "-raw") + ".bin";
		const url = api.authUrl(api.bodyPath(f.id, side, decode[side]));
		const picker = el("select", { class: "small", "aria-label": "view" },
			VIEWS.map((v) => el("option", { value: v, selected: v === bodyView[side] }, v)));
		on(picker, "change", () => {
			bodyView[side] = picker.value;
			draw(abort.signal);
		});
		const decodeBox = el("input", { type: "checkbox", checked: decode[side] });
		on(decodeBox, "change", () => {
			decode[side] = decodeBox.checked;
			draw(abort.signal);
		});
		sec.append(el("h3", {}, "Body ", el("span", { class: "muted" }, "(" + formatBytes(size) +
			(m.truncated ? ", stored " + formatBytes(m.body_stored) + " (truncated)" : "") +
			(enc ? ", " + enc : "") + ")")),
		el("div", { class: "body-bar" }, el("label", {}, "View ", picker),
			enc ? el("label", { title: "undo Content-Encoding" }, decodeBox, " decoded") : null,
			el("a", { href: url, download: name, class: "button small" }, "Download")));
		const holder = el("div", { class: "body-holder" });
		sec.append(holder);
		if (!m.body_stored && !size) {
			holder.append(el("div", { class: "muted" }, "(no body)"));
			return sec;
		}
		holder.append(el("div", { class: "muted" }, "loading…"));
		// Only the start of a big body is fetched; the download link has all of it.
		api.getBody(f.id, side, decode[side] && !!enc, signal, JSON_LIMIT).then((bytes) => {
			releaseContent(holder);
			replace(holder, m.truncated ? el("div", { class: "notice" },
				"Only the first " + formatBytes(m.body_stored) + " of " + formatBytes(size) +
				" were stored.") : null,
			renderContent({ bytes, contentType: ct, view: bodyView[side], downloadUrl: url,
				downloadName: name, totalSize: decode[side] && enc ? 0 : m.body_stored }));
		}, (e) => {
			if (e.name === "AbortError")
				return;
			replace(holder, el("div", { class: "error-box" }, "Cannot load the body: " +
				e.message));
		});
		return sec;
	}

	return {
		show,
		get current() { return current; },
		/** The shown flow changed on the server: load it again, keeping the tab. */
		refresh() {
			clearTimeout(refreshLater);
			if (wanted === null)
				return;
			// an open Export menu or dialog would close under the user's hand: the redraw
			// waits until it is closed
			if (root.querySelector(":popover-open") || document.querySelector("dialog[open]")) {
				refreshLater = setTimeout(() => this.refresh(), 250);
				return;
			}
			show(wanted, true);
		},
		close() {
			clearTimeout(refreshLater);
			if (abort)
				abort.abort();
			current = null;
			wanted = null;
			stopMessages();
			clear();
		},
		/** New WebSocket messages of the shown flow were stored. */
		messagesChanged() {
			if (messages)
				messages.update();
		},
		get tab() { return tab; },
		setTab(t) {
			if (current && TABS.includes(t)) {
				tab = t;
				draw(abort ? abort.signal : undefined);
			}
		},
	};
}

// Each phase is named by the moment that ends it.
const PHASE_OF = [["dns_done", "DNS"], ["connect_done", "Connect"], ["tls_done", "TLS"],
	["start", "Before request"], ["request_sent", "Send"], ["first_byte", "Wait"],
	["end", "Receive"]];

/**
 * The phases of a flow's timing, in time order: [name, from, to] in µs since the epoch. A
 * phase runs from the previous recorded moment to the one that names it. When the request
 * starts first (plain HTTP) that is DNS, Connect, TLS, Send, Wait, Receive. When the upstream
 * connection was made before the request head arrived (HTTPS: the proxy connects upstream to
 * copy its certificate; or a reused connection), the earliest moment has no phase of its own
 * and "Before request" covers the wait between upstream ready and the request.
 */
export function phases(t) {
	if (!t || !t.start)
		return [];
	const points = PHASE_OF.map(([k, name], order) => [name, Number(t[k]) || 0, order])
		.filter((p) => p[1] > 0)
		.sort((a, b) => a[1] - b[1] || a[2] - b[2]);
	const out = [];
	for (let i = 1; i < points.length; i++) {
		// Without a response byte (a failure, a tunnel) the last phase received nothing.
		const name = points[i][0] === "Receive" && !t.first_byte ? "Until end" : points[i][0];
		out.push([name, points[i - 1][1], points[i][1]]);
	}
	return out;
}

function timingTab(f) {
	const t = f.timings || {};
	const ph = phases(t);
	const box = el("div", { class: "timing" });
	if (!ph.length) {
		box.append(el("div", { class: "muted" }, "No timings recorded."));
		return box;
	}
	const start = Math.min(...ph.map((p) => p[1])), end = Math.max(...ph.map((p) => p[2]));
	const span = Math.max(1, end - start);
	const rows = ph.map(([name, a, b]) => el("div", { class: "wf-row" },
		el("span", { class: "wf-name" }, name),
		svg("svg", { class: "wf-bar", width: "100%", height: "14", "aria-hidden": "true" },
			svg("rect", { class: "wf-" + name.toLowerCase().replace(/\W+/g, "-"), x: ((a - start) / span * 100) + "%",
				y: "2", height: "10", width: Math.max(0.3, (b - a) / span * 100) + "%" })),
		el("span", { class: "wf-dur num" }, formatDuration(b - a))));
	box.append(el("div", { class: "waterfall" }, rows),
		el("div", { class: "wf-total" }, "Total " + formatDuration(end - start)));
	box.append(el("h3", {}, "Timestamps"), paramsTable([
		["start", formatDateTime(t.start)], ["dns done", formatDateTime(t.dns_done)],
		["connected", formatDateTime(t.connect_done)], ["TLS done", formatDateTime(t.tls_done)],
		["request sent", formatDateTime(t.request_sent)],
		["first byte", formatDateTime(t.first_byte)], ["end", formatDateTime(t.end)],
	].filter(([, v]) => v)));
	return box;
}

function connectionTab(f) {
	const tls = f.tls_info || {};
	const row = (k, v) => v === null || v === undefined || v === "" ? null : [k, String(v)];
	return el("div", { class: "connection" },
		el("h3", {}, "Connection"),
		paramsTable([
			row("kind", f.kind), row("mode", f.mode), row("listener", f.listener),
			row("client", f.client_addr), row("server", f.server_addr),
			row("scheme", f.scheme), row("host", f.host), row("port", f.port),
			row("HTTP/2 stream", f.stream_id),
			row("bytes up", f.bytes_up !== undefined ? formatBytes(f.bytes_up) : null),
			row("bytes down", f.bytes_down !== undefined ? formatBytes(f.bytes_down) : null),
			row("replay of", f.replay_of ? "#" + f.replay_of : null),
		].filter(Boolean)),
		el("h3", {}, "TLS"),
		paramsTable([
			row("client TLS version", tls.client_version), row("SNI", tls.sni),
			row("upstream TLS version", tls.version), row("cipher", tls.cipher),
			row("ALPN", tls.alpn), row("certificate subject", tls.cert_subject),
			row("certificate issuer", tls.cert_issuer),
		].filter(Boolean), "(no TLS)"));
}
