#!/bin/bash
# t_proxy_hostile_origin.sh - The question this test answers: does a response head over 64 KiB,
# or one broken after its first bytes, become the 502 page naming the cause - nothing of it
# forwarded, the flow recorded with the error - as every other upstream failure does?
. "$(dirname "$0")/lib.sh"

BAD_PORT=$(fs_free_port)
cat >"$T/bad_origin.py" <<'PY'
import socket, sys, threading, time
port = int(sys.argv[1])

def serve(c):
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            b = c.recv(4096)
            if not b:
                return
            head += b
        path = head.split(b" ")[1]
        if path.startswith(b"http://"):
            path = b"/" + path.split(b"/", 3)[3]
        if path == b"/bighead":
            c.sendall(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (70 * 1024) +
                      b"\r\nContent-Length: 2\r\n\r\nok")
            time.sleep(1)
        elif path == b"/brokenhead":
            c.sendall(b"HTTP/1.1 200 OK\r\nX-A: 1\r\n")
            time.sleep(0.5)
            c.sendall(b"Bad Header\r\n\r\nok")
            time.sleep(1)
    finally:
        c.close()

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
fs_spawn bad_origin python3 "$T/bad_origin.py" "$BAD_PORT"
fs_wait_port "$BAD_PORT" 10 "$FS_SPAWNED_PID" || ok "the bad origin starts" false
fs_start_origin || done_testing
fs_start_flowscope || done_testing
B="127.0.0.1:$BAD_PORT"

# --- response heads -------------------------------------------------------------------------
for what in bighead brokenhead; do
	out=$(fs_curl -s -D "$T/$what.h" "http://$B/$what")
	is "$what: the client gets a 502" "$(head -1 "$T/$what.h" | tr -d '\r')" "HTTP/1.1 502 Bad Gateway"
	like "$what: the page names the cause" "$out" 'invalid response.*(too large|header|Invalid)'
	ok "$what: nothing of the origin's head reached the client" \
		bash -c "! grep -qi '^X-' '$T/$what.h'"
done
if fs_have_flows; then
	ok "flows: the oversize head recorded with its error" fs_wait_sql \
		"select count(*) from flows where path='/bighead' and state='error' and error like '%too large%'" 1
	ok "flows: the broken head recorded with its error" fs_wait_sql \
		"select count(*) from flows where path='/brokenhead' and state='error' and error like '%invalid response%'" 1
fi

is "after the bad origins: the proxy serves a normal request" \
	"$(fs_curl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ORIGIN_PORT/status/200")" 200
fs_stop_flowscope
done_testing
