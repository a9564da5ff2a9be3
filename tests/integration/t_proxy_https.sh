#!/bin/bash
# t_proxy_https.sh - The question this test answers: does intercepted HTTPS (CONNECT, forged
# certificate trusted via the test CA, upstream TLS verified via SSL_CERT_FILE) carry the same
# traffic as plain HTTP unchanged - bodies byte-identical from 0 B to 64 MiB with bounded
# memory, chunked, keep-alive, HTTP/1.0, POST bodies, Expect: 100-continue - and is each
# decrypted exchange recorded with its TLS details? Is a CONNECT to decrypt answered before the
# upstream is reached, with a ClientHello sent meanwhile waiting for it? Does the next
# connection to the same upstream resume its TLS session? Does a response that runs until the
# connection closes end with a close_notify, and one cut short by the upstream without?
. "$(dirname "$0")/lib.sh"
. "$FS_DATA/transfer_checks.sh"

fs_start_nginx || done_testing
fs_start_origin --tls || done_testing
fs_start_flowscope || done_testing

transfer_checks https "$NGINX_HTTPS_PORT" "$ORIGIN_TLS_PORT"
flow_checks https "$NGINX_HTTPS_PORT"
if fs_have_flows; then
	ok "https flows: SNI and TLS version recorded" fs_wait_sql \
		"select count(*) > 0 from flows where scheme='https' and tls_sni='localhost' and tls_version like 'TLS%'" 1
fi

# The upstream's accept queue is full until the client has its "200": the answer must not
# wait for the upstream, and the hello that follows must wait for it.
out=$(timeout 30 python3 "$FS_DATA/early_connect.py" --proxy-port "$PROXY_PORT" \
	--ca "$FS_CONF/ca.pem" --cert "$T/ca/origin.pem" --key "$T/ca/origin.key" 2>&1)
diag "early CONNECT: $(echo $out)"
kv() { echo "$out" | sed -n "s/^$1=//p"; }
is "early CONNECT: answered 200" "$(kv connect_status)" "HTTP/1.1 200 Connection established"
ok "early CONNECT: answered before the upstream accepted ($(kv connect_answered_ms) ms < $(kv upstream_accepted_ms) ms)" \
	[ "$(kv connect_answered_ms)" -lt "$(kv upstream_accepted_ms)" ]
is "early CONNECT: the request sent meanwhile got its answer" "$(kv body)" "early"

# A body that runs until close is complete only if the TLS session ends with a close_notify;
# a body the upstream cut short must end without one, so that the client sees the truncation.
for path in /close /die; do
	out=$(timeout 30 python3 "$FS_DATA/tls_close.py" --proxy-port "$PROXY_PORT" \
		--ca "$FS_CONF/ca.pem" --port "$ORIGIN_TLS_PORT" --path "$path" 2>&1)
	diag "$path: $out"
	if [ $path = /close ]; then
		like "a body until close: the client gets all of it and a close_notify" "$out" \
			'^end=close_notify bytes=12[0-9]{3}$'
	else
		like "a body cut short upstream: the client sees the connection end without one" \
			"$out" '^end=eof '
	fi
done

fs_stop_flowscope

# Upstream TLS resumption: nginx issues session tickets; the second and third connections
# through a fresh proxy offer the first one's session.
FLOWSCOPE_LOG=debug fs_start_flowscope || done_testing
for i in 1 2 3; do
	is "resumption: request $i answered" \
		"$(fs_curl -o /dev/null -w '%{http_code}' "https://localhost:$NGINX_HTTPS_PORT/1k")" 200
done
is "resumption: first upstream handshake full" \
	"$(grep -c 'upstream TLS with localhost:.*: full handshake' "$FS_LOG")" 1
is "resumption: later ones resumed" \
	"$(grep -c 'upstream TLS with localhost:.*: resumed handshake' "$FS_LOG")" 2
fs_stop_flowscope

done_testing
