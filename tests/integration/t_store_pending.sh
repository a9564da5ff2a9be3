#!/bin/bash
# SPDX-License-Identifier: MIT
# t_store_pending.sh - the question this test answers: now that a flow's BEGIN is put off for
# a moment and dropped when the response comes first (proxy/exchange/begins.h), is every
# flow still recorded exactly once, done, whether its response came at once or late; and does a
# flow whose origin is slow still show as pending in the store well before its response?
. "$(dirname "$0")/lib.sh"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

fs_start_origin || done_testing
fs_start_origin --tls || done_testing
fs_start_flowscope || done_testing
O="http://127.0.0.1:$ORIGIN_PORT"

# Fast flows, kept-alive and decrypted: their END comes before the BEGIN would have.
URLS=()
for i in $(seq 1 60); do URLS+=("$O/headers?fast=$i"); done
fs_curl -s "${URLS[@]}" >/dev/null
URLS=()
for i in $(seq 1 40); do URLS+=("https://localhost:$ORIGIN_TLS_PORT/headers?tls=$i"); done
fs_curl -s "${URLS[@]}" >/dev/null
ok "100 fast flows stored, done" fs_wait_sql \
	"select count(*) from flows where state='done' and status=200 and path like '/headers?%'" 100
is "each fast flow once" "$(fs_sql "select count(distinct path) || ' ' || count(*) from flows where path like '/headers?%'")" "100 100"
is "none pending" "$(fs_sql "select count(*) from flows where state='pending'")" 0
is "the flow count kept by the writer" "$(fs_sql "select n from counts where k=1")" \
	"$(fs_sql "select count(*) from flows")"

# A slow origin: the flow is pending in the store within a second, long before it ends.
T0=$(now_ms)
fs_curl -s -o /dev/null "$O/slow/4" &
SLOW=$!
fs_remember "$SLOW"
ok "the slow flow shows pending before its response" fs_wait_sql \
	"select count(*) from flows where path='/slow/4' and state='pending'" 1 3
SEEN=$(($(now_ms) - T0))
diag "the slow flow was listed pending after $SEEN ms"
ok "... within 2 s of the request (the response takes 4 s)" test "$SEEN" -lt 2000
is "listed by the API as pending too" \
	"$(fs_api "/api/flows?filter=~u%20/slow/4" | jq -r '.flows[0].state')" pending
wait "$SLOW"
fs_forget "$SLOW"
ok "then done, one row" fs_wait_sql "select count(*) from flows where path='/slow/4' and state='done'" 1
is "one row for it" "$(fs_sql "select count(*) from flows where path='/slow/4'")" 1
is "nothing dropped" "$(fs_api /api/stats | jq -c '[.dropped, .error]')" '[0,null]'
fs_stop_flowscope
done_testing
