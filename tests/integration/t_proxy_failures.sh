#!/bin/bash
# t_proxy_failures.sh - The question this test answers: when the far side fails - a name that
# does not resolve, a refused connection, an upstream certificate that does not verify, an
# upstream dying mid-body, a client that rejects the forged certificate - does the client get
# a 502 page naming the cause (when it can still be told), is the failure recorded as a flow
# with an error, and does the proxy keep serving afterwards?
. "$(dirname "$0")/lib.sh"

fs_start_nginx || done_testing
fs_start_origin || done_testing
fs_start_origin --tls || done_testing

# An origin whose certificate is self-signed and not in SSL_CERT_FILE.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-keyout "$T/self.key" -out "$T/self.pem" -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
SELF_PORT=$(fs_free_port)
fs_spawn s_server openssl s_server -accept "127.0.0.1:$SELF_PORT" -naccept 1000 \
	-cert "$T/self.pem" -key "$T/self.key" -www -quiet
SELF_PID=$FS_SPAWNED_PID
fs_wait_port "$SELF_PORT" 10 "$SELF_PID" || ok "openssl s_server starts" false

fs_refused_port || done_testing # held, never listening: connections are refused
CLOSED_PORT=$FS_REFUSED_PORT

fs_start_flowscope || done_testing

still_serving() {
	is "after $1: the proxy still serves a normal request" \
		"$(fs_curl -o /dev/null -w '%{http_code}' "http://localhost:$NGINX_HTTP_PORT/1k")" 200
	is "after $1: the proxy still serves a normal HTTPS request" \
		"$(fs_curl -o /dev/null -w '%{http_code}' "https://localhost:$NGINX_HTTPS_PORT/1k")" 200
}

# answer502 DESC URL REGEX: the client is told 502 with a body naming the cause. For https
# URLs the proxy may answer the CONNECT itself or, after the TLS handshake, the request: both
# count, as long as the client sees a 502 and the words.
answer502() {
	local desc="$1" url="$2" re="$3" out code connect
	out=$(fs_curl -D "$T/h.502" -w '\n%{http_code} %{http_connect}' "$url" 2>"$T/curl.err")
	code=$(printf '%s' "$out" | tail -1 | cut -d' ' -f1)
	connect=$(printf '%s' "$out" | tail -1 | cut -d' ' -f2)
	ok "$desc: client gets 502 (got request $code, CONNECT $connect)" \
		[ "$code" = 502 -o "$connect" = 502 ] || diag "curl: $(head -c 300 "$T/curl.err")"
	if [ "$connect" = 502 ] && [ "$code" != 502 ]; then
		# curl does not show the body of a failed CONNECT; read it raw.
		local hp=${url#https://}
		hp=${hp%%/*}
		case "$hp" in *:*) ;; *) hp="$hp:443" ;; esac
		out=$(printf 'CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n' "$hp" "$hp" | fs_raw "$PROXY_PORT" 10)
	fi
	like "$desc: the 502 page names the cause" "$(printf '%s' "$out" | tr 'A-Z' 'a-z')" "$re"
}

flow_error() {
	local desc="$1" where="$2"
	if fs_have_flows; then
		ok "flows: $desc recorded as an error with its text" fs_wait_sql \
			"select count(*) > 0 from flows where $where and state='error' and length(error) > 0" 1
	else
		ok "flows: the store has a flows table ($FS_DB)" false
	fi
}

# --- DNS failure ----------------------------------------------------------------------------
answer502 "DNS failure (http)" "http://no-such-host.invalid/x" '(dns|resolve|no-such-host\.invalid|name)'
flow_error "DNS failure (http)" "host='no-such-host.invalid'"
still_serving "a DNS failure"
answer502 "DNS failure (https)" "https://no-such-host2.invalid/x" '(dns|resolve|no-such-host2\.invalid|name)'
flow_error "DNS failure (https)" "host='no-such-host2.invalid'"
still_serving "an HTTPS DNS failure"

# --- refused connection ---------------------------------------------------------------------
answer502 "refused connection (http)" "http://127.0.0.1:$CLOSED_PORT/x" '(refused|connect)'
flow_error "refused connection" "port=$CLOSED_PORT"
still_serving "a refused connection"
answer502 "refused connection (https)" "https://127.0.0.1:$CLOSED_PORT/x" '(refused|connect)'
still_serving "a refused HTTPS connection"

# --- upstream certificate verification failure ------------------------------------------------
answer502 "upstream certificate not trusted" "https://localhost:$SELF_PORT/" \
	'(certificate|verif|tls|ssl)'
flow_error "upstream verification failure" "port=$SELF_PORT"
still_serving "an upstream verification failure"

# --- upstream dying mid-body ----------------------------------------------------------------
for s in http https; do
	if [ $s = http ]; then p=$ORIGIN_PORT; else p=$ORIGIN_TLS_PORT; fi
	fs_curl -o "$T/die.out" "$s://localhost:$p/die" 2>"$T/curl.err"
	rc=$?
	is "$s upstream dies mid-body: curl sees an incomplete transfer (exit 18)" "$rc" 18
	diag "$(head -c 200 "$T/curl.err")"
	is "$s upstream dies mid-body: the 1000 bytes sent arrived" "$(stat -c %s "$T/die.out")" 1000
	flow_error "$s upstream dying mid-body" "port=$p and path='/die'"
	still_serving "$s upstream dying mid-body"
done

# --- a client that rejects the forged certificate --------------------------------------------
curl -sS --max-time 10 --cacert "$T/self.pem" -x "$PROXY" -o /dev/null \
	"https://localhost:$NGINX_HTTPS_PORT/1k" 2>"$T/curl.err"
rc=$?
is "client trusting another CA rejects the forged certificate (curl exit 60)" "$rc" 60
curl -sS --max-time 10 -x "$PROXY" -o /dev/null "https://localhost:$NGINX_HTTPS_PORT/1k" \
	2>"$T/curl.err"
rc=$?
is "client with only the system trust store rejects it (curl exit 60)" "$rc" 60
if fs_have_flows; then
	ok "flows: the rejected handshake recorded as an error" fs_wait_sql \
		"select count(*) > 0 from flows where host='localhost' and port=$NGINX_HTTPS_PORT and state='error' and length(error) > 0" 1
fi
still_serving "a client rejecting the forged certificate"

# --- with --ssl-insecure the self-signed origin is reachable ----------------------------------
fs_stop_flowscope
fs_start_flowscope --ssl-insecure || done_testing
is "--ssl-insecure: the self-signed origin answers through the proxy" \
	"$(fs_curl -o /dev/null -w '%{http_code}' "https://localhost:$SELF_PORT/")" 200
still_serving "an --ssl-insecure request"
fs_stop_flowscope

done_testing
