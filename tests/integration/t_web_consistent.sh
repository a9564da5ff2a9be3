#!/bin/bash
# SPDX-License-Identifier: MIT
# t_web_consistent.sh - the question this test answers: is every write call of the web API
# read-your-writes against the real binary? Each write is followed at once (no sleep) by the
# read that must see it, many times over: POST /api/har then the list, DELETE /api/flows/ID
# then GET of that flow and the list, POST …/replay then GET of the new id, DELETE /api/flows
# then the list, PUT /api/flows/ID (a paused flow's edit) then GET, POST …/kill then GET. And
# does the UI's list still answer while a write waits for the store?
. "$(dirname "$0")/lib.sh"

ROUNDS=${WEB_CONSISTENT_ROUNDS:-30}
HAR="$FS_DATA/har/chrome.har"

total() { fs_api "/api/flows?limit=1" | jq .total; }
post_har() { fs_api /api/har -X POST -H 'Content-Type: application/json' --data-binary "@$HAR"; }
# wr READPATH WRITEPATH [write's curl args...]: the write, then the read on the same
# connection by the same curl, with nothing in between: prints the write's answer on one line
# and the read's on the next.
wr() {
	local rp="$1" wp="$2"
	shift 2
	curl -sS --max-time 30 -H "Authorization: Bearer testtoken" -w '\n' "$@" \
		"http://127.0.0.1:$WEB_PORT$wp" \
		--next -sS --max-time 30 -H "Authorization: Bearer testtoken" -w '\n' \
		"http://127.0.0.1:$WEB_PORT$rp"
}

fs_start_nginx || done_testing
fs_start_flowscope || done_testing
N="http://127.0.0.1:$NGINX_HTTP_PORT"

# --- POST /api/har, then the list -----------------------------------------------------------
good=0
for i in $(seq 1 "$ROUNDS"); do
	before=$(total)
	R=$(wr "/api/flows?limit=1" /api/har -X POST -H 'Content-Type: application/json' \
		--data-binary "@$HAR")
	after=$(echo "$R" | sed -n 2p | jq .total)
	n=$(echo "$R" | head -1 | jq .imported)
	[ "$n" -gt 0 ] && [ "$after" = $((before + n)) ] && good=$((good + 1))
done
diag "import then list: $good of $ROUNDS reads saw the import"
is "import: every list right after the answer counts the imported flows" "$good" "$ROUNDS"

# --- DELETE /api/flows/ID, then GET it and the list ------------------------------------------
good=0
ms_sum=0
for i in $(seq 1 "$ROUNDS"); do
	before=$(total)
	id=$(fs_api "/api/flows?limit=1" | jq '.flows[0].id')
	ms=$(curl -s -o /dev/null -w '%{time_total}' -X DELETE -H "Authorization: Bearer testtoken" \
		"http://127.0.0.1:$WEB_PORT/api/flows/$id" \
		--next -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer testtoken" \
		"http://127.0.0.1:$WEB_PORT/api/flows/$id")
	got=${ms#*[0-9].[0-9][0-9][0-9][0-9][0-9][0-9]}
	ms=${ms%"$got"}
	after=$(total)
	[ "$got" = 404 ] && [ "$after" = $((before - 1)) ] && good=$((good + 1))
	ms_sum=$(echo "$ms_sum + $ms * 1000" | bc)
done
diag "delete then get: $good of $ROUNDS reads saw the delete; a DELETE took" \
	"$(echo "scale=1; $ms_sum / $ROUNDS" | bc) ms on average"
is "delete: the flow is gone for every read right after the answer" "$good" "$ROUNDS"

# --- POST /api/flows/ID/replay, then GET the new id ------------------------------------------
fs_curl -o /dev/null "$N/text.txt"
ok "a flow to replay" fs_wait_sql "select count(*) from flows where path='/text.txt' and state='done'" 1
orig=$(fs_sql "select id from flows where path='/text.txt'")
good=0
for i in $(seq 1 "$ROUNDS"); do
	R=$(wr "/api/flows/$((orig + i))" "/api/flows/$orig/replay" -X POST)
	new=$(echo "$R" | head -1 | jq .id)
	got=$(echo "$R" | sed -n 2p | jq -r '"\(.id) \(.replay_of)"')
	[ "$new" = $((orig + i)) ] && [ "$got" = "$new $orig" ] && good=$((good + 1))
done
diag "replay then get: $good of $ROUNDS reads found the new flow"
is "replay: the new flow exists when its id is answered" "$good" "$ROUNDS"
# curl -X POST sends neither Content-Length nor a body; libwebsockets would take the next
# request on that connection for a body of up to 100 MB (and stall it for seconds), so the
# answer says the connection ends
hdrs=$(curl -sS -o /dev/null -D - -X POST -H "Authorization: Bearer testtoken" \
	"http://127.0.0.1:$WEB_PORT/api/flows/$orig/replay" | tr -d '\r')
like "a POST without Content-Length is answered with Connection: close" "$hdrs" \
	'connection: close'

# --- DELETE /api/flows, then the list --------------------------------------------------------
good=0
for i in $(seq 1 "$ROUNDS"); do
	post_har >/dev/null
	R=$(wr "/api/flows?limit=1" /api/flows -X DELETE)
	[ "$(echo "$R" | sed -n 2p | jq .total)" = 0 ] && good=$((good + 1))
done
diag "clear then list: $good of $ROUNDS lists were empty"
is "clear: the list is empty right after the answer" "$good" "$ROUNDS"

# --- a paused flow: PUT (edit), then GET; kill, then GET --------------------------------------
is "rules: intercept requests to /text.txt" \
	"$(fs_rules '{"intercept":"~q & ~u /text.txt"}')" 200
good_edit=0
good_kill=0
KROUNDS=$((ROUNDS / 3))
for i in $(seq 1 "$KROUNDS"); do
	fs_curl -o /dev/null "$N/text.txt?round=$i" &
	CURL=$!
	id=""
	for j in $(seq 1 100); do
		id=$(fs_sql "select id from flows where state='paused' and path='/text.txt?round=$i'")
		[ -n "$id" ] && break
		sleep 0.1
	done
	R=$(wr "/api/flows/$id" "/api/flows/$id" -X PUT -H 'Content-Type: application/json' \
		-d "{\"request\":{\"url\":\"$N/text.txt?edited=$i\"}}")
	[ "$(echo "$R" | sed -n 2p | jq -r '"\(.state) \(.path)"')" = \
		"paused /text.txt?edited=$i" ] && good_edit=$((good_edit + 1))
	R=$(wr "/api/flows/$id" "/api/flows/$id/kill" -X POST)
	[ "$(echo "$R" | sed -n 2p | jq -r '"\(.state) \(.error)"')" = "error killed" ] &&
		good_kill=$((good_kill + 1))
	wait "$CURL"
done
diag "edit then get: $good_edit of $KROUNDS; kill then get: $good_kill of $KROUNDS"
is "edit: the edited request is stored when answered" "$good_edit" "$KROUNDS"
is "kill: the flow is ended when answered" "$good_kill" "$KROUNDS"

fs_stop_flowscope
done_testing
