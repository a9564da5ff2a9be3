#!/bin/bash
# t_proxy_timeout.sh - The question this test answers: when the far side goes silent - an
# origin that never answers a request, a TLS origin that accepts TCP and never speaks TLS - does
# flowscope give up after its timeout (FLOWSCOPE_TIMEOUT, here 2 s), tell the client with a
# 502/504 page naming the timeout, record the error, and keep serving meanwhile?
. "$(dirname "$0")/lib.sh"

fs_start_nginx || done_testing
fs_start_origin || done_testing
SILENT_PORT=$(fs_free_port)
fs_spawn silent python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
held = []
while True:
    held.append(s.accept())
' "$SILENT_PORT"
fs_wait_port "$SILENT_PORT" 10 "$FS_SPAWNED_PID" || ok "silent listener starts" false
FLOWSCOPE_TIMEOUT=2 fs_start_flowscope || done_testing

# timed DESC URL: the client is told within 2..8 s, with a page naming the timeout.
timed() {
	local desc="$1" url="$2" t0 ms out code connect
	t0=$(date +%s%N)
	out=$(fs_curl --max-time 15 -w '\n%{http_code} %{http_connect}' "$url" 2>"$T/curl.err")
	ms=$((($(date +%s%N) - t0) / 1000000))
	code=$(printf '%s' "$out" | tail -1 | cut -d' ' -f1)
	connect=$(printf '%s' "$out" | tail -1 | cut -d' ' -f2)
	ok "$desc: client gets 502 or 504 (request $code, CONNECT $connect)" \
		[ "$code" = 502 -o "$code" = 504 -o "$connect" = 502 -o "$connect" = 504 ] ||
		diag "curl: $(head -c 200 "$T/curl.err")"
	ok "$desc: answered after the 2 s timeout, not long after (took $ms ms)" \
		[ "$ms" -ge 1500 -a "$ms" -le 8000 ]
	like "$desc: the page names the timeout" "$(printf '%s' "$out" | tr A-Z a-z)" '(time|within [0-9]+ s)'
}

# While one request waits on the slow origin, others pass.
fs_curl -o /dev/null "http://localhost:$ORIGIN_PORT/slow/10" &
bg=$!
sleep 0.3
is "a normal request passes while another waits on a silent origin" \
	"$(fs_curl -o /dev/null -w '%{http_code}' "http://localhost:$NGINX_HTTP_PORT/1k")" 200
wait "$bg"

timed "origin never answers the request (http)" "http://localhost:$ORIGIN_PORT/slow/10"
timed "origin accepts TCP but never speaks TLS (https)" "https://localhost:$SILENT_PORT/"
if fs_have_flows; then
	ok "flows: the timed-out request recorded as an error" fs_wait_sql \
		"select count(*) > 0 from flows where port=$ORIGIN_PORT and path like '/slow/%' and state='error' and length(error) > 0" 1
	ok "flows: the TLS handshake timeout recorded as an error" fs_wait_sql \
		"select count(*) > 0 from flows where port=$SILENT_PORT and state='error' and length(error) > 0" 1
fi
is "after the timeouts: the proxy still serves" \
	"$(fs_curl -o /dev/null -w '%{http_code}' "https://localhost:$NGINX_HTTPS_PORT/1k")" 200

# An idle client connection is closed after the timeout.
t0=$(date +%s%N)
(exec 3<>"/dev/tcp/127.0.0.1/$PROXY_PORT" && timeout 10 cat <&3 >/dev/null) 2>/dev/null
ms=$((($(date +%s%N) - t0) / 1000000))
ok "an idle client connection is closed after about the timeout (took $ms ms)" \
	[ "$ms" -ge 1500 -a "$ms" -le 8000 ]

# A keep-alive client whose answer took most of the timeout still has the whole idle timeout
# after it: its read timeout, left armed while the origin answered, starts again. Timeout 6 s,
# an answer after 3.5 s, the next request on the same connection 4 s after that answer.
fs_stop_flowscope
FLOWSCOPE_TIMEOUT=6 fs_start_flowscope || done_testing
res=$(python3 - "$PROXY_PORT" "$ORIGIN_PORT" <<'EOF2'
import socket, sys, time
proxy, origin = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", proxy), timeout=20)
def ask(path):
    s.sendall(("GET http://127.0.0.1:%d%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
               % (origin, path, origin)).encode())
    buf = b""
    while b"slow done\n" not in buf:
        try:
            more = s.recv(65536)
        except OSError:
            more = b""
        if not more:
            return "closed"
        buf += more
    return "answered"
first = ask("/slow/3.5")
time.sleep(4)
print(first, ask("/slow/0"))
EOF2
)
is "a slow answer, then 4 s idle: the next request is answered on the same connection" \
	"$res" "answered answered"

fs_stop_flowscope
done_testing
