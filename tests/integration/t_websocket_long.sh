#!/bin/bash
# t_websocket_long.sh - The question this test answers: does a long, busy WebSocket leave the
# proxy's memory where it was and the store writing? One socket echoes 200000 small messages
# (the warm-up: caches and buffers reach their size), then another 400000 (800000 records):
# the proxy's peak memory may not grow past the warm-up's by more than 32 MiB, every message
# is stored, and a plain request made during the flood is stored within 5 s (the writer is not
# held up by the messages).
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
if ! $PY -c 'import websockets' 2>/dev/null; then
	skip "python3-websockets is not installed"
	done_testing
fi
ECHO_PORT=$(fs_free_port)
fs_spawn "wsecho" $PY "$FS_DATA/wsecho.py" --port "$ECHO_PORT"
fs_wait_port "$ECHO_PORT" 10 "$FS_SPAWNED_PID" || { ok "echo origin starts" false; done_testing; }
fs_start_flowscope || done_testing

ok "warm-up: 200000 messages echoed" timeout 120 $PY "$FS_DATA/wsflood.py" "$PROXY_PORT" \
	localhost "$ECHO_PORT" 200000 /warm
ok "warm-up: all stored" fs_wait_sql \
	"select count(*) from ws_messages join flows on flows.id=flow_id where path='/warm'" 400000 30
warm=$(fs_hwm_kib "$FS_PID")
diag "peak memory after the warm-up: $warm KiB"

timeout 120 $PY "$FS_DATA/wsflood.py" "$PROXY_PORT" localhost "$ECHO_PORT" 400000 /long \
	>"$T/flood.out" 2>&1 &
flood=$!
fs_remember "$flood"
sleep 2
is "a request during the flood is answered" \
	"$(fs_curl -o /dev/null -w '%{http_code}' "http://localhost:$ECHO_PORT/page.html")" 200
ok "... and stored within 5 s" fs_wait_sql \
	"select count(*) from flows where path='/page.html' and status=200" 1 5
wait "$flood"
is "the flood: 400000 messages echoed ($(cat "$T/flood.out"))" "$?" 0
fs_forget "$flood"
ok "the flood: all 800000 records stored" fs_wait_sql \
	"select count(*) from ws_messages join flows on flows.id=flow_id where path='/long'" 800000 60
peak=$(fs_hwm_kib "$FS_PID")
diag "peak memory after the flood: $peak KiB (+$((peak - warm)) KiB)"
if ldd "$FLOWSCOPE_BIN" 2>/dev/null | grep -q libasan; then
	skip "peak memory: AddressSanitizer's quarantine keeps freed memory (a sanitized build)"
else
	ok "the proxy's peak memory grew by less than 32 MiB" test $((peak - warm)) -lt 32768
fi

fs_stop_flowscope
done_testing
