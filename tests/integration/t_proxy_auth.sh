#!/bin/bash
# t_proxy_auth.sh - The question this test answers: with --proxyauth USER:PASS, do the regular,
# forward and socks5 listeners let in only clients with those credentials, while a reverse
# listener beside them asks nothing? Plain HTTP and CONNECT without or with wrong credentials
# get 407 with Proxy-Authenticate; the right ones pass, and Proxy-Authorization reaches neither
# the origin nor the store. SOCKS5 agrees on username/password (RFC 1929) and refuses a client
# that offers only "no authentication" with 0xFF, wrong credentials with status 1, a malformed
# sub-negotiation likewise; the proxy serves on after each.
. "$(dirname "$0")/lib.sh"

fs_start_nginx || done_testing
fs_start_origin || done_testing

FWD_PORT=$(fs_free_port)
SOCKS_PORT=$(fs_free_port)
REV_PORT=$(fs_free_port)
CRED='alice:s3cr3t'
B64=$(printf '%s' "$CRED" | base64)

fs_bad_args "--proxyauth without a colon" 'USER:PASS' --proxyauth nocolon

fs_start_flowscope --proxyauth "$CRED" --mode regular --mode "forward@$FWD_PORT" \
	--mode "socks5@$SOCKS_PORT" --mode "reverse:http://127.0.0.1:$ORIGIN_PORT@$REV_PORT" ||
	done_testing
for _ in $(seq 50); do
	[ "$(grep -c 'proxy listening on' "$FS_LOG")" -ge 4 ] && break
	sleep 0.1
done

# --- regular listener: plain HTTP ----------------------------------------------------------------
code=$(fs_curl -o "$T/407.out" -D "$T/407.head" -w '%{http_code}' \
	"http://127.0.0.1:$ORIGIN_PORT/headers?auth=none")
is "regular, no credentials: 407" "$code" 407
like "regular, no credentials: Proxy-Authenticate Basic with the realm" \
	"$(tr -d '\r' <"$T/407.head")" '^Proxy-Authenticate: Basic realm="flowscope"$'
code=$(fs_curl -o /dev/null -w '%{http_code}' --proxy-user 'alice:wrong' \
	"http://127.0.0.1:$ORIGIN_PORT/headers?auth=wrong")
is "regular, wrong password: 407" "$code" 407
out=$(fs_curl --proxy-user "$CRED" "http://127.0.0.1:$ORIGIN_PORT/headers?auth=ok")
like "regular, right credentials: the origin answers" "$out" '^GET /headers\?auth=ok HTTP/1.1'
is "regular: Proxy-Authorization is not sent to the origin" \
	"$(printf '%s' "$out" | grep -ci 'proxy-authorization')" 0

# --- regular listener: CONNECT -------------------------------------------------------------------
code=$(fs_curl -o /dev/null -w '%{http_connect}' "https://localhost:$NGINX_HTTPS_PORT/1k")
is "CONNECT without credentials: 407" "$code" 407
got=$(fs_curl --proxy-user "$CRED" "https://localhost:$NGINX_HTTPS_PORT/1k?auth=tls" |
	sha256sum | cut -d' ' -f1)
is "CONNECT with credentials: decrypted, body identical" "$got" "$(fs_sha "$NGINX_ROOT/1k")"
out=$(printf 'CONNECT localhost:%s HTTP/1.1\r\nProxy-Authorization: Basic !!!\r\n\r\n' \
	"$NGINX_HTTPS_PORT" | fs_raw "$PROXY_PORT" 5)
like "CONNECT with a header that is not base64: 407" "$out" '^HTTP/1.1 407'
out=$(printf 'GET http://127.0.0.1:%s/ HTTP/1.1\r\nProxy-Authorization: Bearer %s\r\n\r\n' \
	"$ORIGIN_PORT" "$B64" | fs_raw "$PROXY_PORT" 5)
like "a scheme other than Basic: 407" "$out" '^HTTP/1.1 407'

# --- forward listener ----------------------------------------------------------------------------
code=$(curl -sS --max-time 30 -o /dev/null -w '%{http_connect}' --cacert "$T/ca/ca.pem" \
	-x "http://127.0.0.1:$FWD_PORT" "https://localhost:$NGINX_HTTPS_PORT/1k")
is "forward, CONNECT without credentials: 407" "$code" 407
got=$(curl -sS --max-time 30 --cacert "$T/ca/ca.pem" -x "http://127.0.0.1:$FWD_PORT" \
	--proxy-user "$CRED" "https://localhost:$NGINX_HTTPS_PORT/1k" | sha256sum | cut -d' ' -f1)
is "forward, with credentials: relayed, body identical" "$got" "$(fs_sha "$NGINX_ROOT/1k")"

# --- reverse listener: asks nothing --------------------------------------------------------------
out=$(curl -sS --max-time 30 "http://127.0.0.1:$REV_PORT/headers?auth=rev")
like "reverse: no credentials asked" "$out" '^GET /headers\?auth=rev HTTP/1.1'

# --- socks5 --------------------------------------------------------------------------------------
got=$(curl -sS --max-time 30 --cacert "$T/ca/ca.pem" --socks5-hostname "$CRED@127.0.0.1:$SOCKS_PORT" \
	"https://localhost:$NGINX_HTTPS_PORT/1k?auth=socks" | sha256sum | cut -d' ' -f1)
is "socks5 with username/password: decrypted, body identical" "$got" "$(fs_sha "$NGINX_ROOT/1k")"
curl -sS --max-time 30 -o /dev/null --socks5 "alice:bad@127.0.0.1:$SOCKS_PORT" \
	"http://127.0.0.1:$NGINX_HTTP_PORT/1k" 2>"$T/socks.err"
isnt_zero=$?
ok "socks5, wrong password: curl fails" [ "$isnt_zero" -ne 0 ]
like "socks5, wrong password: curl says authentication failed" "$(cat "$T/socks.err")" \
	'(authentication|auth|User was rejected)'
curl -sS --max-time 30 -o /dev/null --socks5 "127.0.0.1:$SOCKS_PORT" \
	"http://127.0.0.1:$NGINX_HTTP_PORT/1k" 2>/dev/null
ok "socks5, no credentials: curl fails" [ "$?" -ne 0 ]

# socks_raw HEX: the bytes to the socks5 listener; what comes back until it closes, as hex
socks_raw() { python3 "$FS_DATA/socks_raw.py" "$SOCKS_PORT" "$1"; }
user_hex=$(printf 'alice' | xxd -p)
pass_hex=$(printf 's3cr3t' | xxd -p)
is "socks5: only 'no authentication' offered: 0xFF" "$(socks_raw 050100)" "05ff"
is "socks5: username/password chosen among several" "$(RAW_SHUT=1 socks_raw 0503000102)" "0502"
is "socks5: sub-negotiation of version 5: failure, closed" \
	"$(socks_raw "0501020505${user_hex}06${pass_hex}")" "05020101"
is "socks5: wrong password: failure, closed" \
	"$(socks_raw "0501020105${user_hex}03616263")" "05020101"
is "socks5: empty username and password: failure, closed" "$(socks_raw 050102010000)" \
	"05020101"
is "socks5: sub-negotiation cut short: closed" \
	"$(RAW_SHUT=1 socks_raw "0501020105${user_hex}")" "0502"
like "socks5: right credentials in one write with the CONNECT: status 0, then its reply" \
	"$(socks_raw "0501020105${user_hex}06${pass_hex}050100017f0000010001")" '^0502010005'

is "after bad SOCKS5 input: the socks5 listener still serves" \
	"$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' \
		--socks5 "$CRED@127.0.0.1:$SOCKS_PORT" "http://127.0.0.1:$NGINX_HTTP_PORT/1k")" 200
is "after every refusal: the regular listener still serves" \
	"$(fs_curl -o /dev/null -w '%{http_code}' --proxy-user "$CRED" \
		"http://localhost:$NGINX_HTTP_PORT/1k")" 200

# --- what the store keeps ------------------------------------------------------------------------
if fs_have_flows; then
	ok "flows: the authorized request recorded" fs_wait_sql \
		"select count(*) > 0 from flows where path='/headers?auth=ok' and status=200" 1
	ok "flows: the socks5 request with credentials recorded" fs_wait_sql \
		"select count(*) > 0 from flows where path='/1k?auth=socks' and status=200" 1
	fs_sql "pragma wal_checkpoint(TRUNCATE)" >/dev/null
	is "flows: the credentials are nowhere in the store" \
		"$(cat "$FS_DB"* | grep -ac -e "$B64" -e 's3cr3t')" 0
else
	ok "flows: the store has a flows table ($FS_DB)" false
fi

fs_stop_flowscope
done_testing
