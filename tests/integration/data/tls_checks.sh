# shellcheck shell=bash
# tls_checks.sh - helpers for looking at the certificate a client is shown through the proxy.

# leaf_via_proxy HOST PORT [s_client args...]: prints the leaf certificate (PEM) that a client
# connecting through the proxy at $PROXY_PORT is shown; the s_client transcript goes to
# $T/s_client.log and its exit status to $T/s_client.rc.
leaf_via_proxy() {
	local host="$1" port="$2"
	shift 2
	timeout 10 openssl s_client -proxy "127.0.0.1:$PROXY_PORT" -connect "$host:$port" "$@" \
		</dev/null >"$T/s_client.out" 2>"$T/s_client.log"
	echo $? >"$T/s_client.rc"
	openssl x509 -outform PEM <"$T/s_client.out" 2>/dev/null
}

fingerprint() { openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2; }
