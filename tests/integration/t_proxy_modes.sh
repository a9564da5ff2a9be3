#!/bin/bash
# t_proxy_modes.sh - The question this test answers: with several `--mode` listeners at once
# (a mitm one on --listen, reverse proxies to an http and an https server, one to a refused
# port, a socks5 one), does each listener serve its own mode into the one store? A reverse
# listener sending origin-form requests to its server with the server's Host, TLS verified
# towards an https one, telling a TLS client by its first byte (forged certificate); a refused
# reverse target giving a 502 page naming the cause, the proxy alive afterwards; curl's SOCKS5
# (names and IPv4) reaching plain and decrypted HTTPS, bad handshakes answered with RFC 1928's
# codes; a bad mode string refused at start with exit status 2; each flow naming its listener
# (the store, the flow JSON, ~mode); and --keep-host-header sending the client's Host on.
. "$(dirname "$0")/lib.sh"

fs_start_nginx || done_testing
fs_start_origin || done_testing

REV_PORT=$(fs_free_port)
REVS_PORT=$(fs_free_port)
DEAD_REV_PORT=$(fs_free_port)
SOCKS_PORT=$(fs_free_port)
fs_refused_port || done_testing # held, never listening: connections are refused
CLOSED_PORT=$FS_REFUSED_PORT

# --- bad mode strings: a clear message, exit 2 ------------------------------------------------
for bad in spy 'reverse:ftp://h' 'reverse:http://h/api' 'mitm@nope' 'reverse:'; do
	fs_bad_args "--mode '$bad'" '--mode' --mode "$bad"
done
fs_bad_args "two modes on one address" 'both listen on' --listen "127.0.0.1:$REV_PORT" \
	--mode mitm --mode "forward@127.0.0.1:$REV_PORT"

# --- four listeners at once -------------------------------------------------------------------
fs_start_flowscope --mode regular \
	--mode "reverse:http://127.0.0.1:$ORIGIN_PORT@$REV_PORT" \
	--mode "reverse:https://localhost:$NGINX_HTTPS_PORT@127.0.0.1:$REVS_PORT" \
	--mode "reverse:http://127.0.0.1:$CLOSED_PORT@$DEAD_REV_PORT" \
	--mode "socks5@127.0.0.1:$SOCKS_PORT" \
	--ignore-hosts "^127\\.0\\.0\\.1:($NGINX_HTTPS_PORT|$CLOSED_PORT)\$" || done_testing
# The port accepts before every banner line is written: wait for them (at most 5 s).
for _ in $(seq 50); do
	[ "$(grep -c 'proxy listening on' "$FS_LOG")" -ge 5 ] && break
	sleep 0.1
done
is "banner: one line per listener" "$(grep -c 'proxy listening on' "$FS_LOG")" 5
like "banner: the reverse listener with its target" "$(cat "$FS_LOG")" \
	"listening on http://127.0.0.1:$REV_PORT \\(mode reverse:http://127.0.0.1:$ORIGIN_PORT,"
like "banner: the mitm listener (regular)" "$(cat "$FS_LOG")" \
	"listening on http://127.0.0.1:$PROXY_PORT \\(mode regular,"

out=$(curl -sS --max-time 30 -H 'Host: client.example' "http://127.0.0.1:$REV_PORT/headers?a=1")
like "reverse http: the origin answers the request line" "$out" '^GET /headers\?a=1 HTTP/1.1'
like "reverse http: Host rewritten to the target's authority" "$out" \
	"Host: 127.0.0.1:$ORIGIN_PORT"
unlike_host=$(printf '%s' "$out" | grep -ci 'client.example')
is "reverse http: the client's Host is not sent on" "$unlike_host" 0
got=$(curl -sS --max-time 30 --data-binary @"$NGINX_ROOT/1k" "http://127.0.0.1:$REV_PORT/echo" |
	sha256sum | cut -d' ' -f1)
is "reverse http: a POST body goes through and back" "$got" "$(fs_sha "$NGINX_ROOT/1k")"

got=$(curl -sS --max-time 30 "http://127.0.0.1:$REVS_PORT/1m" | sha256sum | cut -d' ' -f1)
is "reverse https: nginx's body through a verified TLS upstream" "$got" \
	"$(fs_sha "$NGINX_ROOT/1m")"

# a TLS client on a reverse listener: told by its first byte, served a forged certificate
out=$(curl -sS --max-time 30 --cacert "$T/ca/ca.pem" "https://localhost:$REV_PORT/headers?tls=1")
like "reverse, TLS client: the origin answers (certificate forged for the SNI, verified)" \
	"$out" '^GET /headers\?tls=1 HTTP/1.1'
like "reverse, TLS client: Host rewritten" "$out" "Host: 127.0.0.1:$ORIGIN_PORT"
got=$(curl -sS --max-time 30 --cacert "$T/ca/ca.pem" --resolve "rev.test:$REVS_PORT:127.0.0.1" \
	"https://rev.test:$REVS_PORT/1m" | sha256sum | cut -d' ' -f1)
is "reverse, TLS client to an https server: body identical" "$got" "$(fs_sha "$NGINX_ROOT/1m")"
out=$(printf 'GET /headers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	openssl s_client -quiet -noservername -CAfile "$T/ca/ca.pem" -verify_return_error \
		-verify_ip 127.0.0.1 -connect "127.0.0.1:$REV_PORT" 2>/dev/null)
like "reverse, TLS client without SNI: a certificate for the server's name, verified" "$out" \
	'^HTTP/1.1 200'

got=$(fs_curl "http://localhost:$NGINX_HTTP_PORT/1k" | sha256sum | cut -d' ' -f1)
is "mitm listener beside them: plain HTTP proxied" "$got" "$(fs_sha "$NGINX_ROOT/1k")"
got=$(fs_curl "https://localhost:$NGINX_HTTPS_PORT/1k" | sha256sum | cut -d' ' -f1)
is "mitm listener beside them: HTTPS decrypted" "$got" "$(fs_sha "$NGINX_ROOT/1k")"

# --- what a reverse listener refuses ------------------------------------------------------------
code=$(curl -sS --max-time 30 -o "$T/abs.out" -w '%{http_code}' -x "http://127.0.0.1:$REV_PORT" \
	"http://localhost:$NGINX_HTTP_PORT/1k")
is "reverse: an absolute-form request is refused with 400" "$code" 400
like "reverse: the 400 page says why" "$(cat "$T/abs.out")" 'reverse proxy'
out=$(printf 'CONNECT localhost:%s HTTP/1.1\r\nHost: localhost\r\n\r\n' "$NGINX_HTTPS_PORT" |
	fs_raw "$REV_PORT" 5)
like "reverse: CONNECT is refused with 400" "$out" '^HTTP/1.1 400'

# clients that leave early: nothing sent, half a ClientHello, a plain head cut short
printf '' | RAW_SHUT=1 fs_raw "$REV_PORT" 2 >/dev/null
printf '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' | RAW_SHUT=1 fs_raw "$REV_PORT" 2 >/dev/null
printf 'GET /headers HTTP/1.1\r\nHo' | RAW_SHUT=1 fs_raw "$REV_PORT" 2 >/dev/null
out=$(curl -sS --max-time 30 "http://127.0.0.1:$REV_PORT/headers")
like "after clients that left early: the reverse listener still serves" "$out" '^GET /headers'

# --- a refused reverse target -------------------------------------------------------------------
out=$(curl -sS --max-time 30 -w '\n%{http_code}' "http://127.0.0.1:$DEAD_REV_PORT/x")
is "refused target: 502" "$(printf '%s' "$out" | tail -1)" 502
like "refused target: the page names the cause" "$(printf '%s' "$out" | tr 'A-Z' 'a-z')" \
	'(refused|connect)'
out=$(curl -sS --max-time 30 "http://127.0.0.1:$REV_PORT/headers")
like "after the refused target: the reverse listener still serves" "$out" '^GET /headers'
is "after the refused target: the mitm listener still serves" \
	"$(fs_curl -o /dev/null -w '%{http_code}' "http://localhost:$NGINX_HTTP_PORT/1k")" 200

# --- socks5 ------------------------------------------------------------------------------------
got=$(curl -sS --max-time 30 --cacert "$T/ca/ca.pem" --socks5-hostname "127.0.0.1:$SOCKS_PORT" \
	"https://localhost:$NGINX_HTTPS_PORT/1k?socks=name" | sha256sum | cut -d' ' -f1)
is "socks5, domain name, TLS: decrypted (forged certificate verified), body identical" "$got" \
	"$(fs_sha "$NGINX_ROOT/1k")"
got=$(curl -sS --max-time 30 --socks5 "127.0.0.1:$SOCKS_PORT" \
	"http://127.0.0.1:$NGINX_HTTP_PORT/1k?socks=v4" | sha256sum | cut -d' ' -f1)
is "socks5, IPv4, plain HTTP inside: body identical" "$got" "$(fs_sha "$NGINX_ROOT/1k")"

# IPv6: curl sends the address itself (ATYP 4) to a server on ::1
V6_PORT=$(fs_free_port)
fs_spawn v6http python3 -m http.server --bind ::1 --directory "$NGINX_ROOT" "$V6_PORT"
for _ in $(seq 50); do
	curl -s -o /dev/null --max-time 1 "http://[::1]:$V6_PORT/" && break
	sleep 0.1
done
got=$(curl -sS --max-time 30 --socks5 "127.0.0.1:$SOCKS_PORT" "http://[::1]:$V6_PORT/1k" |
	sha256sum | cut -d' ' -f1)
is "socks5, IPv6: body identical" "$got" "$(fs_sha "$NGINX_ROOT/1k")"

# socks_raw HEX: sends the bytes to the socks5 listener, prints what comes back until the
# proxy closes, as hex ("timeout" when it does not close within 5 s); RAW_SHUT=1 half-closes
# after sending.
socks_raw() { python3 "$FS_DATA/socks_raw.py" "$SOCKS_PORT" "$1"; }
is "socks5: a version 4 greeting closed without a word" "$(socks_raw 04010050)" ""
is "socks5: no acceptable method answered 0xFF" "$(socks_raw 050102)" "05ff"
is "socks5: BIND answered 'command not supported'" \
	"$(socks_raw 050100050200017f0000010050)" "050005070001000000000000"
is "socks5: an unknown address type answered 'address type not supported'" \
	"$(socks_raw 05010005010009)" "050005080001000000000000"
is "socks5: a bad domain name answered 'general failure'" \
	"$(socks_raw 0501000501000303612f620050)" "050005010001000000000000"
got=$(curl -sS --max-time 30 --cacert "$T/ca/ca.pem" --socks5 "127.0.0.1:$SOCKS_PORT" \
	"https://127.0.0.1:$NGINX_HTTPS_PORT/1k?socks=pass" | sha256sum | cut -d' ' -f1)
is "socks5, an ignored host: passed through, body identical" "$got" "$(fs_sha "$NGINX_ROOT/1k")"
port_hex=$(printf '%04x' "$CLOSED_PORT")
is "socks5, a passed tunnel to a refused port: reply 'connection refused'" \
	"$(socks_raw "050100050100017f000001$port_hex")" "050005050001000000000000"
is "socks5: a greeting then a request cut short: the proxy closes" \
	"$(RAW_SHUT=1 socks_raw 05010005010003)" "0500"
is "after bad SOCKS5 input: the socks5 listener still serves" \
	"$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' --socks5 "127.0.0.1:$SOCKS_PORT" \
		"http://127.0.0.1:$NGINX_HTTP_PORT/1k")" 200

# --- one store for every listener ---------------------------------------------------------------
if fs_have_flows; then
	ok "flows: the reverse request recorded with the target as its origin" fs_wait_sql \
		"select count(*) > 0 from flows where scheme='http' and host='127.0.0.1' and port=$ORIGIN_PORT and path='/headers?a=1' and status=200" 1
	ok "flows: the reverse https request recorded as https to nginx" fs_wait_sql \
		"select count(*) > 0 from flows where scheme='https' and host='localhost' and port=$NGINX_HTTPS_PORT and path='/1m' and status=200" 1
	ok "flows: the TLS client's request recorded with its SNI" fs_wait_sql \
		"select count(*) > 0 from flows where host='127.0.0.1' and port=$ORIGIN_PORT and path='/headers?tls=1' and (flags & 1) = 1 and tls_sni='localhost' and status=200" 1
	ok "flows: the socks5 TLS request decrypted and recorded" fs_wait_sql \
		"select count(*) > 0 from flows where kind='http' and scheme='https' and host='localhost' and port=$NGINX_HTTPS_PORT and path='/1k?socks=name' and status=200" 1
	ok "flows: the socks5 plain request recorded" fs_wait_sql \
		"select count(*) > 0 from flows where scheme='http' and host='127.0.0.1' and port=$NGINX_HTTP_PORT and path='/1k?socks=v4' and status=200" 1
	ok "flows: the ignored host's SOCKS5 tunnel recorded as a tunnel" fs_wait_sql \
		"select count(*) > 0 from flows where kind='tunnel' and host='127.0.0.1' and port=$NGINX_HTTPS_PORT and bytes_down > 0" 1
	ok "flows: the refused SOCKS5 tunnel recorded as an error" fs_wait_sql \
		"select count(*) > 0 from flows where kind='tunnel' and port=$CLOSED_PORT and state='error'" 1
	ok "flows: the socks5 IPv6 request recorded with its address" fs_wait_sql \
		"select count(*) > 0 from flows where host='::1' and port=$V6_PORT and path='/1k' and status=200" 1
	ok "flows: the mitm listener's request in the same store" fs_wait_sql \
		"select count(*) > 0 from flows where scheme='http' and host='localhost' and port=$NGINX_HTTP_PORT and path='/1k'" 1
	ok "flows: the refused target recorded as an error" fs_wait_sql \
		"select count(*) > 0 from flows where kind='http' and port=$CLOSED_PORT and state='error' and length(error) > 0" 1
	# each flow names the listener it came through: its mode as typed and its address
	ok "mode: the reverse listener's flows" fs_wait_sql \
		"select count(*) > 0 from flows where path='/headers?a=1' and mode='reverse:http://127.0.0.1:$ORIGIN_PORT@127.0.0.1:$REV_PORT'" 1
	ok "mode: the socks5 listener's flows (tunnels too)" fs_wait_sql \
		"select count(*) = 0 from flows where (path like '%socks=%' or port=$CLOSED_PORT and kind='tunnel') and mode != 'socks5@127.0.0.1:$SOCKS_PORT'" 1
	ok "mode: the mitm listener's flows, named as typed" fs_wait_sql \
		"select count(*) > 0 from flows where path='/1k' and host='localhost' and mode='regular@127.0.0.1:$PROXY_PORT'" 1
else
	ok "flows: the store has a flows table ($FS_DB)" false
fi

# the flow JSON splits it, and the filter language selects on it
id=$(fs_sql "select id from flows where path='/headers?a=1' limit 1")
is "flow JSON: mode and listener" "$(fs_api "/api/flows/$id" | jq -r '.mode + " " + .listener')" \
	"reverse:http://127.0.0.1:$ORIGIN_PORT 127.0.0.1:$REV_PORT"
# mode_total SQL-LIKE FILTER: the count of flows whose mode is LIKE the pattern and the list's
# total for the (encoded) filter, read until they agree (<= 10 s: the last flows through a
# listener may still be on their way to the store between the two reads)
mode_total() {
	local i want got
	for i in $(seq 1 100); do
		want=$(fs_sql "select count(*) from flows where mode like '$1'")
		got=$(fs_api "/api/flows?filter=$2&limit=1" | jq .total)
		[ "$got" = "$want" ] && break
		sleep 0.1
	done
	echo "$got $want"
}
read -r got want <<<"$(mode_total 'socks5@%' '~mode%20%5Esocks5')"
is "filter ~mode ^socks5: the socks5 listener's flows" "$got" "$want"
read -r got want <<<"$(mode_total "%@127.0.0.1:$REV_PORT" "~mode%20@127.0.0.1:$REV_PORT%24")"
is "filter ~mode @ADDR: one listener's flows by its address" "$got" "$want"
like "filter help lists ~mode" "$(fs_api /api/filter-help)" '"mode"'

fs_stop_flowscope

# --- --keep-host-header: the client's Host goes on to the reverse target ----------------------
fs_start_flowscope --keep-host-header --mode regular \
	--mode "reverse:http://127.0.0.1:$ORIGIN_PORT@$REV_PORT" ||
	done_testing
out=$(curl -sS --max-time 30 -H 'Host: client.example' "http://127.0.0.1:$REV_PORT/headers?keep=1")
like "keep-host-header: the client's Host reaches the server" "$out" 'Host: client.example'
is "keep-host-header: and no other Host" "$(printf '%s' "$out" | grep -ci '^host:')" 1
out=$(curl -sS --max-time 30 --http2 --cacert "$T/ca/ca.pem" \
	--resolve "client.example:$REV_PORT:127.0.0.1" "https://client.example:$REV_PORT/headers?keep=2")
like "keep-host-header, HTTP/2: :authority reaches the server as Host" "$out" \
	"Host: client.example:$REV_PORT"
out=$(printf 'GET /headers?keep=3 HTTP/1.0\r\n\r\n' | fs_raw "$REV_PORT" 5)
like "keep-host-header, a request without Host: the server's name" "$out" \
	"Host: 127.0.0.1:$ORIGIN_PORT"
fs_stop_flowscope
done_testing
