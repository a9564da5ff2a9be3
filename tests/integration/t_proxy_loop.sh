#!/bin/bash
# t_proxy_loop.sh - The question this test answers: does flowscope refuse to proxy requests
# addressed to its own proxy port or its web UI port (the SSRF route to mitmweb's API,
# CVE-2025-23217), by IP and by name, plain and via CONNECT, without looping, and keep
# serving afterwards?
. "$(dirname "$0")/lib.sh"

fs_start_nginx || done_testing
fs_start_flowscope || done_testing

# While the web UI is not listening (a build without it), a sentinel origin takes the web
# port, so that "refused" cannot be mistaken for "connection refused by nobody listening":
# the sentinel must never see a request.
SENTINEL=""
if ! fs_wait_port "$WEB_PORT" 1; then
	diag "nothing listens on the web port $WEB_PORT: a sentinel origin takes it"
	fs_spawn sentinel python3 "$FS_DATA/origin.py" --port "$WEB_PORT"
	SENTINEL=$FS_SPAWNED_PID
	fs_wait_port "$WEB_PORT" 10 "$SENTINEL" || ok "sentinel origin starts" false
fi

refused() {
	local desc="$1" url="$2" out code connect
	out=$(fs_curl --max-time 10 -o /dev/null -w '%{http_code} %{http_connect}' "$url" 2>/dev/null)
	code=${out%% *}
	connect=${out##* }
	ok "$desc: refused with an error status (got request $code, CONNECT $connect)" \
		[ "${code:-000}" -ge 400 -o "${connect:-000}" -ge 400 ]
	ok "$desc: not answered 2xx" [ "${code:-000}" -lt 200 -o "${code:-000}" -ge 300 ]
	ok "$desc: proxy alive" kill -0 "$FS_PID"
	is "after $desc: the proxy still serves" \
		"$(fs_curl -o /dev/null -w '%{http_code}' "http://localhost:$NGINX_HTTP_PORT/1k")" 200
}

refused "GET to the proxy's own port" "http://127.0.0.1:$PROXY_PORT/"
refused "GET to the proxy's own port by name" "http://localhost:$PROXY_PORT/"
refused "GET to the web UI port" "http://127.0.0.1:$WEB_PORT/api/flows?token=testtoken"
refused "GET to the web UI port by name" "http://localhost:$WEB_PORT/api/flows?token=testtoken"
refused "CONNECT to the proxy's own port" "https://127.0.0.1:$PROXY_PORT/"
refused "CONNECT to the web UI port" "https://localhost:$WEB_PORT/"
out=$(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n' "$WEB_PORT" "$WEB_PORT" |
	fs_raw "$PROXY_PORT" 5)
like "raw CONNECT to the web UI port: an error status line" "$(printf '%s' "$out" | head -1)" \
	'^HTTP/1\.[01] [45][0-9][0-9] '

if [ -n "$SENTINEL" ]; then
	is "the sentinel on the web port never saw a request through the proxy" \
		"$(grep -c '"GET\|"CONNECT' "$T/sentinel.log")" 0
fi
# the refused connections close a moment after their clients: read until they have (<= 10 s)
fds() { ls "/proc/$FS_PID/fd" 2>/dev/null | wc -l; }
fs_poll 10 eval '[ "$(fds)" -lt 100 ]'
diag "flowscope holds $(fds) file descriptors"
ok "no connection pile-up (fewer than 100 fds open)" [ "$(fds)" -lt 100 ]

fs_stop_flowscope
done_testing
