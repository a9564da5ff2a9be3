// SPDX-License-Identifier: MIT
// format.js - pure helpers, no DOM: sizes, durations, times, status classes, flow flags.
// Filters run on the server (in SQL), never here. Copy as curl and the other exports live in
// exporters.js.

/** "0 B", "512 B", "1.5 KiB", "12 MiB"; "" for null/undefined/negative. */
export function formatBytes(n) {
	if (n === null || n === undefined || !Number.isFinite(Number(n)) || Number(n) < 0)
		return "";
	n = Number(n);
	if (n < 1024)
		return n + " B";
	const units = ["KiB", "MiB", "GiB", "TiB"];
	let i = -1;
	do {
		n /= 1024;
		i++;
	} while (n >= 1024 && i < units.length - 1);
	return (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)) + " " + units[i];
}

/** A duration in microseconds: "850 µs", "12 ms", "1.25 s", "2 min 5 s"; "" when unknown. */
export function formatDuration(us) {
	if (us === null || us === undefined || !Number.isFinite(Number(us)) || Number(us) < 0)
		return "";
	us = Number(us);
	if (us < 1000)
		return Math.round(us) + " µs";
	if (us < 1e6)
		return (us < 1e4 ? (us / 1000).toFixed(1) : Math.round(us / 1000)) + " ms";
	if (us < 60e6)
		return (us / 1e6).toFixed(2) + " s";
	const s = Math.round(us / 1e6);
	return Math.floor(s / 60) + " min " + (s % 60) + " s";
}

function pad(n, w = 2) {
	return String(n).padStart(w, "0");
}

/** Microseconds since the epoch as local "HH:MM:SS.mmm"; "" for 0/unknown. */
export function formatTime(us) {
	if (!us)
		return "";
	const d = new Date(Number(us) / 1000);
	return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." +
		pad(d.getMilliseconds(), 3);
}

/** Microseconds since the epoch as "YYYY-MM-DD HH:MM:SS.mmm" (local). */
export function formatDateTime(us) {
	if (!us)
		return "";
	const d = new Date(Number(us) / 1000);
	return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
		formatTime(us);
}

/** CSS class for a status code: s1xx..s5xx, "s-none" when there is none, "s-err" on error. */
export function statusClass(status, error) {
	const s = Number(status);
	if (error && !s)
		return "s-err";
	if (!Number.isInteger(s) || s < 100 || s > 599)
		return "s-none";
	return "s" + Math.floor(s / 100) + "xx";
}

/** A short form of a content type: "application/json; charset=utf-8" -> "json". */
export function shortType(ct) {
	if (!ct)
		return "";
	let t = String(ct).split(";")[0].trim().toLowerCase();
	const slash = t.indexOf("/");
	if (slash >= 0)
		t = t.slice(slash + 1);
	if (t.startsWith("x-"))
		t = t.slice(2);
	const plus = t.lastIndexOf("+");
	if (plus >= 0)
		t = t.slice(plus + 1);
	return t;
}

/**
 * The first header named name (case-insensitive) in [[name, value], ...], or null.
 * @param {Array<[string,string]>} headers
 */
export function headerValue(headers, name) {
	if (!Array.isArray(headers))
		return null;
	const n = name.toLowerCase();
	for (const h of headers)
		if (Array.isArray(h) && String(h[0]).toLowerCase() === n)
			return String(h[1] ?? "");
	return null;
}

/** Absolute URL of a flow (summary or detail). Tunnels give "host:port". */
export function flowUrl(f) {
	if (!f)
		return "";
	if (f.kind === "tunnel")
		return (f.host || "") + ":" + (f.port || "");
	const scheme = f.scheme || "http";
	const def = scheme === "https" ? 443 : 80;
	let host = f.host || "";
	if (host.includes(":") && !host.startsWith("["))
		host = "[" + host + "]";
	const port = f.port && Number(f.port) !== def ? ":" + f.port : "";
	let path = f.path ?? "/";
	if (!path.startsWith("/") && path !== "*")
		path = "/" + path;
	return scheme + "://" + host + port + path;
}
