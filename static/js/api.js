// SPDX-License-Identifier: MIT
// api.js - fetch wrappers for the REST API (design.md "Web API"). Every call sends the cookie
// that the server set when the page was opened with ?token=; if the page URL carried a token
// it is also sent as "Authorization: Bearer" (kept for this tab only), so the UI works when
// served from a path that does not set the cookie. Errors become ApiError with the server's
// {"error"} text and the HTTP status.

const TOKEN_KEY = "flowscope.token";
let token = null;

/** Reads ?token= from the page URL once, remembers it for the tab and removes it from the URL. */
export function initToken() {
	const url = new URL(location.href);
	const t = url.searchParams.get("token");
	if (t) {
		token = t;
		try {
			sessionStorage.setItem(TOKEN_KEY, t);
		} catch {
			/* storage may be disabled; the cookie still works */
		}
		url.searchParams.delete("token");
		history.replaceState(null, "", url.pathname + url.search + url.hash);
	} else {
		try {
			token = sessionStorage.getItem(TOKEN_KEY);
		} catch {
			token = null;
		}
	}
}

export class ApiError extends Error {
	constructor(status, message, body) {
		super(message);
		this.status = status;
		this.body = body; // the parsed JSON error object, if any
	}
}

function headers(extra = {}) {
	const h = { ...extra };
	if (token)
		h.Authorization = "Bearer " + token;
	return h;
}

/** A URL for links the browser fetches itself (downloads): adds ?token= when needed. */
export function authUrl(path) {
	if (!token)
		return path;
	return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
}

/** The WebSocket URL of /api/events. */
export function eventsUrl() {
	const proto = location.protocol === "https:" ? "wss:" : "ws:";
	return authUrl(proto + "//" + location.host + "/api/events");
}

async function failure(res) {
	let body = null, msg = "";
	try {
		body = await res.json();
		msg = body && typeof body.error === "string" ? body.error : "";
	} catch {
		/* not JSON */
	}
	if (res.status === 501)
		msg = "not implemented by this server yet (501)" + (msg ? ": " + msg : "");
	else if (!msg)
		msg = res.status + " " + res.statusText;
	return new ApiError(res.status, msg, body);
}

/** fetch() with credentials and the token; throws ApiError unless the answer is 2xx. */
export async function request(method, path, { body, type, accept, signal } = {}) {
	const h = headers(type ? { "Content-Type": type } : {});
	if (accept)
		h.Accept = accept;
	let res;
	try {
		res = await fetch(path, { method, headers: h, body, credentials: "same-origin",
			signal, cache: "no-store" });
	} catch (e) {
		if (e.name === "AbortError")
			throw e;
		throw new ApiError(0, "cannot reach flowscope: " + e.message);
	}
	if (!res.ok)
		throw await failure(res);
	return res;
}

async function json(method, path, opts) {
	const res = await request(method, path, opts);
	const text = await res.text();
	return text ? JSON.parse(text) : {};
}

function sendJson(method, path, value) {
	return json(method, path, { body: JSON.stringify(value), type: "application/json" });
}

/**
 * GET /api/flows: {flows, total}, the newest first (before: with smaller ids than that), or,
 * with position, the flows from that position of the list on: {flows, total, position}.
 */
export function listFlows({ filter = "", limit = 200, before = 0, position, signal } = {}) {
	const q = new URLSearchParams();
	if (filter)
		q.set("filter", filter);
	q.set("limit", String(limit));
	if (before)
		q.set("before", String(before));
	if (position !== undefined)
		q.set("position", String(position));
	return json("GET", "/api/flows?" + q, { signal });
}

export const getFlow = (id, signal) => json("GET", "/api/flows/" + id, { signal });
export const deleteFlow = (id) => json("DELETE", "/api/flows/" + id);
export const clearFlows = () => json("DELETE", "/api/flows");
/** edited: a request object as design.md describes, or undefined to replay as is. */
export const replayFlow = (id, edited) => edited
	? sendJson("POST", "/api/flows/" + id + "/replay", edited)
	: json("POST", "/api/flows/" + id + "/replay");
export const resumeFlow = (id) => json("POST", "/api/flows/" + id + "/resume");
export const killFlow = (id) => json("POST", "/api/flows/" + id + "/kill");
/** edit: {request} or {response}: a paused flow's (the proxy's) or a complete flow's. */
export const editFlow = (id, edit) => sendJson("PUT", "/api/flows/" + id, edit);
export const revertFlow = (id) => json("POST", "/api/flows/" + id + "/revert");
export const duplicateFlow = (id) => json("POST", "/api/flows/" + id + "/duplicate");
/** A WebSocket flow's messages with an index above after (-1: from the first). */
export const getMessages = (id, after, limit, signal) => json("GET", "/api/flows/" + id +
	"/messages?after=" + after + "&limit=" + limit, { signal });
/** The user's notes on a flow: {mark?: "" | colour, comment?: string}. */
export const noteFlow = (id, notes) => sendJson("PATCH", "/api/flows/" + id, notes);
export const getRules = () => json("GET", "/api/rules");
/** GET /api/log: {entries: [{seq, time, level, source, text}]}, oldest first. */
export const getLog = () => json("GET", "/api/log");
export const putRules = (rules) => sendJson("PUT", "/api/rules", rules);
/** GET /api/options: {ssl_insecure, anticache, body_limit, intercept_budget}. */
export const getOptions = () => json("GET", "/api/options");
/** PATCH /api/options with some of them; answers them all. */
export const patchOptions = (opts) => sendJson("PATCH", "/api/options", opts);

/** Path of a stored body. side: "request" | "response". */
export function bodyPath(id, side, decode) {
	return "/api/flows/" + id + "/" + side + "/body" + (decode ? "?decode=1" : "");
}

/**
 * The stored body as bytes. With max, reading stops once max bytes arrived (the rest is not
 * downloaded): the result then holds at least max bytes and may be only the body's start.
 */
export async function getBody(id, side, decode, signal, max = Infinity) {
	const res = await request("GET", bodyPath(id, side, decode), { signal });
	if (max === Infinity || !res.body)
		return new Uint8Array(await res.arrayBuffer());
	const reader = res.body.getReader();
	const parts = [];
	let n = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done)
			break;
		parts.push(value);
		n += value.length;
		if (n >= max) {
			reader.cancel().catch(() => {});
			break;
		}
	}
	const out = new Uint8Array(n);
	let off = 0;
	for (const p of parts) {
		out.set(p, off);
		off += p.length;
	}
	return out;
}

/** GET /api/har as a Blob (so a 501 or 400 is shown, not saved as a file). */
export async function exportHar(filter) {
	const res = await request("GET", "/api/har" + (filter ?
		"?filter=" + encodeURIComponent(filter) : ""));
	return res.blob();
}

/** POST /api/har with a HAR file (a File, Blob or string). */
export const importHar = (har) => json("POST", "/api/har", { body: har,
	type: "application/json" });
