#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# t_intercept_encoded.sh - editing a paused flow whose body is compressed, as mitmweb does: the
# new body is the decoded text, and what goes on the wire is that text encoded again with the
# message's Content-Encoding and a Content-Length that matches; an edit whose headers drop the
# coding (the page's paused-flow form) sends the text as given, without the header. Checked
# for a paused response (what curl receives) and a paused request (what the origin receives,
# echoed back), and the stored flow against what was sent. A coding that cannot be applied
# again refuses the edit with its name, and the flow stays paused as it was.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3 # Debian's, with python3-brotli (scripts/deps.sh installs it)
if ! $PY -c 'import brotli' 2>/dev/null; then
	skip "python3-brotli is not installed"
	done_testing
fi
fs_start_origin || done_testing
fs_start_flowscope || done_testing
EO_PORT=$(fs_free_port)
fs_spawn encoded-origin $PY "$FS_DATA/encoded_origin.py" --port "$EO_PORT"
fs_wait_port "$EO_PORT" 10 "$FS_SPAWNED_PID" || { ok "the origin starts" false; done_testing; }
EO="http://127.0.0.1:$EO_PORT"
O="http://127.0.0.1:$ORIGIN_PORT"

# decodes stdin as Content-Encoding $1 with Python's own libraries (not flowscope's)
py_decode() { $PY -c 'import sys, gzip, brotli
d = sys.stdin.buffer.read()
for c in reversed([c.strip() for c in sys.argv[1].split(",")]):
    d = {"gzip": gzip.decompress, "br": brotli.decompress}[c](d)
sys.stdout.buffer.write(d)' "$1"; }
put() { fs_api_code "/api/flows/$1" -X PUT -H 'Content-Type: application/json' -d "$2"; }
# header ID SIDE NAME: the stored flow's header values NAME (lower case), joined with |
header() { fs_api "/api/flows/$1" | jq -r --arg n "$3" \
	"[.$2.headers[] | select(.[0] | ascii_downcase == \$n) | .[1]] | join(\"|\")"; }
raw_len() { fs_api "/api/flows/$1/$2/body" | wc -c; }
# wire_header NAME: the value of header NAME in what curl received ($T/head), lower-case name
wire_header() { tr -d '\r' <"$T/head" | grep -i "^$1:" | cut -d' ' -f2-; }

# hold URL [curl args]: curl for URL in the background (head in $T/head, body in $T/body, its
# PID in CURL); then ID is the paused flow of URL's path.
hold() {
	local url="$1" rest end=$((SECONDS + 10))
	shift
	rm -f "$T/head" "$T/body"
	fs_curl -s -D "$T/head" -o "$T/body" "$@" "$url" &
	CURL=$!
	rest="${url#*://}"
	ID=""
	while [ -z "$ID" ] && [ "$SECONDS" -lt "$end" ]; do
		ID=$(fs_sql "select id from flows where state='paused' and path='/${rest#*/}'")
		[ -n "$ID" ] || sleep 0.1
	done
}
# resume_done: resumes ID, waits for curl and for the flow to be stored as done
resume_done() {
	is "$1: resumed" "$(fs_api_code "/api/flows/$ID/resume" -X POST)" 200
	wait "$CURL"
	ok "$1: the flow is done" fs_wait_sql "select state from flows where id=$ID" done
}

is "rules: intercept the encoded responses" "$(fs_rules '{"intercept":"~s & ~u /(gzip|br|x-custom)$"}')" 200

# --- a gzip response, the body alone edited (an API client's edit) ---------------------------
hold "$EO/gzip"
ok "gzip response paused" [ -n "$ID" ]
is "gzip: edit the body" "$(put "$ID" '{"response": {"body": "edited while paused\nline two"}}')" 200
resume_done gzip
is "gzip: the client gets the edit, gzip-encoded" "$(py_decode gzip <"$T/body")" \
	$'edited while paused\nline two'
is "... with Content-Encoding gzip" "$(wire_header content-encoding)" gzip
is "... and a Content-Length that matches the bytes" "$(wire_header content-length)" \
	"$(wc -c <"$T/body")"
is "gzip: the stored body is what was sent" "$(fs_api "/api/flows/$ID/response/body" | fs_sha /dev/stdin)" \
	"$(fs_sha "$T/body")"
is "... and decodes to the edit" "$(fs_api "/api/flows/$ID/response/body?decode=1")" \
	$'edited while paused\nline two'
is "... its Content-Length is the stored length" "$(header "$ID" response content-length)" \
	"$(raw_len "$ID" response)"

# --- br, edited with headers that keep the coding and carry a stale length ---------------------
hold "$EO/br"
ok "br response paused" [ -n "$ID" ]
is "br: edit headers and body" "$(put "$ID" '{"response": {"status": 200, "headers": [
	["Content-Type", "text/plain"], ["Content-Encoding", "br"], ["Content-Length", "3"],
	["X-Edited", "yes"]], "body": "edited brotli text"}}')" 200
resume_done br
is "br: the client gets the edit, br-encoded" "$(py_decode br <"$T/body")" "edited brotli text"
is "... with Content-Encoding br" "$(wire_header content-encoding)" br
is "... and a Content-Length that matches the bytes" "$(wire_header content-length)" \
	"$(wc -c <"$T/body")"
is "... and the edited header" "$(wire_header x-edited)" yes
is "br: the stored body is what was sent" "$(fs_api "/api/flows/$ID/response/body" | fs_sha /dev/stdin)" \
	"$(fs_sha "$T/body")"

# --- the page's edit: headers without Content-Encoding/-Length, the decoded text ---------------
hold "$EO/gzip"
ok "gzip response paused again" [ -n "$ID" ]
is "page-shaped edit: the coding dropped" "$(put "$ID" '{"response": {"status": 200,
	"headers": [["Content-Type", "text/plain"]], "body": "plain now"}}')" 200
resume_done "page edit"
is "page edit: the client gets the text as typed" "$(cat "$T/body")" "plain now"
is "... without Content-Encoding" "$(wire_header content-encoding)" ""
is "... with its length" "$(wire_header content-length)" 9
is "page edit: the stored flow has no Content-Encoding" "$(header "$ID" response content-encoding)" ""

# --- a coding that cannot be applied again: refused, the flow stays paused as it was -----------
hold "$EO/x-custom"
ok "x-custom response paused" [ -n "$ID" ]
is "x-custom: the edit is refused (400)" "$(put "$ID" '{"response": {"body": "edited"}}')" 400
like "... naming the coding" "$(fs_api "/api/flows/$ID" -X PUT -H 'Content-Type: application/json' \
	-d '{"response": {"body": "edited"}}' | jq -r .error)" 'x-custom.*remove or change'
is "... still paused" "$(fs_sql "select state from flows where id=$ID")" paused
resume_done x-custom
is "x-custom: the client gets the captured body" "$(cat "$T/body")" "captured text for x-custom"

# --- a paused gzip request: the edit goes upstream gzip-encoded -------------------------------
is "rules: intercept requests to /echo" "$(fs_rules '{"intercept":"~q & ~u /echo"}')" 200
printf 'captured request body' | gzip >"$T/req.gz"
hold "$O/echo" -H 'Content-Encoding: gzip' --data-binary "@$T/req.gz"
ok "gzip request paused" [ -n "$ID" ]
is "request: resumed with an edited body" "$(fs_api_code "/api/flows/$ID/resume" -X POST \
	-d '{"request": {"body": "edited request body"}}')" 200
wait "$CURL"
ok "request: the flow is done" fs_wait_sql "select state from flows where id=$ID" done
is "request: the origin got the edit, gzip-encoded (echoed)" "$(py_decode gzip <"$T/body")" \
	"edited request body"
is "request: the stored body is what was sent" \
	"$(fs_api "/api/flows/$ID/request/body" | fs_sha /dev/stdin)" "$(fs_sha "$T/body")"
is "... Content-Encoding kept" "$(header "$ID" request content-encoding)" gzip
is "... its Content-Length is the stored length" "$(header "$ID" request content-length)" \
	"$(raw_len "$ID" request)"

fs_stop_flowscope
done_testing
