#!/bin/bash
# SPDX-License-Identifier: MIT
# t_web_events.sh - the question this test answers: does a WebSocket client of /api/events hear
# of every committed change to the flows made by real traffic through the proxy (plain HTTP and
# decrypted HTTPS), of deletes and of a clear, as one JSON message each — and can it reconnect
# after flowscope restarts, finding the old flows and hearing the new ones?
. "$(dirname "$0")/lib.sh"
[ -d "$(dirname "$0")/../node_modules/ws" ] ||
	{ ok "npm package ws is installed (npm install --prefix tests)" false; done_testing; }

EVJS="$(dirname "$0")/web_events.mjs"
api() {
	local p="$1"
	shift
	curl -sS --max-time 30 -H "Authorization: Bearer testtoken" "$@" "http://127.0.0.1:$WEB_PORT$p"
}
# start_client NAME: a background events client writing $T/NAME.log; waits until it is open
start_client() {
	local name="$1" i
	fs_spawn "$name" node "$EVJS" --url "ws://127.0.0.1:$WEB_PORT/api/events" \
		--header "Authorization: Bearer testtoken" --timeout 300 --ready "$T/$name.ready"
	for i in $(seq 1 100); do [ -f "$T/$name.ready" ] && return 0; sleep 0.1; done
	return 1
}
# wait_for NAME JQ-FILTER [SECS]: waits until a message in $T/NAME.log satisfies the filter
wait_for() {
	local name="$1" filter="$2" secs="${3:-10}" i
	for i in $(seq 1 $((secs * 10))); do
		grep '^{' "$T/$name.log" | jq -s -e "map(select($filter)) | length > 0" >/dev/null 2>&1 &&
			return 0
		sleep 0.1
	done
	return 1
}

fs_start_nginx || done_testing
fs_start_flowscope || done_testing
ok "events client connects" start_client c1
N="http://127.0.0.1:$NGINX_HTTP_PORT"
S="https://localhost:$NGINX_HTTPS_PORT"

fs_curl -o /dev/null "$N/text.txt?one"
ok "add event for a plain HTTP request" wait_for c1 \
	'.type == "flow" and .action == "add" and .flow.path == "/text.txt?one"'
ok "the flow ends as done with status 200" wait_for c1 \
	'.type == "flow" and .flow.path == "/text.txt?one" and .flow.state == "done" and .flow.status == 200'
ID=$(grep '^{' "$T/c1.log" | jq -r 'select(.flow.path == "/text.txt?one") | .flow.id' | head -1)
ok "the event's flow can be read back over REST" test "$(api "/api/flows/$ID" | jq -r .path)" = "/text.txt?one"
ok "event summaries carry the summary fields" wait_for c1 \
	'.flow.path == "/text.txt?one" and (.flow | has("method") and has("host") and has("port") and
	 has("scheme") and has("content_type") and has("timings") and has("tls"))'

fs_curl -o /dev/null "$S/text.txt?tls"
ok "decrypted HTTPS flow arrives with scheme https and tls true" wait_for c1 \
	'.flow.path == "/text.txt?tls" and .flow.scheme == "https" and .flow.tls == true and .flow.status == 200'

for i in 1 2 3 4 5; do fs_curl -o /dev/null "$N/text.txt?many=$i"; done
ok "five more requests, five more flows" wait_for c1 '.flow.path == "/text.txt?many=5" and .flow.state == "done"'
is "one add per flow" "$(grep '^{' "$T/c1.log" | jq -r 'select(.action == "add") | .flow.id' | sort | uniq -d | wc -l)" 0

api "/api/flows/$ID" -X DELETE -o /dev/null
ok "remove event after a delete" wait_for c1 ".type == \"flow\" and .action == \"remove\" and .flow.id == $ID"
api /api/flows -X DELETE -o /dev/null
ok "reset event after a clear" wait_for c1 '.type == "reset"'
ok "every message is one JSON object" sh -c "grep '^{' '$T/c1.log' | jq -e . >/dev/null"

# --- restart: the client sees the end; a new client hears the new flows -----------------------
fs_curl -o /dev/null "$N/text.txt?before-restart"
ok "flow before restart" wait_for c1 '.flow.path == "/text.txt?before-restart" and .flow.state == "done"'
OLD=$(grep '^{' "$T/c1.log" | jq -r 'select(.flow.path == "/text.txt?before-restart") | .flow.id' | head -1)
fs_stop_flowscope
for i in $(seq 1 50); do grep -q '^closed' "$T/c1.log" && break; sleep 0.1; done
ok "the client is told the stream closed" grep -q '^closed' "$T/c1.log"

fs_start_flowscope || done_testing
ok "a new client connects after the restart" start_client c2
is "the old flow is still listed" "$(api /api/flows | jq -r '.flows[0].path')" "/text.txt?before-restart"
fs_curl -o /dev/null "$N/text.txt?after-restart"
ok "events flow again after the restart" wait_for c2 \
	'.flow.path == "/text.txt?after-restart" and .flow.state == "done"'
NEW=$(grep '^{' "$T/c2.log" | jq -r 'select(.flow.path == "/text.txt?after-restart") | .flow.id' | head -1)
ok "ids keep growing across the restart" test "$NEW" -gt "$OLD"
fs_stop_flowscope

done_testing
