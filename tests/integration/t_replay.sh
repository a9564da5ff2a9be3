#!/bin/bash
# SPDX-License-Identifier: MIT
# t_replay.sh - the question this test answers: does POST /api/flows/ID/replay send the stored
# request again from the proxy's own client, so that a real upstream that keeps every request
# it receives (data/replay_origin.py) sees it byte for byte as the first time (HTTP, HTTPS
# decrypted through CONNECT, a POST with a binary body) or with the user's edits (method, URL,
# headers, body: Content-Length recomputed, Host following the URL), and is each replay
# recorded as a new flow marking the flow it replays, an upstream that is down included (an
# error flow, the id still returned)? And do 20 replays fired quickly reach the upstream in
# the order they were asked for? Does a block rule answer a replay it matches, as it answers a
# proxied request?
. "$(dirname "$0")/lib.sh"

api_post() { # api_post PATH [curl args...]: POST with the token, prints the body
	local p="$1"
	shift
	curl -sS --max-time 30 -X POST -H "Authorization: Bearer testtoken" "$@" \
		"http://127.0.0.1:$WEB_PORT$p"
}
api_code() { # api_code PATH [curl args...]: POST with the token, prints the status
	local p="$1"
	shift
	curl -s --max-time 30 -o /dev/null -w '%{http_code}' -X POST \
		-H "Authorization: Bearer testtoken" "$@" "http://127.0.0.1:$WEB_PORT$p"
}
# start_logging_origin NAME [--tls]: the recording origin; sets RO_PORT RO_PID RO_LOG
start_logging_origin() {
	local name="$1" port
	port=$(fs_free_port)
	RO_LOG="$T/$name-requests"
	if [ "${2:-}" = "--tls" ]; then
		fs_spawn "$name" python3 "$FS_DATA/replay_origin.py" --port "$port" --logdir "$RO_LOG" \
			--cert "$T/ca/origin.pem" --key "$T/ca/origin.key"
	else
		fs_spawn "$name" python3 "$FS_DATA/replay_origin.py" --port "$port" --logdir "$RO_LOG"
	fi
	RO_PID=$FS_SPAWNED_PID
	RO_PORT=$port
	fs_wait_port "$port" 10 "$RO_PID" || ok "origin $name starts" false
}
nreq() { find "$1" -name '*.req' | wc -l; } # requests an origin received
# wait_nreq DIR N: until DIR holds N requests (<= 10 s)
wait_nreq() {
	local i
	for i in $(seq 100); do
		[ "$(nreq "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# flow_id WHERE: the id of the (one) flow matching an SQL condition, once it is final
flow_id() {
	fs_wait_sql "select count(*) from flows where $1 and state in ('done','error')" 1 >/dev/null
	fs_sql "select id from flows where $1 and state in ('done','error')"
}
# replay ID [curl args]: prints the new id from {"id": N} (empty if none)
replay() {
	local id="$1"
	shift
	api_post "/api/flows/$id/replay" "$@" | jq -r '.id // empty'
}
wait_final() { fs_wait_sql "select state in ('done','error') from flows where id=$1" 1; }

start_logging_origin plain
P_PORT=$RO_PORT P_LOG=$RO_LOG
start_logging_origin secure --tls
S_PORT=$RO_PORT S_LOG=$RO_LOG
start_logging_origin doomed
D_PORT=$RO_PORT D_LOG=$RO_LOG D_PID=$RO_PID
fs_start_flowscope || done_testing
O="http://127.0.0.1:$P_PORT"

# --- replay as-is --------------------------------------------------------------------------
fs_curl -o /dev/null -H 'X-Custom: one two' -H 'Cookie: a=b' "$O/hello?x=1&y=%20"
ID=$(flow_id "path='/hello?x=1&y=%20'")
ok "the original flow is stored" test -n "$ID"
is "origin saw the original" "$(nreq "$P_LOG")" 1
N1=$(replay "$ID")
ok "replay answers {\"id\": N}" test -n "$N1"
ok "the new id is a new flow" test "${N1:-0}" -gt "${ID:-0}"
ok "the new flow's row exists" fs_wait_sql "select count(*) from flows where id=${N1:-0}" 1
wait_final "${N1:-0}"
ok "upstream received the replay" wait_nreq "$P_LOG" 2
is "upstream counted 2 requests" "$(nreq "$P_LOG")" 2
ok "upstream saw an identical request" cmp -s "$P_LOG/0001.req" "$P_LOG/0002.req"
is "replay row: state, status, replay_of" \
	"$(fs_sql "select state, status, replay_of, method, scheme, path from flows where id=${N1:-0}")" \
	"done|200|$ID|GET|http|/hello?x=1&y=%20"
is "replay row: REPLAY flag set, TLS flag not" \
	"$(fs_sql "select (flags & 4) != 0, (flags & 1) from flows where id=${N1:-0}")" "1|0"
is "the response recorded" \
	"$(fs_sql "select response_body_size, error is null from flows where id=${N1:-0}")" "10|1"
is "the original flow is untouched" \
	"$(fs_sql "select replay_of is null or replay_of = 0, flags & 4 from flows where id=$ID")" "1|0"
D=$(curl -sS --max-time 10 -H "Authorization: Bearer testtoken" \
	"http://127.0.0.1:$WEB_PORT/api/flows/${N1:-0}")
is "API detail: replay_of and the replay flag" "$(echo "$D" | jq -c '[.replay_of, .replay]')" \
	"[$ID,true]"

# a second as-is replay (of the replay): a third identical request
N2=$(replay "${N1:-0}")
wait_final "${N2:-0}"
wait_nreq "$P_LOG" 3
ok "a replay of a replay is identical too" cmp -s "$P_LOG/0001.req" "$P_LOG/0003.req"
is "and marks the flow it replays" "$(fs_sql "select replay_of from flows where id=${N2:-0}")" \
	"${N1:-0}"

# --- edited: method, URL, headers and body ----------------------------------------------------
EDIT=$(jq -nc --arg u "$O/edited/path?z=9" \
	'{method:"PUT", url:$u, headers:[["Content-Type","application/json"],
	  ["Content-Length","999"],["X-Edit","yes"]], body:"{\"k\":\"v\"}"}')
N3=$(replay "$ID" -H 'Content-Type: application/json' --data-binary "$EDIT")
ok "edited replay answers an id" test -n "$N3"
wait_final "${N3:-0}"
wait_nreq "$P_LOG" 4
R="$P_LOG/0004.req"
is "upstream saw the new request line" "$(head -1 "$R" | tr -d '\r')" "PUT /edited/path?z=9 HTTP/1.1"
is "upstream saw the new headers, Content-Length recomputed, Host kept consistent" \
	"$(sed -n '2,/^\r$/p' "$R" | tr -d '\r' | sort | tr '\n' '|')" \
	"|Content-Length: 9|Content-Type: application/json|Host: 127.0.0.1:$P_PORT|X-Edit: yes|"
is "upstream saw the new body" "$(sed '1,/^\r$/d' "$R")" '{"k":"v"}'
is "edited flow recorded as sent" \
	"$(fs_sql "select method, path, request_body_size, status, replay_of from flows where id=${N3:-0}")" \
	"PUT|/edited/path?z=9|9|200|$ID"

# body_base64 with bytes that are not text, and an URL on another host name for the same origin
B64=$(printf 'A\000B\r\n\377' | base64)
EDIT=$(jq -nc --arg u "http://localhost:$P_PORT/echo" --arg b "$B64" \
	'{method:"POST", url:$u, body_base64:$b}')
N4=$(replay "$ID" -H 'Content-Type: application/json' --data-binary "$EDIT")
wait_final "${N4:-0}"
wait_nreq "$P_LOG" 5
R="$P_LOG/0005.req"
ok "body_base64: upstream got the exact bytes" \
	cmp -s <(sed '1,/^\r$/d' "$R") <(printf 'A\000B\r\n\377')
ok "Host follows the edited URL" grep -q "^Host: localhost:$P_PORT"$'\r'"\$" "$R"
ok "Content-Length of the binary body" grep -q "^Content-Length: 6"$'\r'"\$" "$R"

# a new body is the decoded text, as for an edit: it goes up encoded with its Content-Encoding
EDIT=$(jq -nc --arg u "$O/echo" '{method:"POST", url:$u, headers:[["Content-Type","text/plain"],
	  ["Content-Encoding","gzip"],["Content-Length","1"]], body:"hello, encoded replay"}')
N6=$(replay "$ID" -H 'Content-Type: application/json' --data-binary "$EDIT")
ok "encoded replay answers an id" test -n "$N6"
wait_final "${N6:-0}"
wait_nreq "$P_LOG" 6
R="$P_LOG/0006.req"
ok "encoded replay: upstream got Content-Encoding: gzip" grep -q "^Content-Encoding: gzip"$'\r'"\$" "$R"
is "encoded replay: the body decodes to the text given" \
	"$(sed '1,/^\r$/d' "$R" | python3 -c 'import gzip,sys; sys.stdout.write(gzip.decompress(sys.stdin.buffer.read()).decode())')" \
	"hello, encoded replay"
ok "encoded replay: Content-Length is the encoded length" \
	grep -q "^Content-Length: $(sed '1,/^\r$/d' "$R" | wc -c)"$'\r'"\$" "$R"
EDIT=$(jq -nc '{headers:[["Content-Encoding","x-custom"]], body:"text"}')
is "a coding that cannot be applied again: 400" \
	"$(api_code "/api/flows/$ID/replay" -H 'Content-Type: application/json' --data-binary "$EDIT")" 400

is "bad edit JSON: 400" "$(api_code "/api/flows/$ID/replay" --data-binary '{"method":')" 400
is "unknown flow: 404" "$(api_code "/api/flows/987654/replay")" 404

# --- HTTPS flow (decrypted through CONNECT) --------------------------------------------------
fs_curl -o /dev/null -H 'X-Secure: 1' "https://localhost:$S_PORT/secret?q=1"
SID=$(flow_id "scheme='https' and path='/secret?q=1'")
ok "the HTTPS flow is stored" test -n "$SID"
N5=$(replay "${SID:-0}")
ok "HTTPS replay answers an id" test -n "$N5"
wait_final "${N5:-0}"
wait_nreq "$S_LOG" 2
ok "TLS upstream saw an identical request" cmp -s "$S_LOG/0001.req" "$S_LOG/0002.req"
is "HTTPS replay row" \
	"$(fs_sql "select state, status, scheme, host, port, tls_version like 'TLS%' from flows where id=${N5:-0}")" \
	"done|200|https|localhost|$S_PORT|1"

# --- POST with a binary body ----------------------------------------------------------------
head -c 70000 /dev/urandom >"$T/upload.bin"
printf '\r\n\r\n\000' >>"$T/upload.bin"
fs_curl -o /dev/null -H 'Content-Type: application/octet-stream' --data-binary @"$T/upload.bin" \
	"$O/upload"
BID=$(flow_id "path='/upload'")
ok "the POST flow is stored" test -n "$BID"
B_BEFORE=$(nreq "$P_LOG")
N6=$(replay "${BID:-0}")
wait_final "${N6:-0}"
wait_nreq "$P_LOG" $((B_BEFORE + 1))
FIRST=$(grep -l -a '^POST /upload ' "$P_LOG"/*.req | head -1)
LAST="$P_LOG/$(printf '%04d' $((B_BEFORE + 1))).req"
ok "upstream saw the binary POST byte for byte again" cmp -s "$FIRST" "$LAST"
is "binary replay row" \
	"$(fs_sql "select state, method, request_body_size from flows where id=${N6:-0}")" \
	"done|POST|70005"

# --- a chunked upload: replayed with the same body under a Content-Length -------------------
printf 'chunk one|chunk two' >"$T/chunked.txt"
fs_curl -o /dev/null -H 'Transfer-Encoding: chunked' --data-binary @"$T/chunked.txt" "$O/chunky"
CID=$(flow_id "path='/chunky'")
C_BEFORE=$(nreq "$P_LOG")
N8=$(replay "${CID:-0}")
wait_final "${N8:-0}"
wait_nreq "$P_LOG" $((C_BEFORE + 1))
R="$P_LOG/$(printf '%04d' $((C_BEFORE + 1))).req"
ok "chunked original: replay has no Transfer-Encoding" \
	test "$(grep -ci '^transfer-encoding:' "$R")" = 0
ok "chunked original: replay has Content-Length 19" grep -q "^Content-Length: 19"$'\r'"\$" "$R"
is "chunked original: same body, de-chunked" "$(sed '1,/^\r$/d' "$R")" 'chunk one|chunk two'

# --- a replay aimed at flowscope itself is refused (it could replay itself forever) ----------
EDIT=$(jq -nc --arg u "http://127.0.0.1:$WEB_PORT/api/flows" '{url:$u}')
N9=$(replay "$ID" -H 'Content-Type: application/json' --data-binary "$EDIT")
wait_final "${N9:-0}"
like "replay to the web UI's own address: an error flow" \
	"$(fs_sql "select state, error from flows where id=${N9:-0}")" "^error\|.*flowscope itself"

# --- the upstream is down now ------------------------------------------------------------------
fs_curl -o /dev/null "http://127.0.0.1:$D_PORT/gone"
GID=$(flow_id "port=$D_PORT and path='/gone'")
ok "the flow to the soon-dead origin is stored" test -n "$GID"
fs_kill "$D_PID"
N7=$(replay "${GID:-0}")
ok "replay to a dead upstream still answers an id" test -n "$N7"
wait_final "${N7:-0}"
is "and the flow is an error" "$(fs_sql "select state, replay_of from flows where id=${N7:-0}")" \
	"error|$GID"
like "with a clear message" "$(fs_sql "select error from flows where id=${N7:-0}")" \
	"connection to 127.0.0.1:$D_PORT failed: .*refused"

# --- ordering: 20 replays fired quickly ------------------------------------------------------
for i in $(seq -w 0 19); do
	fs_curl -o /dev/null "$O/seq/$i"
done
fs_wait_sql "select count(*) from flows where path like '/seq/%' and state='done'" 20 >/dev/null
SEQ_IDS=$(fs_sql "select id from flows where path like '/seq/%' order by path")
BEFORE=$(nreq "$P_LOG")
NEW=()
for sid in $SEQ_IDS; do
	NEW+=("$(replay "$sid")")
done
is "20 ids answered" "$(printf '%s\n' "${NEW[@]}" | grep -c '^[0-9][0-9]*$')" 20
ok "20 more requests reached the upstream" wait_nreq "$P_LOG" $((BEFORE + 20))
GOT=""
for n in $(seq $((BEFORE + 1)) $((BEFORE + 20))); do
	GOT+="$(head -1 "$P_LOG/$(printf '%04d' "$n").req" | cut -d' ' -f2) "
done
EXP=""
for i in $(seq -w 0 19); do EXP+="/seq/$i "; done
is "in the order asked" "$GOT" "$EXP"
# the upstream has them all; their ends reach the store a moment later
ok "all 20 replays done" fs_wait_sql \
	"select count(*) from flows where flags & 4 and path like '/seq/%' and state='done'" 20

# --- a block rule holds for replays too -------------------------------------------------------
fs_curl -o /dev/null "$O/to-block"
BID=$(flow_id "path='/to-block' and replay_of is null")
BEFORE=$(nreq "$P_LOG")
is "PUT a block rule" "$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
	-H 'Authorization: Bearer testtoken' -H 'Content-Type: application/json' \
	-d '{"block":[{"filter":"~u /to-block","status":451}]}' "http://127.0.0.1:$WEB_PORT/api/rules")" 200
NB=$(replay "${BID:-0}")
ok "a blocked replay still answers an id" test -n "$NB"
wait_final "${NB:-0}"
is "the blocked replay is answered by the rule" \
	"$(fs_sql "select state, status, replay_of from flows where id=${NB:-0}")" "done|451|$BID"
sleep 0.3
is "and never reached the upstream" "$(nreq "$P_LOG")" "$BEFORE"

fs_stop_flowscope
done_testing
