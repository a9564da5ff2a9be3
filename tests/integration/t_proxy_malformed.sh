#!/bin/bash
# t_proxy_malformed.sh - The question this test answers: does bad or smuggling-shaped input -
# garbage, Content-Length with Transfer-Encoding, a bad chunk size, an obs-fold header, a
# malformed CONNECT target, non-HTTP bytes on the proxy port or inside a CONNECT tunnel - get
# a 400 and a closed connection, without crashing, and does the proxy serve normally after
# EACH of them?
. "$(dirname "$0")/lib.sh"

fs_start_nginx || done_testing
fs_start_origin || done_testing
fs_start_flowscope || done_testing
N="127.0.0.1:$NGINX_HTTP_PORT"
O="127.0.0.1:$ORIGIN_PORT"

still_serving() {
	is "after $1: the proxy still serves a normal request" \
		"$(fs_curl -o /dev/null -w '%{http_code}' "http://localhost:$NGINX_HTTP_PORT/1k")" 200
}

# bad DESC RAW: RAW (printf format) sent raw must be answered with 400 and then closed.
bad() {
	local desc="$1" raw="$2" out
	out=$(printf "$raw" | fs_raw "$PROXY_PORT" 5)
	like "$desc: answered 400" "$(printf '%s' "$out" | head -1)" '^HTTP/1\.[01] 400 '
	ok "$desc: kill -0 flowscope (alive)" kill -0 "$FS_PID"
	still_serving "$desc"
}

bad "garbage request line" 'hello garbage\r\n\r\n'
bad "binary garbage" '\x00\x01\x02\xff\xfe\r\n\r\n'
bad "Content-Length and Transfer-Encoding both" \
	"POST http://$O/echo HTTP/1.1\r\nHost: $O\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
bad "two different Content-Lengths" \
	"POST http://$O/echo HTTP/1.1\r\nHost: $O\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
bad "bad chunk size" \
	"POST http://$O/echo HTTP/1.1\r\nHost: $O\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
bad "obs-fold header" \
	"GET http://$N/text.txt HTTP/1.1\r\nHost: $N\r\nX-Folded: one\r\n  two\r\n\r\n"
bad "space before the header colon" \
	"GET http://$N/text.txt HTTP/1.1\r\nHost : $N\r\n\r\n"
bad "bare CR inside a header value" \
	"GET http://$N/text.txt HTTP/1.1\r\nHost: $N\r\nX-A: a\rb\r\n\r\n"
bad "Transfer-Encoding other than chunked last" \
	"POST http://$O/echo HTTP/1.1\r\nHost: $O\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"
bad "CONNECT without a port" 'CONNECT localhost HTTP/1.1\r\nHost: localhost\r\n\r\n'
bad "CONNECT with an empty authority" 'CONNECT :443 HTTP/1.1\r\nHost: x\r\n\r\n'
out=$(printf 'GET http://%s/text.txt HTTP/9.7\r\nHost: %s\r\n\r\n' "$N" "$N" | fs_raw "$PROXY_PORT" 5)
like "invalid HTTP version: answered 400 or 505" "$(printf '%s' "$out" | head -1)" \
	'^HTTP/1\.[01] (400|505) '
still_serving "an invalid HTTP version"

# Headers far too large: 4xx (400 or 431) and close.
big=$(head -c 200000 /dev/zero | tr '\0' a)
out=$(printf 'GET http://%s/text.txt HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n' "$N" "$N" "$big" |
	fs_raw "$PROXY_PORT" 5)
like "200 KB header: answered 400 or 431" "$(printf '%s' "$out" | head -1)" '^HTTP/1\.[01] (400|431) '
still_serving "a 200 KB header"

# A TLS ClientHello straight at the proxy port (a client that forgot CONNECT).
timeout 5 openssl s_client -connect "127.0.0.1:$PROXY_PORT" -servername localhost \
	</dev/null >/dev/null 2>&1
ok "TLS straight at the proxy port: proxy alive" kill -0 "$FS_PID"
still_serving "a TLS ClientHello on the proxy port"

# Garbage instead of a ClientHello inside a CONNECT tunnel.
out=$(printf 'CONNECT localhost:%s HTTP/1.1\r\nHost: localhost:%s\r\n\r\nthis is not TLS\r\n\r\n' \
	"$NGINX_HTTPS_PORT" "$NGINX_HTTPS_PORT" | fs_raw "$PROXY_PORT" 5)
ok "garbage inside a CONNECT tunnel: proxy alive" kill -0 "$FS_PID"
still_serving "garbage inside a CONNECT tunnel"

# A client that connects and closes at once, or sends half a request and leaves.
(exec 3<>"/dev/tcp/127.0.0.1/$PROXY_PORT"; exec 3>&-) 2>/dev/null
printf 'GET http://%s/text.txt HTTP/1.1\r\nHo' "$N" | RAW_SHUT=1 fs_raw "$PROXY_PORT" 1 >/dev/null
printf 'POST http://%s/echo HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n\r\nabc' "$O" "$O" |
	RAW_SHUT=1 fs_raw "$PROXY_PORT" 2 >/dev/null
still_serving "clients that leave half-way"

# Many bad requests in parallel, then a good one.
pids=()
for i in $(seq 1 50); do
	(
		exec 3<>"/dev/tcp/127.0.0.1/$PROXY_PORT" || exit 0
		printf 'GARBAGE %s\r\n\r\n' "$i" >&3
		timeout 5 head -c 12 <&3 >"$T/par.$i"
	) 2>/dev/null &
	pids+=($!)
done
wait "${pids[@]}"
is "50 parallel bad requests: each answered 400" \
	"$(cat "$T"/par.* 2>/dev/null | grep -o 'HTTP/1.1 400' | wc -l)" 50
still_serving "50 parallel bad requests"

if fs_have_flows; then
	is "flows: the store still opens (integrity check)" "$(fs_sql 'pragma integrity_check')" ok
fi
fs_stop_flowscope
done_testing
