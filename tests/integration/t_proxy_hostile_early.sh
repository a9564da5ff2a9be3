#!/bin/bash
# t_proxy_hostile_early.sh - The question this test answers: when an origin answers a large
# upload before reading it (a 401 or 413 to a 5 MB POST), does the client get that answer? The
# proxy must deliver it, then drain the rest of the request body (bounded) instead of closing
# on unread bytes, which resets the connection: the client would see "Send failure: Broken
# pipe" or a reset instead of the status. After a drained body the connection stays usable.
. "$(dirname "$0")/lib.sh"

EARLY_PORT=$(fs_free_port)
cat >"$T/early_origin.py" <<'PY'
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
        if path.endswith(b"/early413"):
            # answers at once, never reads the upload, closes later
            c.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\n"
                      b"Connection: close\r\n\r\ntoo large")
            time.sleep(3)
        elif path.endswith(b"/early404"):
            # answers at once without closing, never reads the upload, closes later
            c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")
            time.sleep(3)
        elif path.endswith(b"/early401"):
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
fs_spawn early_origin python3 "$T/early_origin.py" "$EARLY_PORT"
fs_wait_port "$EARLY_PORT" 10 "$FS_SPAWNED_PID" || ok "the early origin starts" false
fs_start_flowscope || done_testing
E="127.0.0.1:$EARLY_PORT"
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
		out=$(fs_curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T/5mb" "http://$E/$what" 2>&1)
		is "$what: curl prints the origin's $code (try $i)" "$out" "$code"
		out=$(python3 "$T/upload.py" "$PROXY_PORT" "$E" "/$what" | tr '\n' '|')
		is "$what: a plain client sends its whole upload, then reads $code (try $i)" \
			"$out" "sent|$line|"
	done
done

# After the drained body, the same connection carries the next request (the answer did not
# ask to close it).
out=$(python3 "$T/upload.py" "$PROXY_PORT" "$E" /early404 again | tr '\n' '|')
is "after a drained upload: the same connection carries the next request" "$out" \
	"sent|HTTP/1.1 404 Not Found|HTTP/1.1 200 OK|"

if fs_have_flows; then
	ok "flows: the early answers recorded with their status" fs_wait_sql \
		"select count(*) from flows where path like '/early%' and status in (401, 404, 413)" 21
fi
is "after the early answers: the proxy serves a normal request" \
	"$(fs_curl -o /dev/null -w '%{http_code}' "http://$E/ok")" 200
fs_stop_flowscope
done_testing
