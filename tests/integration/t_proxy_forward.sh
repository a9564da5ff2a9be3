#!/bin/bash
# t_proxy_forward.sh - The question this test answers: when flowscope must not decrypt -
# `--mode forward`, or a host matched by `--ignore-hosts` / not matched by `--allow-hosts` in
# mitm mode - does the client see the origin's own certificate through a plain CONNECT tunnel
# (and the others a forged one), does traffic still flow, and is each passed-through tunnel
# recorded as a flow of kind 'tunnel' with its byte counts?
. "$(dirname "$0")/lib.sh"
. "$FS_DATA/tls_checks.sh"

fs_start_nginx || done_testing
origin_fp=$(fingerprint <"$T/ca/origin.pem")

# shown_fp HOST: fingerprint of the leaf shown for HOST:$NGINX_HTTPS_PORT through the proxy.
shown_fp() {
	local sni=(-servername "$1")
	[ "$1" = 127.0.0.1 ] && sni=(-noservername)
	leaf_via_proxy "$1" "$NGINX_HTTPS_PORT" "${sni[@]}" -CAfile "$T/ca/ca.pem" | fingerprint
}

tunnel_rows() {
	local host="$1"
	if ! fs_have_flows; then
		ok "flows: the store has a flows table ($FS_DB)" false
		return
	fi
	ok "flows: tunnel to $host:$NGINX_HTTPS_PORT recorded with bytes both ways" fs_wait_sql \
		"select count(*) > 0 from flows where kind='tunnel' and host='$host' and port=$NGINX_HTTPS_PORT and bytes_up > 0 and bytes_down > 0 and ended_us >= started_us" 1
	ok "flows: no decrypted request recorded for the tunnelled $host" fs_wait_sql \
		"select count(*) from flows where kind='http' and scheme='https' and host='$host' and port=$NGINX_HTTPS_PORT" 0
}

# --- forward mode ---------------------------------------------------------------------------
fs_start_flowscope --mode forward || done_testing
is "forward mode: the client sees the origin's own certificate" "$(shown_fp localhost)" "$origin_fp"
is "forward mode: s_client verifies it" "$(cat "$T/s_client.rc")" 0
got=$(fs_curl "https://localhost:$NGINX_HTTPS_PORT/1m" | sha256sum | cut -d' ' -f1)
is "forward mode: HTTPS body through the tunnel identical" "$got" "$(fs_sha "$NGINX_ROOT/1m")"
got=$(fs_curl "http://localhost:$NGINX_HTTP_PORT/1k" | sha256sum | cut -d' ' -f1)
is "forward mode: plain HTTP still proxied" "$got" "$(fs_sha "$NGINX_ROOT/1k")"
tunnel_rows localhost
fs_stop_flowscope

# split_rules FLAG REGEX: mitm with FLAG REGEX passes localhost through and decrypts 127.0.0.1.
split_rules() {
	rm -f "$T/flows.db"*
	fs_start_flowscope "$1" "$2" || done_testing
	is "$1: a host passed through shows the origin's own certificate" \
		"$(shown_fp localhost)" "$origin_fp"
	fp=$(shown_fp 127.0.0.1)
	ok "$1: the other host is intercepted (forged certificate)" \
		[ -n "$fp" -a "$fp" != "$origin_fp" ]
	got=$(fs_curl "https://localhost:$NGINX_HTTPS_PORT/1m" | sha256sum | cut -d' ' -f1)
	is "$1: body through the passed-through tunnel identical" "$got" \
		"$(fs_sha "$NGINX_ROOT/1m")"
	got=$(fs_curl "https://127.0.0.1:$NGINX_HTTPS_PORT/1k" | sha256sum | cut -d' ' -f1)
	is "$1: body from the intercepted host identical" "$got" "$(fs_sha "$NGINX_ROOT/1k")"
	tunnel_rows localhost
}

# --- mitm with --ignore-hosts: localhost passes, 127.0.0.1 is decrypted ----------------------
split_rules --ignore-hosts '^localhost'
fs_stop_flowscope

# --- mitm with --allow-hosts: only 127.0.0.1 is decrypted --------------------------------------
split_rules --allow-hosts '^127\.0\.0\.1'
if fs_have_flows; then
	ok "flows: the allowed host's request was decrypted and recorded" fs_wait_sql \
		"select count(*) > 0 from flows where kind='http' and scheme='https' and host='127.0.0.1' and path='/1k' and status=200" 1
fi
fs_stop_flowscope

done_testing
