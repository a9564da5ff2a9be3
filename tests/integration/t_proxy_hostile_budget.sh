#!/bin/bash
# t_proxy_hostile_budget.sh - The question this test answers: can paused flows eat the machine?
# With an intercept rule that matches everything and --intercept-budget 1m, 200 uploads of
# 64 KiB must not all be held: those past the budget go through unpaused, recorded with a note
# that says why, and once the paused ones are resumed the budget is free again.
. "$(dirname "$0")/lib.sh"

# An origin for 200 clients at once: reads each request body, answers 200.
SINK_PORT=$(fs_free_port)
cat >"$T/sink.py" <<'PY'
import socket, sys, threading
def serve(c):
    with c, c.makefile("rb") as f:
        n = 0
        for line in iter(f.readline, b"\r\n"):
            if not line:
                return
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
        f.read(n)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1024)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
PY
fs_spawn sink python3 "$T/sink.py" "$SINK_PORT"
fs_wait_port "$SINK_PORT" 10 "$FS_SPAWNED_PID" || ok "the origin starts" false
fs_start_flowscope --intercept-budget 1m || done_testing
O="127.0.0.1:$SINK_PORT"
is "rules: intercept every /echo request" "$(fs_rules '{"intercept":"~q & ~u /echo"}')" 200

# post.py N SECS: N clients at once POST 64 KiB to /echo; each prints its status, or "held"
# when no answer came within SECS.
cat >"$T/post.py" <<'PY'
import socket, sys, threading
port, origin, n, secs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
out = ["?"] * n
body = b"b" * 65536
def client(i):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=secs)
        s.sendall(b"POST http://%s/echo?%d HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n"
                  % (origin.encode(), i, origin.encode(), len(body)) + body)
        got = s.recv(64)
        out[i] = got.split(b" ")[1].decode() if got.startswith(b"HTTP/1.1 ") else "closed"
    except socket.timeout:
        out[i] = "held"
    except OSError as e:
        out[i] = "error"
ts = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(out))
PY
python3 "$T/post.py" "$PROXY_PORT" "$O" 200 20 >"$T/post.out" &
POST_PID=$!
fs_remember "$POST_PID"
# The uploads past the budget are answered at once, the others wait paused.
fs_wait_sql "select count(*) from flows where path like '/echo%' and (state='paused' or status=200)" 200 15
paused=$(fs_sql "select count(*) from flows where state='paused'")
noted=$(fs_sql "select count(*) from flows where status=200 and error like '%intercept budget%'")
diag "200 uploads of 64 KiB against a 1 MiB budget: $paused paused, $noted answered with a note"
ok "a 1 MiB budget pauses at most 16 uploads of 64 KiB (paused $paused)" \
	[ "$paused" -ge 1 -a "$paused" -le 16 ]
is "flows: every upload past the budget answered, recorded with a note naming the budget" \
	"$((paused + noted))" 200
ok "the log says why, naming the budget" grep -q 'intercept budget (1048576 bytes) is used up' "$FS_LOG"

# Resumed, the paused uploads are answered, and the budget is free for the next match.
for id in $(fs_sql "select id from flows where state='paused'"); do
	fs_api_code "/api/flows/$id/resume" -X POST >/dev/null
done
wait "$POST_PID"
fs_forget "$POST_PID"
is "every client got its 200" "$(grep -c '^200$' "$T/post.out")" 200
res=$(python3 "$T/post.py" "$PROXY_PORT" "$O" 1 3)
is "after the resumes the budget is free: a new match is paused again" "$res" held
fs_stop_flowscope
done_testing
