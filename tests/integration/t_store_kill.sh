#!/bin/bash
# t_store_kill.sh - The question this test answers: when flowscope is killed with SIGKILL in the
# middle of heavy traffic, is the database still sound (PRAGMA integrity_check) and does it hold
# every flow that completed more than a second before the kill (at most the last batch lost)?
# And does a restart on that file work and continue the ids?
. "$(dirname "$0")/lib.sh"

NGINX_WORKERS=2 fs_start_nginx || done_testing
fs_start_flowscope || done_testing

# Load: 6 keep-alive clients through the proxy; the completed count goes to $T/count.
cat >"$T/load.py" <<'PY'
import http.client, sys, threading, time
proxy_port, origin_port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
done = [0]
lock = threading.Lock()
def client(n):
    conn = None
    i = 0
    while True:
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=5)
            conn.request("GET", "http://localhost:%d/text.txt?c=%d&i=%d" % (origin_port, n, i))
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                with lock:
                    done[0] += 1
            i += 1
        except Exception:
            conn = None
            time.sleep(0.05)
for n in range(6):
    threading.Thread(target=client, args=(n,), daemon=True).start()
while True:
    with open(out + ".tmp", "w") as f:
        f.write("%d\n" % done[0])
    import os
    os.replace(out + ".tmp", out)
    time.sleep(0.02)
PY
fs_spawn load python3 "$T/load.py" "$PROXY_PORT" "$NGINX_HTTP_PORT" "$T/count"
LOAD_PID=$FS_SPAWNED_PID
# until the clients are well under way (python and its six threads start slowly on a loaded
# machine: a fixed 3 s was not always enough); then the count a second before the kill
completed() { [ "$(cat "$T/count" 2>/dev/null || echo 0)" -gt 300 ]; }
fs_poll 60 completed
C1=$(cat "$T/count" 2>/dev/null || echo 0)
sleep 1 # the second before the kill: flows completed before it must all be stored
C2=$(cat "$T/count" 2>/dev/null || echo 0)
kill -KILL "$FS_PID"
wait "$FS_PID" 2>/dev/null
_fs_forget "$FS_PID"
FS_PID=""
fs_kill "$LOAD_PID"
diag "completed by the clients: $C1 one second before the kill, $C2 at the kill"
ok "the clients completed requests under load" test "$C1" -gt 100

is "integrity_check after SIGKILL" "$(fs_sql "pragma integrity_check")" ok
DONE=$(fs_sql "select count(*) from flows where state='done' and path like '/text.txt?c=%'")
ALL=$(fs_sql "select count(*) from flows where path like '/text.txt?c=%'")
diag "stored: $DONE done, $ALL in all"
ok "every flow completed a second before the kill is stored done ($DONE >= $C1)" \
	test "$DONE" -ge "$C1"
is "no flow stored twice" "$(fs_sql "select count(*) - count(distinct path) from flows")" 0
is "the cached total matches the table" "$(fs_sql "select (select n from counts where k=1) = count(*)
	from flows")" 1
MAX=$(fs_sql "select max(id) from flows")

fs_start_flowscope || done_testing
ok "GET after the restart" fs_curl -o /dev/null "http://localhost:$NGINX_HTTP_PORT/text.txt?after=kill"
ok "the new flow is stored" fs_wait_sql "select count(*) from flows where path='/text.txt?after=kill'" 1
is "its id continues after the old ones" "$(fs_sql "select id > $MAX from flows where
	path='/text.txt?after=kill'")" 1
fs_stop_flowscope
is "integrity_check after the restart" "$(fs_sql "pragma integrity_check")" ok
done_testing
