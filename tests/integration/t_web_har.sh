#!/bin/bash
# SPDX-License-Identifier: MIT
# t_web_har.sh - the question this test answers: do GET /api/har and POST /api/har (issue 6)
# work against the real binary? HTTP and HTTPS traffic through the proxy (a form POST, a binary
# response, a 404) exported over the API as a HAR that har-validator accepts, streamed chunked
# with a dated attachment name; filtered exports (~d, ~c); a bad filter (400 JSON); a client
# that hangs up mid-download; imports of Chrome's and Firefox's HAR shapes into a fresh
# flowscope (flows listed, marked imported); a round trip (export, import into an empty store,
# export again: the same entries); an import larger than the store's queue can take at once
# (fed in pieces, nothing lost); a broken file (400 naming the entry, nothing imported); an
# upload over the cap (413); and the door on the import: cross-site, foreign Origin, no token.
. "$(dirname "$0")/lib.sh"

HARDIR="$FS_DATA/har"
AUTH=(-H "Authorization: Bearer testtoken")
api() { # api PATH [curl args...]: prints the body
	local p="$1"
	shift
	curl -sS --max-time 60 "${AUTH[@]}" "$@" "http://127.0.0.1:$WEB_PORT$p"
}
import() { # import FILE [curl args...]: POSTs a HAR, prints the body then " STATUS"
	local f="$1"
	shift
	curl -sS --max-time 120 -H 'Expect:' -H 'Content-Type: application/json' \
		--data-binary "@$f" -w ' %{http_code}' "$@" "http://127.0.0.1:$WEB_PORT/api/har"
}
validate() { # validate FILE...: har-validator; its report goes to the log as comments
	node "$HARDIR/validate.mjs" "$@" | sed "s/^/#   /"
	return "${PIPESTATUS[0]}"
}
total() { api /api/flows | jq .total; }
wait_total() { # wait_total N: until the list counts N flows (<= 20 s)
	local i
	for i in $(seq 1 200); do
		[ "$(total)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
wait_done() { # wait_done N: until N flows are listed and none is pending
	local i
	for i in $(seq 1 200); do
		[ "$(api /api/flows | jq '[.flows[] | select(.state != "pending")] | length')" = "$1" ] &&
			return 0
		sleep 0.1
	done
	return 1
}

command -v node >/dev/null || { ok "node is installed" false; done_testing; }
if [ ! -d "$HARDIR/node_modules/har-validator" ]; then
	(cd "$HARDIR" && npm ci --silent >/dev/null 2>&1)
fi
[ -d "$HARDIR/node_modules/har-validator" ] ||
	{ ok "har-validator is installed (npm ci in $HARDIR)" false; done_testing; }

fs_start_nginx || done_testing
fs_start_flowscope || done_testing
H="http://127.0.0.1:$NGINX_HTTP_PORT"
S="https://localhost:$NGINX_HTTPS_PORT"

# --- traffic: HTTP and HTTPS, a form POST, a binary body, a 404 --------------------------------
fs_curl -o /dev/null "$H/text.txt"
fs_curl -o /dev/null "$H/1k"
fs_curl -o /dev/null -d 'name=flow+scope&lang=en&x=%C3%A9' "$H/text.txt?form=1"
fs_curl -o /dev/null "$H/missing"
fs_curl -o /dev/null "$S/text.txt"
fs_curl -o /dev/null "$S/1k"
fs_curl -o /dev/null -H 'Accept-Encoding: gzip' "$S/chunked/big.txt"
ok "seven flows recorded" wait_done 7

# --- export -----------------------------------------------------------------------------------
api /api/har -D "$T/har.head" -o "$T/all.har"
HEAD=$(tr -d '\r' <"$T/har.head" | tr 'A-Z' 'a-z')
like "export: 200" "$HEAD" '^http/1.1 200'
like "export: JSON, UTF-8" "$HEAD" 'content-type: application/json; charset=utf-8'
like "export: chunked (length not known ahead)" "$HEAD" 'transfer-encoding: chunked'
ok "export: no Content-Length" bash -c "! grep -qi '^content-length' '$T/har.head'"
like "export: a dated attachment" "$HEAD" \
	'content-disposition: attachment; filename="flowscope-[0-9]{8}-[0-9]{6}\.har"'
like "export: the door's headers too" "$HEAD" 'x-content-type-options: nosniff'
ok "export: har-validator accepts it" validate "$T/all.har"
is "export: seven entries" "$(jq '.log.entries | length' "$T/all.har")" 7
is "export: oldest first, absolute URLs" "$(jq -r '.log.entries[0].request.url' "$T/all.har")" \
	"$H/text.txt"
is "export: HTTPS URL" "$(jq -r '.log.entries[4].request.url' "$T/all.har")" "$S/text.txt"
POST=$(jq -c '.log.entries[] | select(.request.method == "POST") | .request.postData' "$T/all.har")
is "export: form POST as params" "$(echo "$POST" | jq -c '[.mimeType, (.params | map(.name))]')" \
	'["application/x-www-form-urlencoded",["name","lang","x"]]'
is "export: form value decoded" "$(echo "$POST" | jq -r '.params[0].value')" "flow scope"
BIN=$(jq -c "[.log.entries[] | select(.request.url == \"$H/1k\")][0].response.content" "$T/all.har")
is "export: binary response as base64" "$(echo "$BIN" | jq -r .encoding)" base64
is "export: base64 decodes to the origin's bytes" \
	"$(echo "$BIN" | jq -r .text | base64 -d | sha256sum | cut -d' ' -f1)" \
	"$(fs_sha "$NGINX_ROOT/1k")"
is "export: 404 status" \
	"$(jq "[.log.entries[] | select(.request.url == \"$H/missing\")][0].response.status" \
		"$T/all.har")" 404
GZ=$(jq -c "[.log.entries[] | select(.request.url == \"$S/chunked/big.txt\")][0].response" \
	"$T/all.har")
ok "export: gzip'd response decoded to text" \
	test "$(echo "$GZ" | jq '.content.text | startswith("1 flowscope chunked test line")')" = true
ok "export: HTTPS timings have ssl within connect" \
	test "$(jq '.log.entries[4].timings | .ssl >= 0 and .connect >= .ssl' "$T/all.har")" = true

# --- filtered exports -------------------------------------------------------------------------
api '/api/har?filter=~d%20localhost' -o "$T/d.har"
ok "~d: valid" validate "$T/d.har"
is "~d localhost: only the HTTPS flows" \
	"$(jq -c '[.log.entries[].request.url | startswith("https://localhost")] | unique' "$T/d.har")" \
	'[true]'
is "~d localhost: three" "$(jq '.log.entries | length' "$T/d.har")" 3
api '/api/har?filter=~c%20404' -o "$T/c.har"
ok "~c: valid" validate "$T/c.har"
is "~c 404: the one 404" "$(jq -c '[.log.entries[].request.url]' "$T/c.har")" "[\"$H/missing\"]"
api '/api/har?filter=~u%20nothing-matches-this' -o "$T/none.har"
ok "no match: still a valid HAR" validate "$T/none.har"
is "no match: no entries" "$(jq '.log.entries | length' "$T/none.har")" 0
B=$(api '/api/har?filter=~x' -w ' %{http_code}')
is "bad filter: 400" "${B##* }" 400
like "bad filter: JSON error with the position" "${B% *}" '^\{"error":"filter: at [0-9]+'
is "export without token: 401" "$(curl -s -o /dev/null -w '%{http_code}' \
	"http://127.0.0.1:$WEB_PORT/api/har")" 401

# --- a client that hangs up mid-download ----------------------------------------------------------
for i in $(seq 1 30); do fs_curl -o /dev/null "$H/1m?$i"; done
ok "30 more flows (1 MiB bodies)" wait_done 37
curl -s --max-time 1 --limit-rate 20k "${AUTH[@]}" -o /dev/null "http://127.0.0.1:$WEB_PORT/api/har"
is "hung-up download: the server goes on" "$(total)" 37
api /api/har -o "$T/big.har"
ok "a full export after that is valid" validate "$T/big.har"
is "a full export has every entry" "$(jq '.log.entries | length' "$T/big.har")" 37

# --- the door on the import -------------------------------------------------------------------
B=$(import "$HARDIR/chrome.har" -H 'Sec-Fetch-Site: cross-site' "${AUTH[@]}")
is "cross-site import: 403" "${B##* }" 403
B=$(import "$HARDIR/chrome.har" -H 'Origin: http://evil.example' "${AUTH[@]}")
is "foreign Origin import: 403" "${B##* }" 403
B=$(import "$HARDIR/chrome.har")
is "import without token: 401" "${B##* }" 401
like "refusals are JSON" "${B% *}" '^\{"error":'
B=$(import "$HARDIR/chrome.har" -H "Host: evil.example:$WEB_PORT" "${AUTH[@]}")
is "import with a foreign Host: 403" "${B##* }" 403
sleep 0.3
is "nothing imported by refused calls" "$(total)" 37
fs_stop_flowscope

# --- imports into a fresh flowscope -----------------------------------------------------------
FS_DB_FILE="$T/fresh.db" fs_start_flowscope || done_testing
is "fresh store is empty" "$(total)" 0
B=$(import "$HARDIR/chrome.har" "${AUTH[@]}")
is "chrome.har: 200" "${B##* }" 200
NC=$(echo "${B% *}" | jq .imported)
ok "chrome.har: imported and skipped counted" \
	test "$(echo "${B% *}" | jq '(.imported > 0) and (.skipped >= 0)')" = true
ok "chrome.har: flows listed" wait_total "$NC"
B=$(import "$HARDIR/firefox.har" "${AUTH[@]}")
is "firefox.har: 200" "${B##* }" 200
NF=$(echo "${B% *}" | jq .imported)
ok "firefox.har: flows imported" test "$NF" -gt 0
ok "firefox.har: flows listed" wait_total $((NC + NF))
L=$(api /api/flows)
is "every listed flow is marked imported" "$(echo "$L" | jq -c '[.flows[].imported] | unique')" \
	'[true]'
B=$(import "$HARDIR/firefox-bom.har" "${AUTH[@]}")
is "a file with a UTF-8 BOM imports" "${B##* }" 200
ok "BOM file: flows listed" wait_total $((NC + NF + $(echo "${B% *}" | jq .imported)))
B=$(import "$HARDIR/chrome-utf16.har" "${AUTH[@]}")
is "a UTF-16 file: 400" "${B##* }" 400
like "UTF-16: the error says so" "${B% *}" 'UTF-16'
N0=$(total)

# a broken file: entry 3 has no URL; nothing of entries 1 and 2 may land
jq '.log.entries[2].request |= del(.url)' "$HARDIR/chrome.har" >"$T/broken.har"
B=$(import "$T/broken.har" "${AUTH[@]}")
is "broken file: 400" "${B##* }" 400
like "broken file: the error names the entry" "${B% *}" '^\{"error":"entry 3: '
printf '{"log": {"entries": [' >"$T/trunc.har"
B=$(import "$T/trunc.har" "${AUTH[@]}")
is "truncated JSON: 400" "${B##* }" 400
B=$(curl -sS --max-time 30 "${AUTH[@]}" -X POST -H 'Content-Length: 0' -w ' %{http_code}' \
	"http://127.0.0.1:$WEB_PORT/api/har")
is "empty body: 400" "${B##* }" 400
sleep 0.3
is "nothing imported from broken files" "$(total)" "$N0"

# an upload over the cap (256 MiB)
head -c $((256 * 1048576 + 1)) /dev/zero >"$T/huge.har"
B=$(import "$T/huge.har" "${AUTH[@]}")
is "over 256 MiB: 413" "${B##* }" 413
like "413 is JSON" "${B% *}" '^\{"error":"request body too large'
rm -f "$T/huge.har"
fs_stop_flowscope

# --- round trip: export, import into an empty store, export again -----------------------------
FS_DB_FILE="$T/round.db" fs_start_flowscope || done_testing
B=$(import "$T/big.har" "${AUTH[@]}")
is "round trip: import 200" "${B##* }" 200
is "round trip: every entry imported" "$(echo "${B% *}" | jq -c .)" '{"imported":37,"skipped":0}'
ok "round trip: flows listed" wait_total 37
api /api/har -o "$T/again.har"
ok "round trip: second export valid" validate "$T/again.har"
# flags differ by the "imported" bit only (every imported flow gets it)
norm='.log.entries | map(del(._flowscope.flags))'
if is "round trip: same entries" "$(jq -c "$norm" "$T/again.har" | sha256sum)" \
	"$(jq -c "$norm" "$T/big.har" | sha256sum)"; then :; else
	diff <(jq "$norm" "$T/big.har") <(jq "$norm" "$T/again.har") | head -20 | sed 's/^/#   /'
fi

# --- an import bigger than the store's queue takes at once: fed in pieces ---------------------
NBIG=${WEB_HAR_BIG:-60000}
python3 "$FS_DATA/make_har.py" "$NBIG" many.example t_web_har ok >"$T/many.har"
B=$(import "$T/many.har" "${AUTH[@]}")
is "$NBIG entries: 200" "${B##* }" 200
is "$NBIG entries: all imported" "$(echo "${B% *}" | jq .imported)" "$NBIG"
ok "$NBIG entries: all stored, none dropped" wait_total $((37 + NBIG))
ok "no drop logged" bash -c "! grep -qi 'dropped' '$FS_LOG'"
fs_stop_flowscope

done_testing
