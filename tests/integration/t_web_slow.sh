#!/bin/bash
# SPDX-License-Identifier: MIT
# t_web_slow.sh - the question this test answers: can a stalled browser tab slow the proxy or
# the store? One events client stops reading its socket while 100k flows (WEB_SLOW_FLOWS)
# stream through the proxy; another keeps reading. Every request must still be answered and
# stored, flowscope's memory must stay bounded, and when the stalled client reads again it must
# be sent {"type":"reset"} and then go on receiving new events from the head of the stream.
# Every wait is bounded generously (30-60 s): under ASan on a loaded machine the event clients
# may trail the 100k flows by many seconds.
. "$(dirname "$0")/lib.sh"
[ -d "$(dirname "$0")/../node_modules/ws" ] ||
	{ ok "npm package ws is installed (npm install --prefix tests)" false; done_testing; }

FLOWS="${WEB_SLOW_FLOWS:-100000}"
EVJS="$(dirname "$0")/web_events.mjs"
LOADGEN="${WEB_LOADGEN:-${FLOWSCOPE_BUILD:-}/tests/bench/loadgen}"

fs_start_nginx || done_testing
fs_start_flowscope || done_testing
N="http://127.0.0.1:$NGINX_HTTP_PORT"
WS="ws://127.0.0.1:$WEB_PORT/api/events"

fs_spawn slow node "$EVJS" --url "$WS" --header "Authorization: Bearer testtoken" \
	--stall-until "$T/resume" --until-reset --then 1 --timeout 600 --ready "$T/slow.ready"
SLOW=$FS_SPAWNED_PID
fs_spawn fast node "$EVJS" --url "$WS" --header "Authorization: Bearer testtoken" \
	--timeout 600 --ready "$T/fast.ready"
for i in $(seq 1 300); do [ -f "$T/slow.ready" ] && [ -f "$T/fast.ready" ] && break; sleep 0.1; done
ok "both events clients connected" test -f "$T/slow.ready" -a -f "$T/fast.ready"

START=$(date +%s.%N)
if [ -x "$LOADGEN" ]; then
	diag "sending $FLOWS requests with loadgen"
	OUT=$("$LOADGEN" -c 16 -t 2 -d 600 -n "$FLOWS" -x "127.0.0.1:$PROXY_PORT" "$N/text.txt" 2>&1)
else
	diag "sending $FLOWS requests with web_load.mjs (build tests/bench/loadgen for speed)"
	OUT=$(node "$(dirname "$0")/web_load.mjs" "$PROXY_PORT" "$N/text.txt" "$FLOWS" 16 2>&1)
fi
R=$(echo "$OUT" | grep '^RESULT')
[ -n "$R" ] || echo "$OUT" | tail -5 | sed 's/^/#   /' 
diag "$R (in $(echo "$(date +%s.%N) - $START" | bc) s)"
like "every request through the proxy was answered" "$R" "requests=$FLOWS errors=0"
ok "every flow is stored" fs_wait_sql "select count(*) >= $FLOWS from flows" 1 120
HWM=$(fs_hwm_kib "$FS_PID")
diag "flowscope peak RSS ${HWM} KiB"
ok "flowscope memory stayed bounded (< 1.5 GiB peak, ASan included)" test "${HWM:-0}" -lt 1572864
ok "the stalled client is still connected" kill -0 "$SLOW"

touch "$T/resume"
for i in $(seq 1 600); do grep -q '^{"type":"reset"}' "$T/slow.log" && break; sleep 0.1; done
ok "the stalled client is sent a reset once it reads again" grep -q '^{"type":"reset"}' "$T/slow.log"
ok "it got fewer messages than were published (it fell behind)" \
	test "$(grep -c '^{' "$T/slow.log")" -lt $((FLOWS * 2))
fs_curl -o /dev/null "$N/text.txt?after-reset"
for i in $(seq 1 300); do kill -0 "$SLOW" 2>/dev/null || break; sleep 0.1; done
wait "$SLOW" 2>/dev/null
ST=$?
is "after the reset it hears new events from the head" "$ST" 0
ok "the reading client heard the last flow" \
	sh -c "for i in \$(seq 1 600); do grep -q 'after-reset' '$T/fast.log' && exit 0; sleep 0.1; done; exit 1"
fs_stop_flowscope

done_testing
