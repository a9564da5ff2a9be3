// SPDX-License-Identifier: MIT
// actions.js - what the user can do with flows: replay, edit and replay, edit a captured flow
// where it stands and revert it, duplicate, delete, resume/kill/edit a flow paused by the
// intercept rule, copy as curl and the other exports
// (exporters.js; the Export menu), export and import HAR, clear all. Each reports through
// notify(text, kind); an error from the server (a 409 for a flow that is no longer paused, a
// 400 for a bad edit) is shown as it is, and the buttons stay.

import * as api from "./api.js";
import { el, on, saveBlob } from "./dom.js";
import { bytesToBase64, exportAs, FORMATS, harFilterFor, pickHarEntry } from "./exporters.js";
import { flowUrl, headerValue } from "./format.js";
import { decodeText, isText } from "./views.js";

/**
 * @param {object} h
 * @param {(text:string, kind?:string) => void} h.notify
 * @param {(id:number) => void} h.select   show a flow (a replay's new flow)
 * @param {(id:number) => void} h.removed  a flow was deleted
 */
export function createActions(h) {
	async function run(label, fn) {
		try {
			const r = await fn();
			return r;
		} catch (e) {
			h.notify(label + " failed: " + e.message, "error");
			return undefined;
		}
	}

	/** What the exporters take: the request of flow detail f, with its stored body. */
	async function exportRequest(f) {
		const m = f.request || {};
		let body = null;
		if (m.body_stored || m.body_size)
			body = await api.getBody(f.id, "request", false);
		return { method: m.method || f.method, url: flowUrl(f), path: f.path,
			version: m.version, headers: m.headers || [], body, truncated: !!m.truncated,
			// the URL is widened bytes only if both the summary (host, path) and the request
			// (target) hold widened text; the method and headers are in the request
			latin1: !!m.latin1, urlLatin1: !!(m.latin1 && f.latin1) };
	}

	/** The response of flow detail f for the exporters, or null when it has none. */
	async function exportResponse(f) {
		const m = f.response;
		if (!m)
			return null;
		let body = null;
		if (m.body_stored || m.body_size)
			body = await api.getBody(f.id, "response", false);
		return { status: m.status, reason: m.reason, version: m.version,
			headers: m.headers || [], body, truncated: !!m.truncated, latin1: !!m.latin1 };
	}

	/** Format id's text for flow detail f: {text, notes}. */
	async function exportText(f, id) {
		const fmt = FORMATS.find((x) => x.id === id);
		const req = id === "raw-response" ? null : await exportRequest(f);
		const resp = fmt && fmt.needsResponse ? await exportResponse(f) : null;
		return exportAs(id, req, resp);
	}

	/** The curl command for a flow detail (fetches the stored request body). */
	async function curlFor(f) {
		return (await exportText(f, "curl")).text;
	}

	/** Copies format id of f to the clipboard, or shows it to copy by hand. */
	async function copyAs(f, id) {
		const fmt = FORMATS.find((x) => x.id === id) || { label: id };
		const title = "Copy as " + fmt.label;
		const r = await run(title, () => exportText(f, id));
		if (r === undefined)
			return;
		// The notes are in the text as comments where the format has them; said here too.
		const said = r.notes.length ? " (" + r.notes.join("; ") + ")" : "";
		try {
			await navigator.clipboard.writeText(r.text);
			h.notify(fmt.label + (id.startsWith("raw") ? "" : id === "curl" ? " command"
				: " code") + " copied to the clipboard" + said);
		} catch {
			// No clipboard (insecure context or permission): show it to copy by hand.
			showText(title, r.text);
		}
	}

	const copyCurl = (f) => copyAs(f, "curl");

	/**
	 * Saves the HAR of flow f: the server's HAR (GET /api/har) of a filter that matches its
	 * URL, method and client address (the filter language has no flow id), cut down to f's
	 * entry, found by its start time.
	 */
	async function saveHarOf(f) {
		const doc = await run("HAR export", async () => pickHarEntry(JSON.parse(
			await (await api.exportHar(harFilterFor(f))).text()), f));
		if (doc === undefined)
			return;
		const text = JSON.stringify(doc, null, 1);
		saveBlob(new Blob([text], { type: "application/json" }), "flowscope-" + f.id + ".har");
		h.notify("HAR of #" + f.id + " saved (" + text.length + " bytes)");
	}

	/**
	 * The Export menu: one button that opens a list of every format (a popover, so the
	 * detail pane's scrolling cannot clip it; Escape and a click elsewhere close it).
	 */
	function exportMenu(f) {
		const items = [
			...FORMATS.map((fmt) => on(el("button", { type: "button", role: "menuitem",
				"data-export": fmt.id, disabled: fmt.needsResponse && !f.response },
			fmt.id.startsWith("raw") ? "Copy " + fmt.label.toLowerCase()
				: "Copy as " + fmt.label), "click", () => {
				menu.hidePopover();
				copyAs(f, fmt.id);
			})),
			el("hr", { role: "separator" }),
			on(el("button", { type: "button", role: "menuitem", "data-export": "har" },
				"Save HAR of this flow"), "click", () => {
				menu.hidePopover();
				saveHarOf(f);
			}),
		];
		const menu = el("div", { class: "menu", role: "menu", popover: "auto",
			"aria-label": "Export formats" }, items);
		const button = el("button", { type: "button", "data-action": "export",
			"aria-haspopup": "menu", "aria-expanded": "false",
			title: "copy the request as curl, HTTPie, fetch(), Python, raw; save its HAR" },
		"Export ", el("span", { class: "caret", "aria-hidden": "true" }, "▾"));
		button.popoverTargetElement = menu;
		// "toggle" comes after the menu is shown (it has a size then): until it is placed
		// there, it is invisible (.menu:not(.placed)).
		on(menu, "toggle", (ev) => {
			const open = ev.newState === "open";
			button.setAttribute("aria-expanded", String(open));
			menu.classList.toggle("placed", open);
			if (!open)
				return;
			// below the button, kept inside the window (CSSOM, which the CSP allows)
			const r = button.getBoundingClientRect();
			menu.style.left = Math.max(4, Math.min(r.left, innerWidth - menu.offsetWidth - 4)) +
				"px";
			menu.style.top = (r.bottom + menu.offsetHeight + 2 > innerHeight
				? Math.max(4, r.top - menu.offsetHeight - 2) : r.bottom + 2) + "px";
			const first = menu.querySelector("button:not([disabled])");
			if (first)
				first.focus();
		});
		on(menu, "keydown", (ev) => {
			const enabled = [...menu.querySelectorAll("button:not([disabled])")];
			const i = enabled.indexOf(document.activeElement);
			const go = (j) => enabled[(j + enabled.length) % enabled.length].focus();
			if (ev.key === "ArrowDown")
				go(i + 1);
			else if (ev.key === "ArrowUp")
				go(i - 1);
			else if (ev.key === "Home")
				go(0);
			else if (ev.key === "End")
				go(enabled.length - 1);
			else if (ev.key === "Escape") {
				menu.hidePopover();
				button.focus();
			} else if (ev.key === "Tab") {
				menu.hidePopover();
				return;
			} else {
				// r, e, j, k... are the page's shortcuts: not while the menu has the keys
				ev.stopPropagation();
				return;
			}
			ev.preventDefault();
			ev.stopPropagation();
		});
		return el("span", { class: "btn-group" },
			on(el("button", { type: "button", title: "a curl command that repeats the request",
				"data-action": "copy-as-curl" }, "Copy as curl"), "click", () => copyCurl(f)),
			button, menu);
	}

	function showText(title, text) {
		const area = el("textarea", { class: "mono", readonly: true, rows: "12", cols: "80" });
		area.value = text;
		const dlg = el("dialog", { class: "modal" }, el("h2", {}, title), area,
			el("div", { class: "buttons" }, on(el("button", { type: "button" }, "Close"),
				"click", () => dlg.close())));
		on(dlg, "close", () => dlg.remove());
		document.body.append(dlg);
		dlg.showModal();
		area.select();
	}

	async function replay(f) {
		const r = await run("Replay", () => api.replayFlow(f.id));
		if (r && r.id) {
			h.notify("Replayed #" + f.id + " as #" + r.id);
			h.select(r.id);
		}
	}

	async function remove(id) {
		const r = await run("Delete", () => api.deleteFlow(id));
		if (r !== undefined)
			h.removed(id);
	}

	/** Edit and replay: a form with method, URL, headers and body. */
	function editReplay(f) {
		return editForm(f, "replay");
	}

	/** Edit a flow paused by intercept: its request, or its response once that is there. */
	function editPaused(f) {
		return editForm(f, f.response ? "response" : "request");
	}

	/** Edit a captured flow where it stands (mitmweb's edit): side "request" or "response". */
	function editStored(f, side) {
		return editForm(f, "stored-" + side);
	}

	/** Revert: what was captured comes back (POST /api/flows/ID/revert). */
	async function revert(f) {
		const r = await run("Revert", () => api.revertFlow(f.id));
		if (r !== undefined)
			h.notify("Reverted #" + f.id + " to what was captured");
	}

	/** A "body from a file" picker: choose() resolves to {name, base64} or null (none). */
	function bodyFilePicker(textarea) {
		let picked = null;
		const note = el("span", { class: "muted" });
		const input = el("input", { type: "file", "data-field": "body-file",
			"aria-label": "replace the body with a file" });
		on(input, "change", async () => {
			const file = input.files && input.files[0];
			picked = null;
			textarea.disabled = false;
			note.textContent = "";
			if (!file)
				return;
			const bytes = new Uint8Array(await file.arrayBuffer());
			picked = { name: file.name, base64: bytesToBase64(bytes) };
			textarea.disabled = true;
			note.textContent = "the body will be " + file.name + " (" + bytes.length + " bytes)";
		});
		return { node: el("label", { class: "body-file" }, "Body from a file: ", input, " ", note),
			get: () => picked };
	}

	/**
	 * The edit form. mode "replay": POST .../replay with the edited request; "request" or
	 * "response": PUT /api/flows/ID with {request} or {response} (a paused flow);
	 * "stored-request" or "stored-response": the same PUT on a complete flow (edited where it
	 * stands).
	 */
	async function editForm(f, mode) {
		const stored = mode.startsWith("stored-");
		const side = mode.endsWith("response") ? "response" : "request";
		const m = f[side] || {};
		let bodyText = "", binary = false;
		if (m.body_stored) {
			const bytes = await run("Loading the body", () =>
				api.getBody(f.id, side, !!headerValue(m.headers, "content-encoding")));
			if (bytes === undefined)
				return;
			if (isText(bytes))
				bodyText = decodeText(bytes);
			else
				binary = true;
		}
		const isResp = side === "response";
		const method = isResp
			? el("input", { name: "status", value: String(m.status || 200), size: "4",
				"aria-label": "status" })
			: el("input", { name: "method", value: m.method || f.method || "GET",
				size: "8", "aria-label": "method" });
		const url = isResp
			? el("input", { name: "reason", value: m.reason || "", class: "grow",
				"aria-label": "reason" })
			: el("input", { name: "url", value: flowUrl(f), class: "grow",
				"aria-label": "URL" });
		const headers = el("textarea", { name: "headers", rows: "8", class: "mono",
			"aria-label": "headers" });
		// The body is shown decoded. A captured flow's edit keeps every header: the server
		// encodes the saved body again with its Content-Encoding (mitmproxy's message.text)
		// and sets its Content-Length; a replay or a paused flow's edit sends the body as
		// typed, so those two go.
		const hidden = /^(content-length|content-encoding)$/i;
		headers.value = (m.headers || []).filter(([n]) => stored || !hidden.test(n))
			.map(([n, v]) => n + ": " + v).join("\n");
		const body = el("textarea", { name: "body", rows: "8", class: "mono",
			"aria-label": "body", placeholder: binary ? "(binary body: kept unless you type a new one)" : "" });
		body.value = bodyText;
		const file = bodyFilePicker(body);
		const err = el("div", { class: "error-line" });
		const form = el("form", { method: "dialog", class: "edit-form" },
			el("h2", {}, mode === "replay" ? "Edit and replay #" + f.id
				: (stored ? "Edit the " : "Edit the paused ") + side + " of #" + f.id),
			el("div", { class: "line" }, method, url),
			el("label", {}, "Headers (one “Name: value” a line)"), headers,
			el("label", {}, "Body"), body, file.node, err,
			el("div", { class: "buttons" },
				el("button", { type: "submit", value: "send", class: "primary" },
					mode === "replay" ? "Send" : "Save"),
				on(el("button", { type: "button" }, "Cancel"), "click", () => dlg.close())));
		const dlg = el("dialog", { class: "modal" }, form);
		on(dlg, "close", () => dlg.remove());
		on(form, "submit", async (ev) => {
			ev.preventDefault();
			const hs = [];
			for (const line of headers.value.split("\n")) {
				if (!line.trim())
					continue;
				const c = line.indexOf(":");
				if (c <= 0) {
					err.textContent = "Not a header line: " + line;
					return;
				}
				hs.push([line.slice(0, c).trim(), line.slice(c + 1).trim()]);
			}
			const edited = isResp
				? { status: Number(method.value), reason: url.value, headers: hs }
				: { method: method.value.trim(), url: url.value.trim(), headers: hs };
			if (isResp && !(edited.status >= 100 && edited.status <= 999)) {
				err.textContent = "The status is a number from 100 to 999.";
				return;
			}
			if (file.get())
				edited.body_base64 = file.get().base64;
			else if (!binary || body.value !== "")
				edited.body = body.value;
			err.textContent = "";
			try {
				if (mode === "replay") {
					const r = await api.replayFlow(f.id, edited);
					dlg.close();
					h.notify("Sent the edited request as #" + r.id);
					if (r.id)
						h.select(r.id);
				} else {
					await api.editFlow(f.id, { [side]: edited });
					dlg.close();
					h.notify("Edited the " + side + " of #" + f.id + (stored
						? "; Revert brings back what was captured" : "; Resume sends it on"));
				}
			} catch (e) {
				err.textContent = (mode === "replay" ? "Replay" : "Edit") + " failed: " +
					e.message;
			}
		});
		document.body.append(dlg);
		dlg.showModal();
	}

	/** Duplicate: a copy of the flow that says it is a duplicate (POST .../duplicate). */
	async function duplicate(f) {
		const r = await run("Duplicate", () => api.duplicateFlow(f.id));
		if (r && r.id) {
			h.notify("Duplicated #" + f.id + " as #" + r.id);
			h.select(r.id);
		}
	}

	async function exportHar(filter) {
		const blob = await run("HAR export", () => api.exportHar(filter));
		if (blob !== undefined) {
			saveBlob(blob, filter ? "flowscope-filtered.har" : "flowscope.har");
			h.notify("HAR saved (" + blob.size + " bytes)");
		}
	}

	async function importHar(file) {
		const r = await run("HAR import", () => api.importHar(file));
		if (r !== undefined)
			h.notify("Imported " + (r.imported ?? r.count ?? "the") + " flows from " + file.name);
	}

	async function clearAll() {
		const r = await run("Clear", () => api.clearFlows());
		if (r !== undefined)
			h.notify("All flows cleared");
	}

	async function resume(f) {
		const r = await run("Resume", () => api.resumeFlow(f.id));
		if (r !== undefined)
			h.notify("Resumed #" + f.id);
	}

	async function kill(f) {
		const r = await run("Kill", () => api.killFlow(f.id));
		if (r !== undefined)
			h.notify("Killed #" + f.id);
	}

	/** A complete HTTP flow: what editStored() and revert() take. */
	const complete = (f) => (f.state === "done" || f.state === "error") && f.kind === "http";

	/** The action bar of the detail pane. */
	function bar(f) {
		const b = (label, title, fn, cls) => on(el("button", { type: "button", title,
			class: cls || null, "data-action": label.toLowerCase().replace(/\W+/g, "-") }, label),
		"click", fn);
		return el("div", { class: "actions" },
			f.state === "paused" ? [
				b("Resume", "let the paused flow go on", () => resume(f), "primary"),
				b("Edit", "change the paused " + (f.response ? "response" : "request"),
					() => editPaused(f)),
				b("Kill", "end the paused flow with an error", () => kill(f), "danger")] : null,
			b("Replay", "send the request again (r)", () => replay(f)),
			b("Edit & replay", "change the request and send it (e)", () => editReplay(f)),
			complete(f) ? [
				b("Edit request", "change the stored request where it stands",
					() => editStored(f, "request")),
				f.response ? b("Edit response", "change the stored response where it stands",
					() => editStored(f, "response")) : null,
				f.modified ? b("Revert", "bring back what was captured", () => revert(f))
					: null] : null,
			b("Duplicate", "copy this flow into the list", () => duplicate(f)),
			exportMenu(f),
			b("Delete", "remove this flow (Delete)", () => remove(f.id), "danger"));
	}

	return { bar, replay, editReplay, editPaused, editStored, revert, duplicate, copyCurl, copyAs, curlFor, exportText,
		saveHarOf, remove, exportHar,
		importHar, clearAll, resume, kill };
}
