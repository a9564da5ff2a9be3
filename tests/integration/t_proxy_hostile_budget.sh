#!/bin/bash
# t_proxy_hostile_budget.sh - The question this test answers: can paused flows eat the machine?
# With an intercept rule that matches everything and --intercept-budget 1m, 200 uploads of
# 64 KiB must not all be held: those past the budget go through unpaused, recorded with a note
# that says why, and once the paused ones are resumed the budget is free again. The same for
# 200 intercepted responses of 64 KiB.
. "$(dirname "$0")/lib.sh"

# An origin for 200 clients at once: reads each request body, answers 200 (with 64 KiB for
# /big, else "ok").
SINK_PORT=$(fs_free_port)
cat >"$T/sink.py" <<'PY'
import socket, sys, threading
def serve(c):
    with c, c.makefile("rb") as f:
        n = 0
        big = b" /big" in f.readline()
        for line in iter(f.readline, b"\r\n"):
            if not line:
                return
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
        f.read(n)
        body = b"r" * 65536 if big else b"ok"
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                  % (len(body), body))
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

# post.py N SECS [PATH]: N clients at once POST 64 KiB to /echo (or GET PATH); each prints its
# status, or "held" when no answer came within SECS.
cat >"$T/post.py" <<'PY'
import socket, sys, threading
port, origin, n, secs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
out = ["?"] * n
body = b"b" * 65536
get = sys.argv[5].encode() if len(sys.argv) > 5 else None
def client(i):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=secs)
        if get:
            s.sendall(b"GET http://%s%s?%d HTTP/1.1\r\nHost: %s\r\n\r\n"
                      % (origin.encode(), get, i, origin.encode()))
        else:
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
# against_budget WHAT SIDE PATH [GET]: 200 clients at once (uploads to /echo, or downloads of
# GET); those past the budget are answered at once, noted on their flow (SIDE: request or
# response), the others wait paused until resumed here.
against_budget() {
	local what="$1" side="$2" path="$3" pid paused noted
	python3 "$T/post.py" "$PROXY_PORT" "$O" 200 20 ${4:-} >"$T/$what.out" &
	pid=$!
	fs_remember "$pid"
	# wait for what is checked below: each flow paused, or answered with the budget's note
	fs_wait_sql "select count(*) from flows where path like '$path%' and (state='paused' or
		(status=200 and error like '%intercept budget%($side)'))" 200 15
	paused=$(fs_sql "select count(*) from flows where path like '$path%' and state='paused'")
	noted=$(fs_sql "select count(*) from flows where path like '$path%' and status=200 and error like '%intercept budget%($side)'")
	diag "200 $what of 64 KiB against a 1 MiB budget: $paused paused, $noted answered with a note"
	ok "$what: a 1 MiB budget pauses at most 16 of 64 KiB (paused $paused)" \
		[ "$paused" -ge 1 -a "$paused" -le 16 ]
	is "$what: every one past the budget answered, its flow noting the budget" \
		"$((paused + noted))" 200
	for id in $(fs_sql "select id from flows where state='paused'"); do
		fs_api_code "/api/flows/$id/resume" -X POST >/dev/null
	done
	wait "$pid"
	fs_forget "$pid"
	is "$what: resumed, every client got its 200" "$(grep -c '^200$' "$T/$what.out")" 200
}

against_budget uploads request /echo
ok "the log says why, naming the budget" grep -q 'intercept budget (1048576 bytes) is used up' "$FS_LOG"
res=$(python3 "$T/post.py" "$PROXY_PORT" "$O" 1 3)
is "after the resumes the budget is free: a new match is paused again" "$res" held

# Responses share the budget.
is "rules: intercept every /big response" "$(fs_rules '{"intercept":"~s & ~u /big"}')" 200
against_budget downloads response /big /big
fs_stop_flowscope
done_testing
