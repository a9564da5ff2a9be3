#!/bin/bash
# t_proxy_http2.sh - The question this test answers: does a client that offers h2 in a
# decrypted tunnel get HTTP/2 (ALPN), with each stream one flow of version HTTP/2.0 carried to
# an HTTP/1.1 origin - bodies byte-identical from 0 B to 64 MiB, POST and PUT bodies, 100
# parallel streams on one connection - and do the stream-level events behave as a user expects:
# a stream the client resets ends its flow with that reason while the others go on, an
# intercepted stream waits alone (a held response edited or killed, a block rule answered as
# on HTTP/1), and the request shapes that could smuggle a second request to
# an HTTP/1.1 origin are each refused on their own stream, recorded, never sent upstream, with
# the connection and the proxy still serving?
. "$(dirname "$0")/lib.sh"
. "$FS_DATA/transfer_checks.sh" # hwm_bound
. "$FS_DATA/h2_checks.sh"

fs_start_nginx || done_testing
fs_start_origin --tls || done_testing
REVS_PORT=$(fs_free_port)
SOCKS_PORT=$(fs_free_port)
fs_start_flowscope --mode regular --mode "socks5@127.0.0.1:$SOCKS_PORT" \
	--mode "reverse:https://localhost:$NGINX_HTTPS_PORT@127.0.0.1:$REVS_PORT" || done_testing

# ALPN is mirrored (t_proxy_http2_origin): nginx here says http/1.1, so a client offering both
# would get HTTP/1.1. The reverse listener has no upstream handshake to follow and the python
# origin agrees to no protocol: both give the client h2, translated to HTTP/1.1 upstream.
base="https://localhost:$REVS_PORT"
nbase="https://localhost:$NGINX_HTTPS_PORT"
obase="https://localhost:$ORIGIN_TLS_PORT"
H2=(--http2 --max-time 60 --noproxy '*' --resolve "localhost:$REVS_PORT:127.0.0.1")
H2P=(--http2 --max-time 60)
H2PY=(/usr/bin/python3 "$FS_DATA/h2client.py" --proxy-port "$PROXY_PORT" --ca "$T/ca/ca.pem")

# --- bodies, both ways ----------------------------------------------------------------------
h2_bodies_check "over h2" "$base"
got=$(fs_curl "${H2[@]}" --limit-rate 16M "$base/64m" | sha256sum | cut -d' ' -f1)
is "GET /64m over h2, slow client: body identical" "$got" "$(fs_sha "$NGINX_ROOT/64m")"
hwm_bound "64 MiB over h2"
got=$(fs_curl "${H2P[@]}" --data-binary "@$NGINX_ROOT/1m" -H 'Content-Type: application/octet-stream' \
	"$obase/echo" | sha256sum | cut -d' ' -f1)
is "POST 1 MiB over h2: echoed body identical" "$got" "$(fs_sha "$NGINX_ROOT/1m")"
got=$(fs_curl "${H2P[@]}" -T "$NGINX_ROOT/1k" "$obase/echo" | sha256sum | cut -d' ' -f1)
is "PUT 1 KiB over h2: echoed body identical" "$got" "$(fs_sha "$NGINX_ROOT/1k")"
got=$(fs_curl "${H2P[@]}" -H 'Transfer-Encoding:' -H 'Content-Length:' --data-binary @- \
	"$obase/echo" <"$NGINX_ROOT/1m" | sha256sum | cut -d' ' -f1)
is "POST 1 MiB over h2 without a length (chunked upstream): echoed body identical" "$got" \
	"$(fs_sha "$NGINX_ROOT/1m")"
out=$(fs_curl "${H2[@]}" -I -w '%{http_code}' -o /dev/null "$base/1m")
is "HEAD over h2" "$out" 200
out=$(fs_curl "${H2P[@]}" -w '%{http_code} %{size_download}' -o /dev/null "$obase/status/204")
is "204 over h2 (the origin sends a stray body): no body" "$out" "204 0"
ok "h2 flows recorded as HTTP/2.0 both ways" fs_wait_sql \
	"select count(*) from flows where path='/1k' and req_version=20 and resp_version=20 and state='done'" 1
ID=$(fs_sql "select id from flows where path='/1k' and req_version=20 limit 1")
like "the API says HTTP/2.0" "$(fs_api "/api/flows/$ID")" '"version": ?"HTTP/2.0"'

# --- 100 parallel streams on one connection -------------------------------------------------
is "100 parallel streams: each answered over HTTP/2" "$(h2_parallel_get "$base")" " 100 2"
ok "100 parallel streams: 100 flows, done, HTTP/2.0" fs_wait_sql \
	"select count(*) from flows where path like '/1k?p=%' and state='done' and req_version=20" 100
is "100 parallel streams: one client connection" \
	"$(fs_sql "select count(distinct client_addr) from flows where path like '/1k?p=%'")" 1

# nghttp (no proxy support): 100 streams on one connection to a reverse listener with TLS
out=$(timeout 60 nghttp -ns -m 100 "https://127.0.0.1:$REVS_PORT/1k?nghttp" 2>&1 | grep -c ' 200 ')
is "nghttp -m 100 through the reverse listener: 100 answers" "$out" 100
ok "nghttp: 100 flows, HTTP/2.0, to the reverse listener's server" fs_wait_sql \
	"select count(*) from flows where path='/1k?nghttp' and state='done' and req_version=20 and port=$NGINX_HTTPS_PORT" 100

# a SOCKS5 client's decrypted tunnel speaks h2 the same way
out=$(curl -sS --max-time 30 --http2 --cacert "$T/ca/ca.pem" --socks5-hostname "127.0.0.1:$SOCKS_PORT" \
	-o "$T/got.socks" -w '%{http_version} %{http_code}' "$obase/headers?socks")
is "SOCKS5: GET over h2" "$out" "2 200"
out=$(curl -sS --max-time 30 --http2 --cacert "$T/ca/ca.pem" --socks5-hostname "127.0.0.1:$SOCKS_PORT" \
	-o /dev/null -w '%{http_version} %{http_code}' "$nbase/1k?socks")
is "SOCKS5: an origin that says http/1.1 gives the client HTTP/1.1 (ALPN mirrored)" "$out" "1.1 200"

# The last flow may still be on its way to the store: read both counts until they agree (5 s).
for _ in $(seq 50); do
	h2total=$(fs_sql "select count(*) from flows where req_version=20")
	h2api=$(fs_api "/api/flows?filter=~http2&limit=1" | jq .total)
	[ "$h2api" = "$h2total" ] && break
	sleep 0.1
done
is "filter ~http2: every h2 flow" "$h2api" "$h2total"
is "filter ~http2 & ~u p=7\$: one" "$(fs_api "/api/flows?filter=~http2%20%26%20~u%20p=7%24&limit=1" | jq .total)" 1
fs_curl -o /dev/null "$nbase/1k?h1"
ok "filter !~http2: the HTTP/1.1 flow" fs_wait_sql \
	"select count(*) from flows where path='/1k?h1' and req_version=11" 1
is "filter !~http2 finds it (and the SOCKS client's HTTP/1.1 one)" \
	"$(fs_api "/api/flows?filter=!~http2&limit=5" | jq -r '.flows[].path' | sort | tr '\n' ' ')" "/1k?h1 /1k?socks "

# HAR: h2 flows export as HTTP/2.0; Chrome's "http/2.0" entries import as HTTP/2
har=$(fs_api "/api/har?filter=~u%20p=7%24")
is "HAR export of an h2 flow: httpVersion HTTP/2.0 both ways" \
	"$(echo "$har" | jq -r '[.log.entries[0].request.httpVersion, .log.entries[0].response.httpVersion] | join(" ")')" \
	"HTTP/2.0 HTTP/2.0"
before=$(fs_api "/api/flows?filter=~http2&limit=1" | jq .total)
fs_api /api/har -X POST -H 'Content-Type: application/json' \
	--data-binary "@$FS_DATA/har/chrome.har" >/dev/null
is "HAR import: Chrome's http/2.0 entries are HTTP/2 flows" \
	"$(($(fs_api "/api/flows?filter=~http2&limit=1" | jq .total) - before))" \
	"$(jq '[.log.entries[] | select(.request.httpVersion == "http/2.0")] | length' \
		"$FS_DATA/har/chrome.har")"

# --- a stream reset by the client -----------------------------------------------------------
h2_reset_check "$ORIGIN_TLS_PORT"

# --- an intercepted stream waits alone --------------------------------------------------------
h2_hold_check "$ORIGIN_TLS_PORT"

# a paused response, edited and resumed; another killed; a block rule
is "rules: intercept responses of /status/206 and /status/203" \
	"$(fs_rules '{"intercept":"~s & (~u /status/206 | ~u /status/203)"}')" 200
fs_curl "${H2P[@]}" -i "$obase/status/206" >"$T/resp.out" 2>&1 &
C1=$!
fs_curl "${H2P[@]}" -i "$obase/status/203" >"$T/kill.out" 2>&1 &
C2=$!
ok "response hold: both paused" fs_wait_sql \
	"select count(*) from flows where path in ('/status/206','/status/203') and state='paused'" 2
ID=$(fs_sql "select id from flows where path='/status/206' and state='paused'")
is "response hold: edit and resume" "$(fs_api_code "/api/flows/$ID/resume" -X POST \
	-d '{"response":{"status":299,"body":"edited"}}')" 200
ID2=$(fs_sql "select id from flows where path='/status/203' and state='paused'")
is "response hold: kill the other" "$(fs_api_code "/api/flows/$ID2/kill" -X POST)" 200
wait $C1 $C2
like "response hold: the client got the edited response over h2" "$(tr -d '\r' <"$T/resp.out")" \
	'^HTTP/2 299'
like "response hold: ... with the edited body" "$(cat "$T/resp.out")" 'edited$'
like "kill: the client got a 502 over h2" "$(tr -d '\r' <"$T/kill.out")" '^HTTP/2 502'
like "kill: ... that says so" "$(cat "$T/kill.out")" 'killed by the user'
is "rules: block /status/202 with 451" \
	"$(fs_rules '{"intercept":"","block":[{"filter":"~u /status/202","status":451}]}')" 200
is "block over h2: 451" "$(fs_curl "${H2P[@]}" -o /dev/null -w '%{http_code}' "$obase/status/202")" 451
fs_rules '{"intercept":"","block":[]}' >/dev/null

# --- smuggling shapes -----------------------------------------------------------------------
out=$("${H2PY[@]}" --port "$ORIGIN_TLS_PORT" smuggle 2>&1)
shapes=$(echo "$out" | grep -vc '^alive')
diag "smuggle: $(echo $out)"
is "smuggling: every shape reset with PROTOCOL_ERROR" "$(echo "$out" | grep -c ' reset 1$')" "$shapes"
like "smuggling: the connection still serves" "$out" 'alive status 200'
ok "smuggling: each refusal recorded as a failed flow" fs_wait_sql \
	"select count(*) >= $shapes from flows where state='error' and error like 'malformed HTTP/2 request: %'" 1
diag "$(fs_sql "select path, error from flows where state='error' order by id")"
is "smuggling: nothing of them reached the origin" \
	"$(grep -c 'bad=\|x-injected' "$T"/origin*.log)" 0
is "smuggling: the proxy is alive" "$(fs_curl "${H2P[@]}" -o /dev/null -w '%{http_code}' "$obase/headers")" 200

fs_stop_flowscope

# --- an idle connection ends with GOAWAY -----------------------------------------------------
FLOWSCOPE_TIMEOUT=2 fs_start_flowscope || done_testing
out=$("${H2PY[@]}" --proxy-port "$PROXY_PORT" --port "$ORIGIN_TLS_PORT" idle 2>&1)
diag "idle: $(echo $out)"
like "idle: answered, then GOAWAY (NO_ERROR) after the timeout" "$out" 'goaway 0'
fs_stop_flowscope
done_testing
