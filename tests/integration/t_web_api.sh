#!/bin/bash
# SPDX-License-Identifier: MIT
# t_web_api.sh - the question this test answers: does every REST call of the web API
# (design.md "Web API") answer as the contract says, against the real binary with real traffic
# through the proxy? Flow list with filter and paging, flow detail (ordered header pairs, bytes
# that are not UTF-8), bodies raw and decoded (streamed, served so they can never run in our
# origin), delete and clear, the CA, rules (validated, kept when invalid), replay and the
# paused-flow calls reaching the proxy, unknown calls (404 JSON), and the embedded UI (and
# --static-dir without traversal).
. "$(dirname "$0")/lib.sh"

api() { # api PATH [curl args...]: GET with the bearer token, prints the body
	local p="$1"
	shift
	curl -sS --max-time 30 -H "Authorization: Bearer testtoken" "$@" "http://127.0.0.1:$WEB_PORT$p"
}
code() { # code PATH [curl args...]: prints the status
	local p="$1"
	shift
	curl -s --max-time 30 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer testtoken" \
		"$@" "http://127.0.0.1:$WEB_PORT$p"
}
heads() { # heads PATH [curl args...]: prints the response head, lower-cased
	local p="$1"
	shift
	curl -sS --max-time 30 -o /dev/null -D - -H "Authorization: Bearer testtoken" "$@" \
		"http://127.0.0.1:$WEB_PORT$p" | tr -d '\r' | tr 'A-Z' 'a-z'
}

fs_start_nginx || done_testing
fs_start_flowscope || done_testing
N="http://127.0.0.1:$NGINX_HTTP_PORT"

# --- empty store -----------------------------------------------------------------------
is "empty list" "$(api /api/flows | jq -c .)" '{"flows":[],"total":0}'

# --- traffic ---------------------------------------------------------------------------
fs_curl -o /dev/null "$N/text.txt"
fs_curl -o /dev/null "$N/1k"
fs_curl -o /dev/null -H 'Accept-Encoding: gzip' "$N/chunked/big.txt"
fs_curl -o /dev/null "$N/missing"
fs_curl -o /dev/null -H $'X-Latin: caf\xe9' "$N/text.txt?latin"
for i in $(seq 1 20); do
	[ "$(api /api/flows | jq '[.flows[] | select(.state != "pending")] | length')" = 5 ] && break
	sleep 0.2
done
L=$(api /api/flows)
is "five flows listed" "$(echo "$L" | jq .total)" 5
is "newest first" "$(echo "$L" | jq -c '[.flows[].path]')" \
	'["/text.txt?latin","/missing","/chunked/big.txt","/1k","/text.txt"]'
F=$(echo "$L" | jq '.flows[4]')
is "summary: method" "$(echo "$F" | jq -r .method)" GET
is "summary: scheme/host/port" "$(echo "$F" | jq -r '"\(.scheme)://\(.host):\(.port)"')" \
	"http://127.0.0.1:$NGINX_HTTP_PORT"
is "summary: status" "$(echo "$F" | jq .status)" 200
is "summary: content_type" "$(echo "$F" | jq -r .content_type)" text/plain
is "summary: response body size" "$(echo "$F" | jq .response_body_size)" 17
is "summary: state done" "$(echo "$F" | jq -r .state)" done
is "summary: flags as booleans" "$(echo "$F" | jq -c '[.tls,.websocket,.replay,.imported,.marked]')" \
	'[false,false,false,false,false]'
ok "summary: timings" test "$(echo "$F" | jq '.timings.start > 0 and .timings.end >= .timings.start')" = true
ok "summary: client and server addresses" test \
	"$(echo "$F" | jq '(.client_addr | startswith("127.0.0.1:")) and .server_addr != null')" = true
ok "summary: every contract field present" test "$(echo "$F" | jq 'has("id") and has("kind") and
	has("reason") and has("request_body_size") and has("request_truncated") and
	has("response_truncated") and has("error") and has("replay_of")')" = true
is "404 flow listed with its status" "$(echo "$L" | jq '.flows[1].status')" 404

# --- filter and paging -------------------------------------------------------------------
is "filter ~c 404" "$(api '/api/flows?filter=~c%20404' | jq -c '[.total, .flows[0].path]')" \
	'[1,"/missing"]'
is "filter with & (encoded)" \
	"$(api '/api/flows?filter=~u%20text%20%26%20!~u%20latin' | jq -c '[.total,.flows[0].path]')" \
	'[1,"/text.txt"]'
B=$(api '/api/flows?filter=~x' -w ' %{http_code}')
is "bad filter: 400" "${B##* }" 400
like "bad filter: error names the position" "${B% *}" '^\{"error":".*at [0-9]+'
P1=$(api '/api/flows?limit=2')
is "limit=2: two flows, total still 5" "$(echo "$P1" | jq -c '[(.flows|length), .total]')" '[2,5]'
LAST=$(echo "$P1" | jq '.flows[1].id')
P2=$(api "/api/flows?limit=2&before=$LAST")
ok "before=ID: older flows only" test "$(echo "$P2" | jq --argjson b "$LAST" \
	'[.flows[].id < $b] | all and length == 2')" = true
is "limit=0 refused" "$(code '/api/flows?limit=0')" 400
is "limit=abc refused" "$(code '/api/flows?limit=abc')" 400

# --- detail ----------------------------------------------------------------------------
ID1=$(echo "$F" | jq .id)
D=$(api "/api/flows/$ID1")
is "detail: id" "$(echo "$D" | jq .id)" "$ID1"
is "detail: request line" "$(echo "$D" | jq -r '.request.method + " " + .request.version')" "GET HTTP/1.1"
is "detail: request headers are ordered [name, value] pairs" \
	"$(echo "$D" | jq -c '[.request.headers[0] | length, (.[0] | type)]')" '[2,"string"]'
is "detail: Host header first, as sent" "$(echo "$D" | jq -r '.request.headers[0][0]')" Host
is "detail: response status" "$(echo "$D" | jq '.response.status')" 200
is "detail: body sizes" "$(echo "$D" | jq -c '[.request.body_size, .response.body_size]')" '[0,17]'
ok "detail: response headers include Content-Type" test \
	"$(echo "$D" | jq '[.response.headers[][0] | ascii_downcase] | index("content-type") != null')" = true
IDL=$(echo "$L" | jq '.flows[0].id')
DL=$(api "/api/flows/$IDL")
ok "detail: a latin-1 header value still gives valid JSON" test -n "$(echo "$DL" | jq -r .id)"
is "detail: latin-1 value widened to UTF-8" \
	"$(echo "$DL" | jq -r '.request.headers[] | select(.[0] == "X-Latin") | .[1]')" "café"
is "detail: latin1 flag set" "$(echo "$DL" | jq .request.latin1)" true
is "detail: no such flow -> 404" "$(code /api/flows/999999)" 404
is "detail: error is JSON" "$(api /api/flows/999999 | jq -r .error)" "no such flow"
is "detail: bad id -> 404" "$(code /api/flows/abc)" 404

# --- bodies ----------------------------------------------------------------------------
is "body: raw bytes" "$(api "/api/flows/$ID1/response/body")" "hello from nginx"
H=$(heads "/api/flows/$ID1/response/body")
like "body: application/octet-stream" "$H" 'content-type: application/octet-stream'
like "body: attachment" "$H" 'content-disposition: attachment'
like "body: nosniff" "$H" 'x-content-type-options: nosniff'
like "body: CSP sandbox" "$H" 'content-security-policy: .*sandbox'
ID1K=$(echo "$L" | jq '.flows[3].id')
api "/api/flows/$ID1K/response/body" -o "$T/1k.out"
is "body: 1k binary body intact" "$(fs_sha "$T/1k.out")" "$(fs_sha "$NGINX_ROOT/1k")"
IDZ=$(echo "$L" | jq '.flows[2].id')
api "/api/flows/$IDZ/response/body" -o "$T/big.gz"
ok "body: gzip body stored raw" gzip -t "$T/big.gz"
api "/api/flows/$IDZ/response/body?decode=1" -o "$T/big.txt"
is "body: decode=1 undoes gzip (streamed, all bytes)" "$(fs_sha "$T/big.txt")" \
	"$(fs_sha "$NGINX_ROOT/chunked/big.txt")"
# Bodies over 256 KiB are kept as files beside the database: served and searched the same.
ok "body: the large gzip body is kept in a file" test -s "$FS_DB-bodies/$((IDZ * 2 + 1))"
is "filter ~bs finds text in a large body kept in a file" \
	"$(api '/api/flows?filter=~bs%20%22100%20flowscope%20chunked%20test%20line%22' |
		jq -c '[.total, .flows[0].path]')" '[1,"/chunked/big.txt"]'
is "body: request body of a GET is empty" "$(api "/api/flows/$ID1/request/body" | wc -c)" 0
is "body: no such flow -> 404" "$(code /api/flows/999999/response/body)" 404

# --- CA --------------------------------------------------------------------------------
api /api/ca.pem -o "$T/ca.out"
is "ca.pem is the proxy's CA" "$(fs_sha "$T/ca.out")" "$(fs_sha "$FS_CONF/ca.pem")"
api /api/ca.der -o "$T/ca.der.out"
is "ca.der is the same CA in DER" "$(fs_sha "$T/ca.der.out")" \
	"$(openssl x509 -in "$FS_CONF/ca.pem" -outform der | sha256sum | cut -d' ' -f1)"

# --- rules -----------------------------------------------------------------------------
is "rules: default" "$(api /api/rules | jq -c .)" \
	'{"ignore_hosts":[],"allow_hosts":[],"intercept":"","block":[]}'
R='{"ignore_hosts":["^bank\\.example:443$"],"allow_hosts":[],"intercept":"~d example.com","block":[{"filter":"~u ads","status":404}]}'
is "rules: PUT valid" "$(code /api/rules -X PUT -H 'Content-Type: application/json' -d "$R")" 200
is "rules: GET returns them" "$(api /api/rules | jq -c .)" "$(echo "$R" | jq -c .)"
B=$(api /api/rules -X PUT -d '{"ignore_hosts":["(unclosed"]}' -w ' %{http_code}')
is "rules: bad regex -> 400" "${B##* }" 400
like "rules: bad regex error says where" "${B% *}" 'ignore_hosts\[0\]: at [0-9]+'
is "rules: bad intercept filter -> 400" "$(code /api/rules -X PUT -d '{"intercept":"~x y"}')" 400
is "rules: bad block status -> 400" \
	"$(code /api/rules -X PUT -d '{"block":[{"filter":"~u a","status":99}]}')" 400
is "rules: not JSON -> 400" "$(code /api/rules -X PUT -d 'nope')" 400
is "rules: old rules kept after refusals" "$(api /api/rules | jq -c .)" "$(echo "$R" | jq -c .)"
# The rules are stored from the start (seeded); wait for the PUT's value to be committed.
stored=""
for _ in $(seq 50); do
	stored=$(fs_sql "select value from settings where key='rules'" | jq -r '.intercept' 2>/dev/null)
	[ "$stored" = "~d example.com" ] && break
	sleep 0.1
done
is "rules: stored in the database" "$stored" "~d example.com"

# --- replay and paused flows (their behaviour is tested in t_replay.sh, t_intercept.sh) ----
NEW=$(api "/api/flows/$ID1/replay" -X POST | jq -r .id)
like "replay: answers the new flow's id" "$NEW" '^[0-9]+$'
replay_of=""
for _ in $(seq 50); do
	replay_of=$(api "/api/flows/$NEW" 2>/dev/null | jq -r '.replay_of // empty' 2>/dev/null)
	[ -n "$replay_of" ] && break
	sleep 0.1
done
is "replay: the new flow marks which flow it replays" "$replay_of" "$ID1"
is "replay: an invalid edit is refused" "$(code "/api/flows/$ID1/replay" -X POST \
	-d '{"url": "ftp://x/"}')" 400
is "replay: no such flow" "$(code /api/flows/999999/replay -X POST)" 404
is "edit: neither request nor response: 400" "$(code "/api/flows/$ID1" -X PUT -d '{}')" 400
is "resume: a flow that is not paused: 409" "$(code "/api/flows/$ID1/resume" -X POST)" 409
is "kill: a flow that is not paused: 409" "$(code "/api/flows/$ID1/kill" -X POST)" 409
like "kill: says why in JSON" "$(api "/api/flows/$ID1/kill" -X POST | jq -r .error)" 'not paused'
is "unknown call: 404" "$(code /api/nope)" 404
is "unknown call: JSON error" "$(api /api/nope | jq -r 'has("error")')" true
is "wrong method: 405" "$(code /api/rules -X DELETE)" 405

# --- delete and clear ------------------------------------------------------------------
is "delete one: 200" "$(code "/api/flows/$ID1" -X DELETE)" 200
for i in $(seq 1 20); do [ "$(code "/api/flows/$ID1")" = 404 ] && break; sleep 0.1; done
is "deleted flow is gone" "$(code "/api/flows/$ID1")" 404
is "delete again: 404" "$(code "/api/flows/$ID1" -X DELETE)" 404
is "five flows left (four, and the replay)" "$(api /api/flows | jq .total)" 5
is "clear: 200" "$(code /api/flows -X DELETE)" 200
for i in $(seq 1 20); do [ "$(api /api/flows | jq .total)" = 0 ] && break; sleep 0.1; done
is "cleared: no flows" "$(api /api/flows | jq .total)" 0

# --- the UI ----------------------------------------------------------------------------
is "UI: / serves index.html" "$(curl -s "http://127.0.0.1:$WEB_PORT/" | fs_sha /dev/stdin)" \
	"$(fs_sha "$(dirname "$0")/../../static/index.html")"
like "UI: index is text/html" "$(heads / | grep content-type)" 'text/html'
like "UI: js is text/javascript" "$(heads /js/app.js | grep content-type)" 'text/javascript'
like "UI: css is text/css" "$(heads /ui.css | grep content-type)" 'text/css'
is "UI: unknown file 404" "$(code /nope.js)" 404
fs_stop_flowscope

STATIC="$T/static"
mkdir -p "$STATIC/js"
echo '<p>from disk</p>' >"$STATIC/index.html"
echo 'secret' >"$T/secret.txt"
ln -s "$T/secret.txt" "$STATIC/link.txt"
fs_start_flowscope --static-dir "$STATIC" || done_testing
is "--static-dir: served from disk" "$(curl -s "http://127.0.0.1:$WEB_PORT/")" '<p>from disk</p>'
is "--static-dir: .. refused" \
	"$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/../secret.txt")" 404
is "--static-dir: encoded .. refused" \
	"$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/js/%2e%2e/%2e%2e/secret.txt")" 404
is "--static-dir: symlink out of the dir refused" "$(code /link.txt)" 404
fs_stop_flowscope

done_testing
