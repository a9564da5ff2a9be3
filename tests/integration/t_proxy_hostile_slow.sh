#!/bin/bash
# t_proxy_hostile_slow.sh - The question this test answers: are slow clients timed out as
# nginx's client_header_timeout and client_body_timeout do (FLOWSCOPE_TIMEOUT, here 2 s, sets
# both)? A head trickled one byte at a time must be whole within the bound, however steady the
# trickle; a request body must make progress within the idle timeout (a slow but steady upload
# passes). On expiry the client gets 408, the flow is recorded with the error, the connection
# closes, and the proxy serves on.
. "$(dirname "$0")/lib.sh"

fs_start_origin || done_testing
SILENT_PORT=$(fs_free_port)
# an origin that takes connections and never says a word
fs_spawn silent python3 -c 'import socket, sys, time
srv = socket.create_server(("127.0.0.1", int(sys.argv[1])))
conns = [srv.accept() for _ in range(8)]
time.sleep(60)' "$SILENT_PORT"
fs_wait_port "$SILENT_PORT" 10 "$FS_SPAWNED_PID" || ok "silent listener starts" false
FLOWSCOPE_TIMEOUT=2 fs_start_flowscope || done_testing
O="127.0.0.1:$ORIGIN_PORT"

# slow.py MODE N: N clients at once; prints one line per client: "<seconds to close> <status>"
# (status "-" when nothing came back). MODE head: the head one byte per 0.4 s, never ending;
# stall: a POST announcing 100 bytes, 3 sent, then silence; expect: a POST that waits for
# 100 Continue before its body; steady: a POST of 10 bytes, one per
# 0.4 s (4 s in all, each byte within the idle timeout). Gives up on a client after 12 s.
cat >"$T/slow.py" <<'PY'
import socket, sys, threading, time
mode, n, port, origin = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
out = [None] * n

def client(i):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(0.2)
    t0 = time.monotonic()
    got = b""
    if mode == "head":
        todo = b"GET http://%s/status/200 HTTP/1.1\r\nHost: %s\r\nX-Slow: " % (origin.encode(), origin.encode()) + b"a" * 1000
    elif mode == "expect":
        s.sendall(b"POST http://%s/echo HTTP/1.1\r\nHost: %s\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n" % (origin.encode(), origin.encode()))
        todo = b""
    elif mode == "stall":
        s.sendall(b"POST http://%s/echo HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n\r\nabc" % (origin.encode(), origin.encode()))
        todo = b""
    else:
        s.sendall(b"POST http://%s/echo HTTP/1.1\r\nHost: %s\r\nContent-Length: 10\r\n\r\n" % (origin.encode(), origin.encode()))
        todo = b"0123456789"
    closed = False
    next_send = t0
    while time.monotonic() - t0 < 12:
        if todo and time.monotonic() >= next_send:
            try:
                s.send(todo[:1])
            except OSError:
                closed = True
                break
            todo = todo[1:]
            next_send += 0.4
        try:
            b = s.recv(65536)
            if not b:
                closed = True
                break
            got += b
            if mode == "steady" and b"\r\n\r\n0123456789" in got:
                break
        except socket.timeout:
            pass
        except OSError:
            closed = True
            break
    status = got.split(b" ")[1].decode() if got.startswith(b"HTTP/1.1 ") else "-"
    out[i] = "%.1f %s %s" % (time.monotonic() - t0, status, "closed" if closed else "open")
    s.close()

ts = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(out))
PY

slow() { python3 "$T/slow.py" "$1" "$2" "$PROXY_PORT" "$O"; }

# A head trickled one byte per 0.4 s: never idle for 2 s, but never whole.
res=$(slow head 50)
diag "trickled heads (seconds, status, closed): $(echo "$res" | sort | uniq -c | sort -rn | head -3 | tr '\n' ';')"
is "50 trickled heads: every connection closed" "$(echo "$res" | grep -c ' closed$')" 50
is "50 trickled heads: every client told 408" "$(echo "$res" | grep -c ' 408 ')" 50
ok "50 trickled heads: closed after the 2 s bound, within 5 s" \
	awk '$1 < 1.5 || $1 > 5 { bad = 1 } END { exit bad }' <<<"$res"

# A body announced as 100 bytes stalls after 3.
res=$(slow stall 1)
diag "stalled body: $res"
like "a stalled body: 408 and closed within 2..5 s" "$res" '^[2-4]\.[0-9] 408 closed$'

# A client that waits for 100 Continue from an origin that never answers: the origin's fault.
res=$(python3 "$T/slow.py" expect 1 "$PROXY_PORT" "127.0.0.1:$SILENT_PORT")
diag "waiting for 100 Continue: $res"
like "no 100 Continue from the origin: 504 (not 408) and closed within 2..5 s" "$res" \
	'^[2-4]\.[0-9] 504 closed$'

# A slow but steady body passes: 10 bytes over 4 s, each within the idle timeout.
res=$(slow steady 1)
diag "steady body: $res"
like "a slow but steady body: answered 200 by the origin" "$res" ' 200 '

if fs_have_flows; then
	ok "flows: the trickled heads recorded as incomplete requests" fs_wait_sql \
		"select count(*) >= 50 from flows where state='error' and error like 'client sent an incomplete request%'" 1
	ok "flows: the stalled body recorded with the error" fs_wait_sql \
		"select count(*) from flows where method='POST' and state='error' and error like '%request body%'" 1
	ok "flows: the steady body recorded whole" fs_wait_sql \
		"select count(*) from flows where method='POST' and status=200 and state='done'" 1
fi
is "after the slow clients: the proxy serves a normal request" \
	"$(fs_curl -o /dev/null -w '%{http_code}' "http://$O/status/200")" 200
fs_stop_flowscope
done_testing
