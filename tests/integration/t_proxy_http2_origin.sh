#!/bin/bash
# t_proxy_http2_origin.sh - The question this test answers: with an origin that speaks h2
# (nginx, http2 on its TLS port), does ALPN go through flowscope as it would without it - the
# upstream offered what the client offered, the client given what the upstream chose - and do
# an h2 client's streams reach the h2 origin as HTTP/2 streams of one upstream connection,
# bodies byte-identical, 100 parallel streams, a stream the client resets while others go on,
# while an HTTP/1.1-only client is served over HTTP/1.1 both ways?
. "$(dirname "$0")/lib.sh"
. "$FS_DATA/transfer_checks.sh" # hwm_bound
. "$FS_DATA/h2_checks.sh"

NGINX_H2=1 fs_start_nginx || done_testing
fs_start_h2origin || done_testing
H2O_PORT=$H2ORIGIN_PORT
fs_start_flowscope || done_testing

base="https://localhost:$NGINX_HTTPS_PORT"
H2=(--http2 --max-time 60)

# --- ALPN mirrored ----------------------------------------------------------------------------
out=$(fs_curl "${H2[@]}" -o /dev/null -w '%{http_version} %{http_code}' "$base/1k?alpn-h2")
is "client offers h2 + http/1.1, origin picks h2: the client gets HTTP/2" "$out" "2 200"
ok "... the flow went to the origin over h2" fs_wait_sql \
	"select count(*) from flows where path='/1k?alpn-h2' and req_version=20 and resp_version=20 and tls_alpn='h2'" 1
out=$(fs_curl -o /dev/null -w '%{http_version} %{http_code}' "$base/1k?alpn-h1")
is "client offers http/1.1 only: HTTP/1.1, the origin too" "$out" "1.1 200"
ok "... recorded as HTTP/1.1 with ALPN http/1.1 upstream" fs_wait_sql \
	"select count(*) from flows where path='/1k?alpn-h1' and req_version=11 and tls_alpn='http/1.1'" 1

ID=$(fs_sql "select id from flows where path='/1k?alpn-h2'")
like "the API gives an h2 flow's stream id" "$(fs_api "/api/flows/$ID")" '"stream_id": ?1[,}]'
is "... stored" "$(fs_sql "select stream_id from flows where id=$ID")" 1
ID=$(fs_sql "select id from flows where path='/1k?alpn-h1'")
is "... and none for an HTTP/1.1 flow" "$(fs_api "/api/flows/$ID" | jq 'has("stream_id")')" false

# --- h2 <-> h2: bodies ------------------------------------------------------------------------
h2_bodies_check "h2<->h2" "$base"
ok "h2<->h2 bodies recorded, HTTP/2.0 both ways" fs_wait_sql \
	"select count(*) from flows where path in ('/empty','/1k','/1m','/64m') and req_version=20 and resp_version=20 and state='done'" 4
out=$(fs_curl "${H2[@]}" -I -w '%{http_code}' -o /dev/null "$base/1m")
is "HEAD h2<->h2" "$out" 200
out=$(fs_curl "${H2[@]}" -o /dev/null -w '%{http_code}' "$base/nothing-here")
is "404 h2<->h2" "$out" 404

# --- 100 parallel streams on one connection, on one upstream connection -----------------------
is "100 parallel streams: each answered over HTTP/2" "$(h2_parallel_get "$base")" " 100 2"
ok "100 parallel streams: 100 flows, done, HTTP/2.0 both ways" fs_wait_sql \
	"select count(*) from flows where path like '/1k?p=%' and state='done' and req_version=20 and resp_version=20" 100
is "100 parallel streams: one upstream address" \
	"$(fs_sql "select count(distinct server_addr) from flows where path like '/1k?p=%'")" 1

got=$(fs_curl "${H2[@]}" --limit-rate 16M "$base/64m" | sha256sum | cut -d' ' -f1)
is "GET /64m h2<->h2, slow client: body identical" "$got" "$(fs_sha "$NGINX_ROOT/64m")"
hwm_bound "64 MiB h2<->h2"

# --- an h2-only origin: uploads, a reset stream, a held stream, GOAWAY -------------------------
hbase="https://localhost:$H2O_PORT"
H2PY=(/usr/bin/python3 "$FS_DATA/h2client.py" --proxy-port "$PROXY_PORT" --ca "$T/ca/ca.pem")
got=$(fs_curl "${H2[@]}" --data-binary "@$NGINX_ROOT/1m" "$hbase/echo" | sha256sum | cut -d' ' -f1)
is "POST 1 MiB h2<->h2: echoed body identical" "$got" "$(fs_sha "$NGINX_ROOT/1m")"
got=$(fs_curl "${H2[@]}" -T "$NGINX_ROOT/1k" "$hbase/echo" | sha256sum | cut -d' ' -f1)
is "PUT 1 KiB h2<->h2: echoed body identical" "$got" "$(fs_sha "$NGINX_ROOT/1k")"
got=$(fs_curl "${H2[@]}" -H 'Content-Length:' --data-binary @- "$hbase/echo" <"$NGINX_ROOT/1m" |
	sha256sum | cut -d' ' -f1)
is "POST 1 MiB h2<->h2 without a length: echoed body identical" "$got" "$(fs_sha "$NGINX_ROOT/1m")"
ok "uploads recorded with their bodies' sizes" fs_wait_sql \
	"select count(*) from flows where path='/echo' and request_body_size=1048576 and response_body_size=1048576 and resp_version=20" 2

h2_reset_check "$H2O_PORT"

# (the origin logs each reset it receives; polled: it is written asynchronously)
origin_saw_cancel() {
	for _ in $(seq 100); do
		grep -q 'code 8$' "$T/h2origin.log" && return 0
		sleep 0.1
	done
	return 1
}
ok "reset: the origin's stream was reset too (CANCEL)" origin_saw_cancel

h2_hold_check "$H2O_PORT"
is "hold: the quick stream over h2 both ways" \
	"$(fs_sql "select resp_version from flows where path='/headers?quick2'")" 20
fs_rules '{"intercept":""}' >/dev/null

# trailers after the body are relayed to the client as trailers
fs_curl "${H2[@]}" -D "$T/trailers.head" -o "$T/trailers.body" "$hbase/trailers"
is "trailers: the body" "$(cat "$T/trailers.body")" "body"
like "trailers: relayed after the body" "$(tr -d '\r' <"$T/trailers.head")" 'x-checksum: abc'
ok "trailers: the flow is recorded" fs_wait_sql "select count(*) from flows where path='/trailers' and state='done'" 1
ID=$(fs_sql "select id from flows where path='/trailers'")
is "trailers: the API gives the response's trailers, in order" \
	"$(fs_api "/api/flows/$ID" | jq -c '.response.trailers')" '[["x-checksum","abc"],["x-trailer","yes"]]'
is "... and none for the request" "$(fs_api "/api/flows/$ID" | jq '.request | has("trailers")')" false
is "... exported in HAR as _trailers" \
	"$(fs_api "/api/har?filter=$(jq -rn --arg f "~u /trailers\$" '$f|@uri')" |
		jq -c '[.log.entries[].response._trailers[]?.name]')" '["x-checksum","x-trailer"]'
out=$("${H2PY[@]}" --port "$H2O_PORT" trailers 2>&1)
like "trailers from the client: the request answered" "$out" 'trailers status 200 bytes 5'
ok "... its flow recorded" fs_wait_sql "select count(*) from flows where path='/echo?client-trailers' and state='done'" 1
ID=$(fs_sql "select id from flows where path='/echo?client-trailers'")
is "... the API gives the request's trailers" \
	"$(fs_api "/api/flows/$ID" | jq -c '.request.trailers')" '[["x-client-sum","42"]]'
is "... and the origin's response trailers" \
	"$(fs_api "/api/flows/$ID" | jq -c '.response.trailers')" '[["x-body-size","5"],["x-trailer","yes"]]'

# an origin that ends its connection with GOAWAY: the next stream goes on a new h2 connection
out=$(fs_curl "${H2[@]}" -w '%{http_version} %{http_code}\n' -o /dev/null "$hbase/goaway" \
	-o /dev/null "$hbase/headers?after-goaway")
is "GOAWAY: the stream before it answered, the next one too, over h2" "$out" "2 200
2 200"
ok "GOAWAY: both recorded as HTTP/2.0, done" fs_wait_sql \
	"select count(*) from flows where path in ('/goaway','/headers?after-goaway') and state='done' and resp_version=20" 2
# a request the origin leaves unprocessed before its GOAWAY (last stream id below it) is sent
# again on a new connection (RFC 9113 8.7)
# (both on one client connection, so both on the origin connection that the GOAWAY ends)
out=$(fs_curl "${H2[@]}" --parallel --parallel-max 2 -w '%{http_version} %{http_code}\n' \
	-o /dev/null "$hbase/goaway-late" -o /dev/null "$hbase/headers?crossed" | sort | uniq -c |
	tr -s ' ')
is "GOAWAY (late): both answered over h2, the crossed one on a new connection" "$out" " 2 2 200"
ok "... both flows done" fs_wait_sql \
	"select count(*) from flows where path in ('/goaway-late','/headers?crossed') and state='done'" 2
like "... the old connection had left it unprocessed" "$(cat "$T/h2origin.log")" 'unprocessed'

# --- replay of an h2 flow: HTTP/2 again when the origin speaks it ------------------------------
replay() { fs_api "/api/flows/$1/replay" -X POST -H 'Content-Type: application/json' -d '{}' | jq -r '.id // empty'; }
ID=$(fs_sql "select id from flows where path='/1k?alpn-h2'")
N=$(replay "$ID")
ok "replay of an h2 flow to nginx: recorded as HTTP/2.0 both ways" fs_wait_sql \
	"select count(*) from flows where id=${N:-0} and replay_of=$ID and state='done' and status=200 and req_version=20 and resp_version=20 and response_body_size=1024 and tls_alpn='h2'" 1
ID=$(fs_sql "select id from flows where path='/echo' and request_body_size=1048576 limit 1")
N=$(replay "$ID")
ok "replay of an h2 POST of 1 MiB to the h2-only origin: echoed whole" fs_wait_sql \
	"select count(*) from flows where id=${N:-0} and state='done' and status=200 and req_version=20 and response_body_size=1048576" 1
ID=$(fs_sql "select id from flows where path='/1k?alpn-h1'")
N=$(replay "$ID")
ok "replay of an HTTP/1.1 flow: HTTP/1.1" fs_wait_sql \
	"select count(*) from flows where id=${N:-0} and state='done' and status=200 and req_version=11 and tls_alpn='http/1.1'" 1

fs_stop_flowscope

# --- an h2 origin that stops answering: the upstream timeout (here 2 s), per stream -----------
FLOWSCOPE_TIMEOUT=2 fs_start_flowscope || done_testing
cancels=$(grep -c 'code 8$' "$T/h2origin.log")
out=$(fs_curl "${H2[@]}" --parallel --parallel-max 3 -w '%{url} %{http_code}\n' \
	-o /dev/null "$hbase/stall" -o /dev/null "$hbase/stall-body" -o /dev/null "$hbase/slow/4" |
	sed "s|$hbase||" | sort)
diag "timeout: $(echo $out)"
like "timeout: a stream the origin never answers gets a 504" "$out" '/stall 504'
like "... a slow stream that keeps sending goes on past the timeout" "$out" '/slow/4 200'
ok "... both ended with the error, the slow one done" fs_wait_sql \
	"select count(*) from flows where (path in ('/stall','/stall-body') and state='error' and error='the origin sent nothing for 2 s') or (path='/slow/4' and state='done' and status=200)" 3
origin_saw_cancels() {
	for _ in $(seq 100); do
		[ "$(grep -c 'code 8$' "$T/h2origin.log")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
ok "... the origin's stalled streams were reset (CANCEL)" origin_saw_cancels $((cancels + 2))
is "... the proxy is alive" "$(fs_curl "${H2[@]}" -o /dev/null -w '%{http_code}' "$hbase/headers?after-timeout")" 200
fs_stop_flowscope
done_testing
