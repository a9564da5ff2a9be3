#!/bin/bash
# t_proxy_hostile_parse.sh - The question this test answers: are the smuggling shapes that a
# lenient parser lets through - obs-fold in Transfer-Encoding after an empty first line, a fold
# in any other header, a chunk size or Content-Length near 2^64 - refused with 400 before any
# byte reaches the origin, recorded as errors, with the proxy serving on after each?
. "$(dirname "$0")/lib.sh"

fs_start_origin || done_testing
fs_start_flowscope || done_testing
O="127.0.0.1:$ORIGIN_PORT"

# bad DESC RAW: RAW (printf format) sent raw is answered 400, and the proxy serves on.
bad() {
	local desc="$1" raw="$2" out
	out=$(printf "$raw" | fs_raw "$PROXY_PORT" 5)
	like "$desc: answered 400" "$(printf '%s' "$out" | head -1)" '^HTTP/1\.1 400 '
	is "$desc: then the proxy serves a normal request" \
		"$(fs_curl -o /dev/null -w '%{http_code}' "http://$O/status/200")" 200
}

bad "Transfer-Encoding folded after an empty first line" \
	"POST http://$O/echo HTTP/1.1\r\nHost: $O\r\nTransfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
bad "Transfer-Encoding folded with a tab" \
	"POST http://$O/echo HTTP/1.1\r\nHost: $O\r\nTransfer-Encoding:\r\n\tchunked\r\n\r\n0\r\n\r\n"
bad "a fold in an ordinary header after an empty first line" \
	"GET http://$O/status/200 HTTP/1.1\r\nHost: $O\r\nX-A:\r\n folded\r\n\r\n"
bad "a chunk size of 2^64-1" \
	"POST http://$O/echo HTTP/1.1\r\nHost: $O\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nhello\r\n0\r\n\r\n"
bad "a chunk size just over 2^62" \
	"POST http://$O/echo HTTP/1.1\r\nHost: $O\r\nTransfer-Encoding: chunked\r\n\r\n4000000000000001\r\nhello\r\n0\r\n\r\n"
bad "a Content-Length of 2^64-1" \
	"POST http://$O/echo HTTP/1.1\r\nHost: $O\r\nContent-Length: 18446744073709551615\r\n\r\nhello"

# The origin never saw any of them: the only requests it served are the probes.
is "the origin never got a refused request" \
	"$(grep -c '"POST /echo' "$T/origin-$ORIGIN_PORT.log")" 0
if fs_have_flows; then
	ok "flows: each refusal recorded as an error naming the fold or the size" fs_wait_sql \
		"select count(*) from flows where state='error' and (error like '%obs-fold%' or error like '%too large%')" 6
fi
fs_stop_flowscope
done_testing
