// SPDX-License-Identifier: MIT
// exporters.js - pure, no DOM: a flow as the text people paste - a curl, HTTPie, fetch() or
// Python requests command that repeats the request, the raw request/response - and what the
// "HAR of this flow" export needs (its filter and the pick of its entry).
//
// Intercepted traffic is hostile: every exporter takes any bytes in the method, URL, headers and
// body, and its output never lets them out of the literal they belong in (a shell word, a JS or
// Python string, a raw header line). What a tool cannot send as captured is left out and said in
// a note (a comment line where the format has comments; notes[] for the page to show either way).

/**
 * A request as the exporters take it (actions.js builds it from the flow detail and the stored
 * body).
 * @typedef {object} ExportRequest
 * @property {string} method
 * @property {string} url        absolute URL (format.js flowUrl)
 * @property {string} [path]     the origin-form target, for the raw request ("/p?q")
 * @property {string} [version]  "HTTP/1.1" | "HTTP/1.0"
 * @property {Array<[string,string]>} headers  as captured, in order
 * @property {Uint8Array|null} [body]  the stored (still Content-Encoded) body bytes
 * @property {boolean} [truncated]  the stored body is only the start of the real one
 * @property {boolean} [latin1]  strings are bytes widened to U+0000..U+00FF (web/webjson.c's
 *   mark for text that is not UTF-8): they go out as those bytes
 * @property {boolean} [urlLatin1]  the same for the URL and path alone (default: latin1). The
 *   server marks whole objects, so the page can be surer of the URL (marked in the summary and
 *   in the request) than of the rest.
 */
/**
 * @typedef {object} ExportResponse
 * @property {number} status
 * @property {string} [reason]
 * @property {string} [version]
 * @property {Array<[string,string]>} headers
 * @property {Uint8Array|null} [body]
 * @property {boolean} [truncated]
 * @property {boolean} [latin1]
 */
/** @typedef {{text: string, notes: string[]}} Exported */

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** The menu: id, label, and whether it needs a request or a response. */
export const FORMATS = [
	{ id: "curl", label: "curl" },
	{ id: "httpie", label: "HTTPie" },
	{ id: "fetch", label: "fetch()" },
	{ id: "python", label: "Python requests" },
	{ id: "raw-request", label: "Raw request" },
	{ id: "raw-response", label: "Raw response", needsResponse: true },
	{ id: "raw", label: "Raw request and response", needsResponse: true },
];

// ---- bytes ------------------------------------------------------------------------------

/** A string whose code points are bytes (the server's latin-1 widening) back to bytes. */
export function latin1Bytes(s) {
	const b = new Uint8Array(s.length);
	for (let i = 0; i < s.length; i++)
		b[i] = s.charCodeAt(i) & 0xff;
	return b;
}

/**
 * The bytes a string from the API stands for. The server marks a whole object latin1 when any
 * of its strings was widened; a string with a code point over U+00FF cannot have been, so it
 * stays UTF-8.
 */
export function bytesOf(s, latin1 = false) {
	s = String(s ?? "");
	return latin1 && !/[^\u0000-\u00ff]/.test(s) ? latin1Bytes(s) : utf8.encode(s);
}

function isPlain(b) {
	return b >= 0x20 && b <= 0x7e;
}

/** Printable ASCII, newline and tab only: safe inside single quotes, as typed. */
function isTextLike(bytes) {
	return bytes.every((b) => isPlain(b) || b === 0x0a || b === 0x09);
}

/** UTF-8 text without control bytes other than tab, LF and CR (a raw body shown as is). */
function utf8Text(bytes) {
	if (bytes.some((b) => (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f))
		return null;
	try {
		return utf8Strict.decode(bytes);
	} catch {
		return null;
	}
}

function concat(parts) {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let off = 0;
	for (const p of parts) {
		out.set(p, off);
		off += p.length;
	}
	return out;
}

/** Bytes (a Uint8Array) as base64. */
export function bytesToBase64(bytes) {
	let s = "";
	for (let i = 0; i < bytes.length; i += 0x8000)
		s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
	return btoa(s);
}

// RFC 9110 token: what a header name (and a method) may be made of.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Bytes of a URL with every byte outside printable ASCII (and space) as %XX, and a "#" (the
 * libraries would cut the URL there: a fragment is never sent).
 */
function urlForLibraries(url, latin1) {
	let out = "";
	for (const b of bytesOf(url, latin1))
		out += b > 0x20 && b < 0x7f && b !== 0x23 ? String.fromCharCode(b)
			: "%" + b.toString(16).toUpperCase().padStart(2, "0");
	return out;
}

/** Whether the URL's strings are widened bytes (ExportRequest.urlLatin1). */
function urlLatin1(req) {
	return req.urlLatin1 ?? !!req.latin1;
}

function headerPairs(req) {
	return (req.headers || []).map(([n, v]) => [String(n ?? ""), String(v ?? "")]);
}

function hasHeader(headers, name) {
	return headers.some(([n]) => n.toLowerCase() === name);
}

// ---- shell ------------------------------------------------------------------------------

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

/** Text-like bytes (isTextLike) in single quotes, newlines and tabs as they are. */
function singleQuoted(bytes) {
	let q = "'";
	for (const b of bytes)
		q += b === 0x27 ? "'\\''" : String.fromCharCode(b);
	return q + "'";
}

/**
 * A body for a command that reads it from an argument (textLike, short) or from stdin:
 * {arg} to put after the option, or {pipe} to put before the command.
 */
function shellBody(body) {
	if (isTextLike(body) && body.length < 65536)
		return { arg: singleQuoted(body) };
	return { pipe: "printf '" + printfEscape(body) + "' | " };
}

function withNotes(notes, text, comment = "#") {
	return notes.length ? notes.map((n) => comment + " note: " + n).join("\n") + "\n" + text
		: text;
}

// ---- curl -------------------------------------------------------------------------------

// Headers curl computes itself from what it sends.
const CURL_SKIP = new Set(["content-length"]);
// Content codings curl --compressed can undo (when built with them; gzip and deflate always).
const CURL_CODINGS = /(^|,)\s*(gzip|x-gzip|deflate|br|zstd)\s*(;|,|$)/i;

/**
 * A curl command line that repeats a request. req: {method, url, headers: [[n, v]...]};
 * body: Uint8Array or null (the stored, still-encoded bytes); truncated: the stored body is
 * only the start of the real one (said in a comment); latin1: the strings are bytes widened
 * to code points (web/webjson.c does that for text that is not UTF-8) and go out as bytes.
 * Options curl would otherwise interpret are neutralised: --url for the URL, -g (no globbing),
 * --path-as-is, --data-raw or --data-binary @- (never a bare '@file'), and headers whose name
 * starts with '@' (which curl reads as a file name) or that hold a NUL are left out.
 * --compressed when the request asked for a compression curl can undo (Accept-Encoding), so
 * the answer prints as text; the captured Accept-Encoding still goes out as it was (curl
 * sends ours, not its own).
 */
export function curlCommand(req, body, truncated = false, latin1 = false) {
	return exportCurl({ ...req, body, truncated, latin1 }).text;
}

/** @param {ExportRequest} req @returns {Exported} */
export function exportCurl(req) {
	const q = (str) => shellQuote(bytesOf(str, req.latin1));
	const parts = ["curl", "--http1.1", "--path-as-is", "-g"];
	const method = req.method || "GET";
	const body = req.body;
	if (method !== "GET" || (body && body.length))
		parts.push("-X", q(method));
	parts.push("--url", shellQuote(bytesOf(req.url || "", urlLatin1(req))));
	const skipped = [];
	let compressed = false;
	for (const [n, v] of headerPairs(req)) {
		if (CURL_SKIP.has(n.toLowerCase()))
			continue;
		// a NUL cannot be in an argument: the header would arrive cut
		if (n.startsWith("@") || n === "" || /\0/.test(n + v)) {
			skipped.push(n);
			continue;
		}
		if (n.toLowerCase() === "accept-encoding" && CURL_CODINGS.test(v))
			compressed = true;
		// "Name;" is curl's way to send a header with an empty value.
		parts.push("-H", q(v === "" ? n + ";" : n + ": " + v));
	}
	if (compressed)
		parts.push("--compressed");
	let cmd;
	if (body && body.length) {
		const b = shellBody(body);
		if (b.arg) {
			parts.push("--data-raw", b.arg);
			cmd = parts.join(" ");
		} else {
			parts.push("--data-binary", "@-");
			cmd = b.pipe + parts.join(" ");
		}
	} else {
		cmd = parts.join(" ");
	}
	const notes = [];
	if (req.truncated)
		notes.push("the stored body was truncated; this sends only its start");
	if (skipped.length)
		notes.push("left out " + skipped.length + " header(s) curl cannot send");
	return { text: withNotes(notes, cmd), notes };
}

// ---- HTTPie -----------------------------------------------------------------------------

// Headers HTTPie adds by itself; each one the request did not have is unset ("Name:"), so
// what reaches the origin is what was captured (plus Host and the framing).
const HTTPIE_DEFAULTS = ["User-Agent", "Accept", "Accept-Encoding", "Connection"];
const HTTPIE_SKIP = new Set(["content-length"]);

/**
 * An HTTPie command (`http`, 3.x). Request items are HTTPie's own little language: in
 * "Name:value" a value starting with "=" or "@" would make a JSON field or read a file
 * (":=", ":@"), so that first character is backslash-escaped; an empty value is "Name;".
 * What HTTPie cannot send is left out, with a note: a header whose name is not a token, whose
 * value is not UTF-8 (HTTPie encodes values as UTF-8), has a NUL, CR or LF, space at either
 * end (stripped), or a backslash before one of : ; = @ (its escape character). The body goes
 * as --raw '...' (text) or on stdin (anything else); --ignore-stdin otherwise. HTTPie's own
 * default headers the request did not have are unset ("Name:"). The method must
 * be letters only (anything else HTTPie takes for the URL) and is sent upper-case.
 * @param {ExportRequest} req @returns {Exported}
 */
export function exportHttpie(req) {
	const method = req.method || "GET";
	if (!/^[A-Za-z]+$/.test(method))
		throw new Error("HTTPie cannot send the method " + JSON.stringify(method) +
			" (only letters)");
	const notes = [];
	if (method !== method.toUpperCase())
		notes.push("HTTPie sends the method upper-case: " + method.toUpperCase());
	const body = req.body && req.body.length ? req.body : null;
	const b = body ? shellBody(body) : {};
	const pipe = b.pipe || "";
	// Without a body on stdin, HTTPie must not wait for one.
	const parts = ["http", ...(pipe ? [] : ["--ignore-stdin"]), "--path-as-is"];
	if (b.arg)
		parts.push("--raw", b.arg);
	// "--": a header item starting with "-" is not an option.
	// The URL %-encoded beyond ASCII: HTTPie (Python) reads argv as UTF-8.
	parts.push("--", method.toUpperCase(), shellQuote(urlForLibraries(req.url || "",
		urlLatin1(req))));
	const left = [];
	const hs = headerPairs(req);
	for (const [n, v] of hs) {
		if (HTTPIE_SKIP.has(n.toLowerCase()))
			continue;
		const vb = bytesOf(v, req.latin1);
		let value = null;
		try {
			value = utf8Strict.decode(vb);
		} catch {
			value = null;
		}
		if (!TOKEN.test(n) || value === null || /[\0\r\n]/.test(value) ||
			/^[\s\x1c-\x1f\x85]|[\s\x1c-\x1f\x85]$/.test(value) || /\\[:;=@]/.test(value)) {
			left.push(n);
			continue;
		}
		if (value === "")
			parts.push(shellQuote(n + ";"));
		else
			parts.push(shellQuote(n + ":" + (/^[=@]/.test(value) ? "\\" : "") + value));
	}
	// With a body HTTPie would also add a JSON Content-Type.
	for (const d of body ? [...HTTPIE_DEFAULTS, "Content-Type"] : HTTPIE_DEFAULTS)
		if (!hasHeader(hs, d.toLowerCase()))
			parts.push(shellQuote(d + ":"));
	if (req.truncated)
		notes.push("the stored body was truncated; this sends only its start");
	if (left.length)
		notes.push("left out " + left.length + " header(s) HTTPie cannot send as they were: " +
			left.map((n) => JSON.stringify(n)).join(", ").replace(/[^\x20-\x7e]/g, "?"));
	return { text: withNotes(notes, pipe + parts.join(" ")), notes };
}

// ---- fetch() ----------------------------------------------------------------------------

// What a page's fetch() may not set (the Fetch standard's forbidden request-headers): the
// browser sends its own. Cookie goes as credentials: "include" (the browser's cookies),
// Referer as the referrer option (honoured only for a same-origin URL).
const FORBIDDEN = new Set(["accept-charset", "accept-encoding", "access-control-request-headers",
	"access-control-request-method", "connection", "content-length", "cookie", "cookie2",
	"date", "dnt", "expect", "host", "keep-alive", "origin", "referer", "set-cookie", "te",
	"trailer", "transfer-encoding", "upgrade", "via"]);
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/**
 * A JavaScript string literal in ASCII only: printable ASCII as is (but " and \), everything
 * else as \xHH or \uXXXX, so no control byte, line break or bidi override reaches the paste.
 */
export function jsString(s) {
	return quoteAscii(s, "\"", (c) => "\\u{" + c.toString(16) + "}");
}

/**
 * s between quote marks, in printable ASCII: the quote and \ escaped with \, other printable
 * ASCII as is, the rest as \xHH or \uXXXX, and code points past 0xFFFF as astral(c) says
 * (JavaScript and Python spell those differently).
 */
function quoteAscii(s, quote, astral) {
	let out = quote;
	for (const ch of String(s)) {
		const c = ch.codePointAt(0);
		if (ch === quote || ch === "\\")
			out += "\\" + ch;
		else if (c >= 0x20 && c < 0x7f)
			out += ch;
		else if (c <= 0xff)
			out += "\\x" + c.toString(16).padStart(2, "0");
		else if (c <= 0xffff)
			out += "\\u" + c.toString(16).padStart(4, "0");
		else
			out += astral(c);
	}
	return out + quote;
}

/** Bytes as a JS "ByteString" (one char per byte: what fetch() sends for a header value). */
function byteString(bytes) {
	let s = "";
	for (const b of bytes)
		s += String.fromCharCode(b);
	return s;
}

/**
 * A fetch() call, to paste into a browser's console (or node 18+). Headers a page may not set
 * (Host, Content-Length, Cookie, Accept-Encoding, Connection, Origin, Referer, Sec-*, Proxy-*,
 * ...: FORBIDDEN above) are left out and listed in a comment: the browser sends its own;
 * Cookie becomes credentials: "include", Referer the referrer option. A header value is a
 * byte string (each byte one \xHH char, as fetch sends it); a value with NUL, CR or LF, or
 * space at either end (fetch() strips it), or a name that is not a token, is left out too.
 * A repeated header goes out once, its values joined with ", " (Headers does that).
 * The URL goes through the URL parser: bytes outside printable ASCII are %-encoded first.
 * A text body is a string literal, anything else base64 decoded into a Uint8Array; a
 * GET/HEAD body is left out (fetch() refuses it).
 * @param {ExportRequest} req @returns {Exported}
 */
export function exportFetch(req) {
	const method = req.method || "GET";
	const upper = method.toUpperCase();
	if (FORBIDDEN_METHODS.has(upper))
		throw new Error("fetch() cannot send the method " + upper);
	if (!TOKEN.test(method))
		throw new Error("fetch() cannot send the method " + JSON.stringify(method));
	const notes = [];
	const forbidden = [], bad = [];
	const headers = [];
	let cookie = false, referrer = null, repeated = 0;
	for (const [n, v] of headerPairs(req)) {
		const ln = n.toLowerCase();
		if (FORBIDDEN.has(ln) || ln.startsWith("sec-") || ln.startsWith("proxy-") ||
			(/^x-(http-)?method(-override)?$/.test(ln) &&
				v.split(",").some((m) => FORBIDDEN_METHODS.has(m.trim().toUpperCase())))) {
			if (ln === "cookie")
				cookie = true;
			else if (ln === "referer")
				referrer = v;
			if (ln !== "content-length")
				forbidden.push(n);
			continue;
		}
		const value = byteString(bytesOf(v, req.latin1));
		if (!TOKEN.test(n) || /[\0\r\n]/.test(value) || /^[ \t]|[ \t]$/.test(value)) {
			bad.push(n);
			continue;
		}
		if (headers.some(([h]) => h.toLowerCase() === ln))
			repeated++;
		headers.push([n, value]);
	}
	const opts = ["  method: " + jsString(method) + ","];
	if (headers.length)
		opts.push("  headers: [\n" + headers.map(([n, v]) => "    [" + jsString(n) + ", " +
			jsString(v) + "],").join("\n") + "\n  ],");
	const body = req.body && req.body.length ? req.body : null;
	if (body && (upper === "GET" || upper === "HEAD")) {
		notes.push("left out the body: fetch() sends none with " + upper);
	} else if (body) {
		const text = utf8Text(body);
		// A string body without a Content-Type would get text/plain;charset=UTF-8 added.
		if (text !== null && hasHeader(req.headers || [], "content-type"))
			opts.push("  body: " + jsString(text) + ",");
		else
			opts.push("  body: Uint8Array.from(atob(" + jsString(bytesToBase64(body)) +
				"), (c) => c.charCodeAt(0)),");
	}
	if (cookie)
		opts.push("  credentials: \"include\",");
	if (referrer !== null && /^https?:\/\/[\x21-\x7e]*$/.test(referrer))
		opts.push("  referrer: " + jsString(referrer) + ",");
	if (forbidden.length)
		notes.push("the browser sets these itself, a page cannot: " +
			forbidden.join(", ").replace(/[^\x20-\x7e]/g, "?"));
	if (bad.length)
		notes.push("left out " + bad.length + " header(s) fetch() cannot send as they were");
	if (repeated)
		notes.push("fetch() joins " + repeated + " repeated header(s) to the first of that name " +
			"with \", \"");
	if (req.truncated)
		notes.push("the stored body was truncated; this sends only its start");
	const text = "fetch(" + jsString(urlForLibraries(req.url || "", urlLatin1(req))) + ", {\n" +
		opts.join("\n") + "\n});";
	return { text: withNotes(notes, text, "//"), notes };
}

// ---- Python requests --------------------------------------------------------------------

/** A Python bytes literal in ASCII: printable ASCII as is (but ' and \), the rest \xHH. */
export function pyBytes(bytes) {
	let out = "b'";
	for (const b of bytes)
		out += b === 0x27 || b === 0x5c ? "\\" + String.fromCharCode(b)
			: isPlain(b) ? String.fromCharCode(b) : "\\x" + b.toString(16).padStart(2, "0");
	return out + "'";
}

/** A Python str literal in ASCII: \xHH, \uXXXX, \UXXXXXXXX for anything not printable. */
export function pyString(s) {
	return quoteAscii(s, "'", (c) => "\\U" + c.toString(16).padStart(8, "0"));
}

// Framing requests computes from the data it sends.
const PY_SKIP = new Set(["content-length", "transfer-encoding"]);

/**
 * A Python script with requests. Header values are bytes literals (requests sends bytes as
 * they are; a str would go out as latin-1), names str; the session's default headers are
 * cleared so only the captured ones go (http.client still adds Host, and Accept-Encoding:
 * identity when there was none). Headers requests refuses (a name that is not a token, a value
 * with CR or LF or starting with a space) are left out, with a note; so is a second header of
 * the same name, folded into the first with ", " (a dict has one value a name; "; " for
 * Cookie). requests upper-cases the method and normalises the URL (%-encodes what RFC 3986
 * does not allow): bytes outside printable ASCII are %-encoded here already.
 * @param {ExportRequest} req @returns {Exported}
 */
export function exportPython(req) {
	const notes = [];
	const method = req.method || "GET";
	if (method !== method.toUpperCase())
		notes.push("requests sends the method upper-case: " + method.toUpperCase());
	const merged = new Map(); // lower-case name -> [name, bytes]
	const bad = [];
	let folded = 0;
	for (const [n, v] of headerPairs(req)) {
		const ln = n.toLowerCase();
		if (PY_SKIP.has(ln))
			continue;
		const vb = bytesOf(v, req.latin1);
		if (!TOKEN.test(n) || vb.some((b) => b === 0x0d || b === 0x0a) ||
			(vb.length && (vb[0] === 0x20 || vb[0] === 0x09 || vb[0] === 0x0b || vb[0] === 0x0c))) {
			bad.push(n);
			continue;
		}
		const prev = merged.get(ln);
		if (prev) {
			prev[1] = concat([prev[1], utf8.encode(ln === "cookie" ? "; " : ", "), vb]);
			folded++;
		} else {
			merged.set(ln, [n, vb]);
		}
	}
	const lines = ["import requests", "", "url = " + pyString(urlForLibraries(req.url || "",
		urlLatin1(req)))];
	lines.push("headers = {");
	for (const [n, vb] of merged.values())
		lines.push("    " + pyString(n) + ": " + pyBytes(vb) + ",");
	lines.push("}");
	const body = req.body && req.body.length ? req.body : null;
	if (body)
		lines.push("data = " + pyBytes(body));
	lines.push("", "with requests.Session() as s:",
		"    s.headers.clear()  # only the headers above: no default User-Agent, Accept...",
		"    r = s.request(" + pyString(method) + ", url, headers=headers" +
			(body ? ", data=data" : "") + ", allow_redirects=False)",
		"print(r.status_code, r.reason)", "print(r.text)");
	if (folded)
		notes.push("folded " + folded + " repeated header(s) into one (a dict holds one value a name)");
	if (bad.length)
		notes.push("left out " + bad.length + " header(s) requests cannot send as they were");
	if (req.truncated)
		notes.push("the stored body was truncated; this sends only its start");
	return { text: withNotes(notes, lines.join("\n")), notes };
}

// ---- raw --------------------------------------------------------------------------------

/**
 * Bytes of a start line or header as text: printable ASCII, tab and valid UTF-8 as they are;
 * any other byte (CR, LF, NUL, ESC, DEL, a byte that is not UTF-8) as \xHH, so a value can never
 * start a line of its own or send a terminal escape.
 */
function headText(bytes) {
	let out = "";
	let i = 0;
	while (i < bytes.length) {
		const b = bytes[i];
		if (isPlain(b) || b === 0x09) {
			out += String.fromCharCode(b);
			i++;
			continue;
		}
		const n = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xc2 && b <= 0xdf
			? 2 : 0;
		if (n && i + n <= bytes.length) {
			try {
				const ch = utf8Strict.decode(bytes.subarray(i, i + n));
				// no C1 controls, bidi overrides or other format characters
				if (!/[\u0080-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/.test(ch)) {
					out += ch;
					i += n;
					continue;
				}
			} catch {
				/* not UTF-8: escaped below */
			}
		}
		out += "\\x" + b.toString(16).padStart(2, "0");
		i++;
	}
	return out;
}

/**
 * One message as raw HTTP/1.1 text: start line, headers (CRLF), blank line, body. The body is
 * framed as its headers say: chunked (the store keeps it de-chunked) goes out as one chunk;
 * a Content-Length that is not the length of the body there (a truncated body) is corrected.
 * A body that is not UTF-8 text (binary, compressed) is replaced by a line saying so: the
 * text is for the clipboard, which holds text, not bytes (curl, HTTPie, Python and HAR carry
 * any bytes).
 */
function rawMessage(start, msg, notes, what) {
	const latin1 = !!msg.latin1;
	// start: its parts, each a string or [string, latin1]
	start = start.map((p) => Array.isArray(p) ? headText(bytesOf(p[0], p[1]))
		: headText(bytesOf(p, latin1))).join(" ");
	const body = msg.body && msg.body.length ? msg.body : null;
	const hs = headerPairs(msg);
	const chunked = hs.some(([n, v]) => n.toLowerCase() === "transfer-encoding" &&
		/chunked/i.test(v));
	let out = start + "\r\n";
	for (const [n, v] of hs) {
		let value = v;
		if (body && !chunked && n.toLowerCase() === "content-length" &&
			v.trim() !== String(body.length)) {
			value = String(body.length);
			notes.push((msg.truncated ? "the stored " + what + " body was truncated: " : "") +
				"Content-Length " + v + " is now " + value + ", the length of the " + what +
				" body here");
		}
		out += headText(bytesOf(n, latin1)) + ": " + headText(bytesOf(value, latin1)) + "\r\n";
	}
	out += "\r\n";
	if (!body)
		return out;
	const text = utf8Text(body);
	if (text === null) {
		notes.push("the " + what + " body is not text (" + body.length + " bytes): not shown");
		return out + "[" + body.length + " bytes of binary body, not shown]";
	}
	if (msg.truncated && chunked)
		notes.push("the stored " + what + " body was truncated: this is only its start");
	if (chunked)
		return out + body.length.toString(16) + "\r\n" + text + "\r\n0\r\n\r\n";
	return out + text;
}

/** The request as raw HTTP/1.1 (origin-form target, as sent to the origin). */
function rawRequestText(req, notes) {
	let path = req.path;
	if (path === undefined) {
		const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([\s\S]*)$/i.exec(req.url || "");
		path = m ? m[1] : req.url || "/";
	}
	if (path === "")
		path = "/";
	const hs = headerPairs(req);
	const msg = { ...req, headers: hs };
	if (!hasHeader(hs, "host")) {
		const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(req.url || "");
		if (m)
			msg.headers = [["Host", m[1]], ...msg.headers];
	}
	// A request body needs a length (an edited or imported flow may not say it).
	if (req.body && req.body.length && !hasHeader(hs, "content-length") &&
		!hasHeader(hs, "transfer-encoding")) {
		msg.headers = [...msg.headers, ["Content-Length", String(req.body.length)]];
		notes.push("added Content-Length: " + req.body.length + " (the request had a body " +
			"but did not say its length)");
	}
	return rawMessage([req.method || "GET", [path, urlLatin1(req)], req.version || "HTTP/1.1"],
		msg, notes, "request");
}

function rawResponseText(resp, notes) {
	return rawMessage([resp.version || "HTTP/1.1", String(resp.status),
		...(resp.reason ? [resp.reason] : [])], resp, notes, "response");
}

/** @param {ExportRequest} req @returns {Exported} */
export function exportRawRequest(req) {
	const notes = [];
	return { text: rawRequestText(req, notes), notes };
}

/** @param {ExportResponse} resp @returns {Exported} */
export function exportRawResponse(resp) {
	if (!resp)
		throw new Error("the flow has no response");
	const notes = [];
	return { text: rawResponseText(resp, notes), notes };
}

/** Request and response, a blank line between (as mitmproxy's "raw"). */
export function exportRaw(req, resp) {
	const notes = [];
	let text = rawRequestText(req, notes);
	if (resp)
		text += "\r\n\r\n" + rawResponseText(resp, notes);
	return { text, notes };
}

/**
 * One format by its FORMATS id.
 * @param {string} id @param {ExportRequest} req @param {ExportResponse|null} [resp]
 * @returns {Exported}
 */
export function exportAs(id, req, resp = null) {
	switch (id) {
	case "curl": return exportCurl(req);
	case "httpie": return exportHttpie(req);
	case "fetch": return exportFetch(req);
	case "python": return exportPython(req);
	case "raw-request": return exportRawRequest(req);
	case "raw-response": return exportRawResponse(resp);
	case "raw": return exportRaw(req, resp);
	default: throw new Error("no such export format: " + id);
	}
}

// ---- HAR of one flow --------------------------------------------------------------------

/** A regex (PCRE, bytes) that matches exactly these bytes: letters and digits, else \xHH. */
function regexBytes(bytes) {
	let out = "";
	for (const b of bytes)
		out += /[A-Za-z0-9]/.test(String.fromCharCode(b)) ? String.fromCharCode(b)
			: "\\x" + b.toString(16).padStart(2, "0");
	return out;
}

/**
 * A regex of the bytes string s stands for. With the latin1 mark (which the server sets for a
 * whole object, so one widened string makes all of them look widened) a character from
 * U+0080 to U+00FF may be that byte or its UTF-8: both are matched (the pick by start time
 * sorts out the rest).
 */
function regexOf(s, latin1) {
	if (!latin1)
		return regexBytes(utf8.encode(s));
	let out = "";
	for (const ch of s) {
		const c = ch.codePointAt(0);
		out += c >= 0x80 && c <= 0xff ? "(?:" + regexBytes([c]) + "|" +
			regexBytes(utf8.encode(ch)) + ")" : regexBytes(bytesOf(ch, latin1));
	}
	return out;
}

/** A filter-language string argument: "..." with \ and " escaped (db/filter.c read_arg). */
function filterArg(s) {
	return "\"" + s.replace(/[\\"]/g, "\\$&") + "\"";
}

/**
 * The URL the store matches ~u against (db/filter.c db_flow_url): no "/" added to the path,
 * the port left out when it is the scheme's or 0.
 */
function storeUrl(f) {
	const host = f.host || "";
	const h = host.includes(":") ? "[" + host + "]" : host;
	if (f.kind === "tunnel")
		return h + ":" + (f.port || 0);
	const scheme = f.scheme || "http";
	const dflt = (scheme === "http" && f.port === 80) || (scheme === "https" && f.port === 443) ||
		!f.port;
	return scheme + "://" + h + (dflt ? "" : ":" + f.port) + (f.path ?? "");
}

/**
 * A filter that matches the flow f (and rarely others: the filter language has no flow id):
 * its exact URL, method and client address, each an anchored regex of its bytes.
 */
export function harFilterFor(f) {
	const latin1 = !!f.latin1;
	const parts = ["~u " + filterArg("^" + regexOf(storeUrl(f), latin1) + "$")];
	if (f.kind !== "tunnel" && f.method)
		parts.push("~m " + filterArg("^" + regexOf(f.method, latin1) + "$"));
	if (f.client_addr)
		parts.push("~src " + filterArg("^" + regexOf(f.client_addr, latin1) + "$"));
	return parts.join(" & ");
}

/**
 * The HAR document of flow f out of the server's HAR of harFilterFor(f): the entry whose
 * _flowscope.t start is f's (microseconds), or the only entry there is. Throws when none is
 * found.
 * @param {{log: {entries: object[]}}} har @param {object} f
 */
export function pickHarEntry(har, f) {
	const entries = (har && har.log && Array.isArray(har.log.entries)) ? har.log.entries : [];
	const start = f.timings && f.timings.start;
	let pick = start ? entries.filter((e) => e && e._flowscope && Array.isArray(e._flowscope.t) &&
		e._flowscope.t[0] === start) : [];
	if (!pick.length && entries.length === 1)
		pick = entries;
	if (!pick.length)
		throw new Error("the flow is not in the server's HAR (" + entries.length +
			" entries matched its URL)");
	return { log: { ...har.log, entries: pick.slice(0, 1) } };
}
