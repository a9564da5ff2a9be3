#!/bin/bash
# t_proxy_hostile_origin.sh - The question this test answers: does the proxy stand between the
# client and a badly behaved origin as a well-kept proxy does?
#  - A response head over 64 KiB, or one broken after its first bytes, becomes the 502 page
#    naming the cause (nothing of it forwarded, the flow recorded with the error), as every
#    other upstream failure does.
#  - An origin that answers a large upload before reading it (a 401, 404 or 413 to a 5 MB
#    POST) has its answer delivered: the proxy drains the rest of the request body instead of
#    closing on unread bytes (which resets the connection: "Send failure: Broken pipe" or a
#    reset instead of the status), and the connection carries the next request.
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
        elif path == b"/early413":
            # answers at once, never reads the upload, closes later
            c.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\n"
                      b"Connection: close\r\n\r\ntoo large")
            time.sleep(3)
        elif path == b"/early404":
            # answers at once without closing, never reads the upload, closes later
            c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")
            time.sleep(3)
        elif path == b"/early401":
            # answers at once and closes with the upload unread (a reset)
            c.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 7\r\n"
                      b"Connection: close\r\n\r\nnot you")
        else:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
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

# --- early answers to a 5 MB upload -------------------------------------------------------
head -c 5000000 /dev/zero >"$T/5mb"

# upload.py PATH [again]: POSTs 5 MB through the proxy the plain way (send all, then read);
# prints "sent" or the send error, then the status line it read (or the read error); with
# "again", then the status line of a second request on the same connection.
cat >"$T/upload.py" <<'PY'
import socket, sys
port, origin, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = b"x" * 5000000
s = socket.create_connection(("127.0.0.1", port), timeout=10)
try:
    s.sendall(b"POST http://%s%s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n"
              % (origin.encode(), path.encode(), origin.encode(), len(body)) + body)
    print("sent")
except OSError as e:
    print("send failed: %s" % e)
got = b""
try:
    while b"\r\n\r\n" not in got:
        b = s.recv(65536)
        if not b:
            break
        got += b
    print(got.split(b"\r\n")[0].decode() or "nothing")
    if len(sys.argv) > 4:
        s.sendall(b"GET http://%s/ok HTTP/1.1\r\nHost: %s\r\n\r\n" % (origin.encode(), origin.encode()))
        got = s.recv(65536)
        print(got.split(b"\r\n")[0].decode() or "nothing")
except OSError as e:
    print("read failed: %s" % e)
PY
for what in early413 early401; do
	code=${what#early}
	line="HTTP/1.1 413 Payload Too Large"
	[ "$code" = 401 ] && line="HTTP/1.1 401 Unauthorized"
	for i in 1 2 3 4 5; do
		out=$(fs_curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T/5mb" "http://$B/$what" 2>&1)
		is "$what: curl prints the origin's $code (try $i)" "$out" "$code"
		out=$(python3 "$T/upload.py" "$PROXY_PORT" "$B" "/$what" | tr '\n' '|')
		is "$what: a plain client sends its whole upload, then reads $code (try $i)" \
			"$out" "sent|$line|"
	done
done

# After the drained body, the same connection carries the next request (the answer did not
# ask to close it).
out=$(python3 "$T/upload.py" "$PROXY_PORT" "$B" /early404 again | tr '\n' '|')
is "after a drained upload: the same connection carries the next request" "$out" \
	"sent|HTTP/1.1 404 Not Found|HTTP/1.1 200 OK|"

if fs_have_flows; then
	ok "flows: the early answers recorded with their status" fs_wait_sql \
		"select count(*) from flows where path like '/early%' and status in (401, 404, 413)" 21
fi
is "after the bad origins: the proxy serves a normal request" \
	"$(fs_curl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ORIGIN_PORT/status/200")" 200
fs_stop_flowscope
done_testing
