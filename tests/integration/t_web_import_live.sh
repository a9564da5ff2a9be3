#!/bin/bash
# SPDX-License-Identifier: MIT
# t_web_import_live.sh - the question this test answers: while a large HAR import is written,
# do the flows the proxy records meanwhile show in the list soon, rather than after the whole
# import? The import is handed to the store in small slices, each only while the store's queue
# is short, so a live flow waits behind a slice or two, not behind the import: the store's
# queue (GET /api/stats, "queued") stays under that bound all along, and every live flow is
# listed while the import is still being written. The import's answer still comes after all
# of its flows are committed (the next read lists them all).
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || { ok "jq is installed" false; done_testing; }
NBIG=${WEB_IMPORT_LIVE:-100000}
# the import's slices (web/server/harimport.c: IMPORT_QUEUE_LOW + IMPORT_PIECE, 1000 + 500)
# and the few events of the live flows themselves
QUEUE_BOUND=${WEB_IMPORT_QUEUE_BOUND:-1600}
python3 "$FS_DATA/make_har.py" "$NBIG" big.example t_web_import_live hello >"$T/big.har"
fs_start_origin || done_testing
fs_start_flowscope || done_testing

imported() { fs_sql "select count(*) from flows where host='big.example'"; }
listed() { fs_api "/api/flows?filter=$1" | jq .total; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
storing() { [ "$(imported)" -gt 0 ]; }

T0=$(now_ms)
curl -sS --max-time 600 -H "Authorization: Bearer testtoken" -H 'Expect:' \
	-H 'Content-Type: application/json' --data-binary "@$T/big.har" -o "$T/big.out" \
	-w '%{http_code}' "http://127.0.0.1:$WEB_PORT/api/har" >"$T/big.code" 2>/dev/null &
CURL_PID=$!
fs_remember "$CURL_PID"
ok "the import is being stored" fs_poll 120 storing
T1=$(now_ms)

# While the import runs: the queue's length as /api/stats says it, and three live flows sent
# together as soon as the import is being stored (one after another, the last could come after
# a fast import's end), each then waited for in the list (filter ~u live=N).
MAXQ=0
LIVE=0
LATE=0
LATENCIES=""
queue_sample() {
	local q
	q=$(fs_api /api/stats | jq -r .queued)
	[ -n "$q" ] && [ "$q" != null ] && [ "$q" -gt "$MAXQ" ] && MAXQ=$q
}
S=$(now_ms)
for i in 0 1 2; do
	fs_curl -s -o /dev/null "http://127.0.0.1:$ORIGIN_PORT/status/200?live=$i" &
	LIVE_PIDS[i]=$!
done
for i in 0 1 2; do
	until [ "$(listed "~u%20live%3D$i%24")" = 1 ]; do
		queue_sample
		[ $(($(now_ms) - S)) -gt 60000 ] && break
	done
	kill -0 "$CURL_PID" 2>/dev/null || LATE=$((LATE + 1))
	LATENCIES="$LATENCIES $(($(now_ms) - S))"
	LIVE=$((LIVE + 1))
done
for i in 0 1 2; do wait "${LIVE_PIDS[i]}"; done
while kill -0 "$CURL_PID" 2>/dev/null; do
	queue_sample
done
wait "$CURL_PID"
fs_forget "$CURL_PID"
T2=$(now_ms)
# read once: the contract is that the answer comes after every imported flow is committed
TOTAL=$(fs_api /api/flows | jq .total)
diag "import of $NBIG entries answered after $((T2 - T0)) ms (stored from $((T1 - T0)) ms on);" \
	"live flows listed after:$LATENCIES ms; the store's queue at most $MAXQ events"
is "import: 200" "$(cat "$T/big.code")" 200
is "import: every entry" "$(jq -c . "$T/big.out")" "{\"imported\":$NBIG,\"skipped\":0}"
is "once answered, the list holds the import and the live flows" "$TOTAL" $((NBIG + LIVE))
ok "live flows were sent during the import ($LIVE)" test "$LIVE" -ge 1
is "each live flow was listed while the import was still written" "$LATE" 0
ok "the store's queue stayed under $QUEUE_BOUND events (at most $MAXQ)" \
	test "$MAXQ" -le "$QUEUE_BOUND"
is "nothing dropped" "$(fs_api /api/stats | jq -c '[.dropped, .error]')" '[0,null]'
fs_stop_flowscope
done_testing
