#!/bin/bash
# t_proxy_http.sh - The question this test answers: does plain HTTP (absolute-form requests)
# pass through flowscope unchanged - bodies byte-identical from 0 B to 64 MiB with the proxy's
# memory bounded, chunked responses, keep-alive reuse on both sides, HTTP/1.0 clients, POST
# bodies (Content-Length, chunked, Expect: 100-continue) - and is each exchange recorded?
. "$(dirname "$0")/lib.sh"
. "$FS_DATA/transfer_checks.sh"

fs_start_nginx || done_testing
fs_start_origin || done_testing
fs_start_flowscope || done_testing

transfer_checks http "$NGINX_HTTP_PORT" "$ORIGIN_PORT"
flow_checks http "$NGINX_HTTP_PORT"

# Pipelining: three requests in one write are answered in order on the one connection.
N="localhost:$NGINX_HTTP_PORT"
out=$(printf 'GET http://%s/text.txt HTTP/1.1\r\nHost: %s\r\n\r\nGET http://%s/empty HTTP/1.1\r\nHost: %s\r\n\r\nGET http://%s/text.txt HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' \
	"$N" "$N" "$N" "$N" "$N" "$N" | fs_raw "$PROXY_PORT" 10 | tr -d '\r')
is "pipelined requests: three responses" "$(printf '%s\n' "$out" | grep -c '^HTTP/1.1 200')" 3
is "pipelined requests: bodies in order" "$(printf '%s\n' "$out" | grep -c '^hello from nginx$')" 2

fs_stop_flowscope
done_testing
