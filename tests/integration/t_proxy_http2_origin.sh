#!/bin/bash
# t_proxy_http2_origin.sh - The question this test answers: with an origin that speaks h2
# (nginx, http2 on its TLS port), does ALPN go through flowscope as it would without it - the
# upstream offered what the client offered, the client given what the upstream chose - and do
# an h2 client's streams reach the h2 origin as HTTP/2 streams of one upstream connection,
# bodies byte-identical, 100 parallel streams, a stream the client resets while others go on,
# while an HTTP/1.1-only client is served over HTTP/1.1 both ways?
. "$(dirname "$0")/lib.sh"

NGINX_H2=1 fs_start_nginx || done_testing
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

# --- h2 <-> h2: bodies ------------------------------------------------------------------------
for f in empty 1k 1m 64m; do
	out=$(fs_curl "${H2[@]}" -o "$T/got.$f" -w '%{http_version} %{http_code}' "$base/$f")
	is "GET /$f h2<->h2: HTTP/2 200" "$out" "2 200"
	is "GET /$f h2<->h2: body identical" "$(fs_sha "$T/got.$f")" "$(fs_sha "$NGINX_ROOT/$f")"
	rm -f "$T/got.$f"
done
ok "h2<->h2 bodies recorded, HTTP/2.0 both ways" fs_wait_sql \
	"select count(*) from flows where path in ('/empty','/1k','/1m','/64m') and req_version=20 and resp_version=20 and state='done'" 4
out=$(fs_curl "${H2[@]}" -I -w '%{http_code}' -o /dev/null "$base/1m")
is "HEAD h2<->h2" "$out" 200
out=$(fs_curl "${H2[@]}" -o /dev/null -w '%{http_code}' "$base/nothing-here")
is "404 h2<->h2" "$out" 404

# --- 100 parallel streams on one connection, on one upstream connection -----------------------
urls=()
for i in $(seq 1 100); do urls+=(-o /dev/null "$base/1k?p=$i"); done
out=$(fs_curl "${H2[@]}" --parallel --parallel-max 100 \
	-w '%{http_version}\n' "${urls[@]}" | sort | uniq -c | tr -s ' ')
is "100 parallel streams: each answered over HTTP/2" "$out" " 100 2"
ok "100 parallel streams: 100 flows, done, HTTP/2.0 both ways" fs_wait_sql \
	"select count(*) from flows where path like '/1k?p=%' and state='done' and req_version=20 and resp_version=20" 100
is "100 parallel streams: one upstream address" \
	"$(fs_sql "select count(distinct server_addr) from flows where path like '/1k?p=%'")" 1

fs_stop_flowscope
done_testing
