#!/bin/bash
# SPDX-License-Identifier: MIT
# t_store_unfinished.sh - the question this test answers: when flowscope is killed with SIGKILL
# under load while flows are in flight (waiting for a silent upstream, paused by an intercept
# rule), does the next start end every flow left unfinished with the error "flowscope stopped
# before this flow ended" and no end time, so that no flow stays pending forever and `~e`
# finds them? Flows that were done keep their state.
. "$(dirname "$0")/lib.sh"

MSG="flowscope stopped before this flow ended"
LOADS=()

fs_start_nginx || done_testing
fs_start_flowscope || done_testing
N="http://127.0.0.1:$NGINX_HTTP_PORT"

# An upstream that takes connections and never answers: its flows stay pending.
SILENT_PORT=$(fs_free_port)
fs_spawn silent python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$SILENT_PORT"
fs_wait_port "$SILENT_PORT" 10
for i in 1 2 3; do
	curl -s -o /dev/null --max-time 60 -x "$PROXY" "http://127.0.0.1:$SILENT_PORT/silent$i" &
done
is "rules: intercept /paused" "$(fs_rules '{"intercept":"~q & ~u /paused"}')" 200
curl -s -o /dev/null --max-time 60 -x "$PROXY" "$N/paused" &
# load: many short flows, some of them in flight at the kill
for c in 1 2 3 4; do
	(for i in $(seq 1 400); do curl -s -o /dev/null --max-time 5 -x "$PROXY" "$N/text.txt?c=$c&i=$i"; done) &
	LOADS+=($!)
done
ok "three flows pending on the silent upstream" fs_wait_sql \
	"select count(*) from flows where state='pending' and path like '/silent%'" 3
ok "one flow paused" fs_wait_sql "select count(*) from flows where state='paused'" 1
sleep 0.5
kill -KILL "$FS_PID"
wait "$FS_PID" 2>/dev/null
_fs_forget "$FS_PID"
FS_PID=""
kill "${LOADS[@]}" 2>/dev/null
UNFINISHED=$(fs_sql "select count(*) from flows where state in ('pending','paused')")
DONE=$(fs_sql "select count(*) from flows where state='done'")
diag "left by the killed run: $UNFINISHED unfinished, $DONE done"
ok "the killed run left unfinished flows ($UNFINISHED >= 4)" test "$UNFINISHED" -ge 4

fs_start_flowscope || done_testing
fs_api /api/flows >/dev/null
is "after the restart: no flow pending or paused" \
	"$(fs_sql "select count(*) from flows where state in ('pending','paused')")" 0
is "each ended with the error, no end time" "$(fs_sql "select count(*) from flows where
	state='error' and error='$MSG' and ended_us is null")" "$UNFINISHED"
is "done flows kept" "$(fs_sql "select count(*) from flows where state='done'")" "$DONE"
is "~e finds them" "$(fs_api "/api/flows?filter=~e&limit=1" | jq .total)" "$UNFINISHED"
F=$(fs_api "/api/flows?filter=~u%20/silent1")
is "the API shows the error" "$(echo "$F" | jq -r '.flows[0].error')" "$MSG"
is "the API shows no end" "$(echo "$F" | jq -c '[.flows[0].state, .flows[0].timings.end]')" \
	'["error",null]'
like "the log says so once" "$(grep -c "left unfinished by an earlier run" "$FS_LOG")" '^1$'
fs_stop_flowscope
done_testing
