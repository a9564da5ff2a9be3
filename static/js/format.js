// SPDX-License-Identifier: MIT
// format.js - pure helpers, no DOM: sizes, durations, times, status classes, flow flags, and
// "copy as curl". Filters run on the server (in SQL), never here.

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

// ---- copy as curl -------------------------------------------------------------------------

const utf8 = new TextEncoder();

function isPlain(b) {
	return b >= 0x20 && b <= 0x7e;
}

/**
 * Quotes one argument for a POSIX shell (sh, dash, bash, zsh). Printable ASCII goes in single
 * quotes (a ' becomes '\''). Anything else - control bytes, DEL, non-ASCII, newlines - is never
 * put in the command raw: the argument becomes "$(printf '...')" with each such byte as an
 * octal escape, so pasting the command into a terminal cannot inject keystrokes or commands.
 * (A NUL cannot be passed in argv at all and a trailing newline is lost in $(...): neither is
 * valid in a method, URL or header.)
 * @param {string|Uint8Array} s
 */
export function shellQuote(s) {
	const bytes = typeof s === "string" ? utf8.encode(s) : s;
	if (bytes.every(isPlain)) {
		let out = "'";
		for (const b of bytes)
			out += b === 0x27 ? "'\\''" : String.fromCharCode(b);
		return out + "'";
	}
	return "\"$(printf '" + printfEscape(bytes) + "')\"";
}

/** Bytes as a printf(1) format string (to go inside single quotes) that prints exactly them. */
export function printfEscape(bytes) {
	let out = "";
	let first = true;
	for (const b of bytes) {
		// A leading '-' would be taken for an option by some printf implementations.
		const dash = first && b === 0x2d;
		first = false;
		if (b === 0x27 || b === 0x5c || !isPlain(b) || dash)
			out += "\\" + b.toString(8).padStart(3, "0");
		else if (b === 0x25)
			out += "%%";
		else
			out += String.fromCharCode(b);
	}
	return out;
}

/** A string whose code points are bytes (the server's latin-1 widening) back to bytes. */
export function latin1Bytes(s) {
	const b = new Uint8Array(s.length);
	for (let i = 0; i < s.length; i++)
		b[i] = s.charCodeAt(i) & 0xff;
	return b;
}

// Headers curl computes itself from what it sends.
const CURL_SKIP = new Set(["content-length"]);

/**
 * A curl command line that repeats a request. req: {method, url, headers: [[n, v]...]};
 * body: Uint8Array or null (the stored, still-encoded bytes); truncated: the stored body is
 * only the start of the real one (said in a comment); latin1: the strings are bytes widened
 * to code points (web/webjson.c does that for text that is not UTF-8) and go out as bytes. Options curl would otherwise interpret
 * are neutralised: --url for the URL, -g (no globbing), --path-as-is, --data-raw or
 * --data-binary @- (never a bare '@file'), and headers whose name starts with '@' (which curl
 * reads as a file name) are left out.
 */
export function curlCommand(req, body, truncated = false, latin1 = false) {
	// The server marks a whole object latin1 when any of its strings was widened; a string
	// with a code point over U+00FF cannot have been, so it stays UTF-8.
	const q = (str) => shellQuote(latin1 && !/[^\u0000-\u00ff]/.test(str) ? latin1Bytes(str)
		: str);
	const parts = ["curl", "--http1.1", "--path-as-is", "-g"];
	const method = req.method || "GET";
	if (method !== "GET" || (body && body.length))
		parts.push("-X", q(method));
	parts.push("--url", q(req.url || ""));
	const skipped = [];
	for (const [name, value] of req.headers || []) {
		const n = String(name);
		if (CURL_SKIP.has(n.toLowerCase()))
			continue;
		if (n.startsWith("@") || n === "") {
			skipped.push(n);
			continue;
		}
		const v = String(value ?? "");
		// "Name;" is curl's way to send a header with an empty value.
		parts.push("-H", q(v === "" ? n + ";" : n + ": " + v));
	}
	let cmd;
	if (body && body.length) {
		const textLike = body.every((b) => isPlain(b) || b === 0x0a || b === 0x09);
		if (textLike && body.length < 65536) {
			let q = "'";
			for (const b of body)
				q += b === 0x27 ? "'\\''" : String.fromCharCode(b);
			parts.push("--data-raw", q + "'");
			cmd = parts.join(" ");
		} else {
			parts.push("--data-binary", "@-");
			cmd = "printf '" + printfEscape(body) + "' | " + parts.join(" ");
		}
	} else {
		cmd = parts.join(" ");
	}
	const notes = [];
	if (truncated)
		notes.push("# note: the stored body was truncated; this sends only its start");
	if (skipped.length)
		notes.push("# note: left out " + skipped.length + " header(s) curl cannot send");
	return notes.length ? notes.join("\n") + "\n" + cmd : cmd;
}
