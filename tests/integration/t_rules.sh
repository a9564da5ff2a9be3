#!/bin/bash
# t_rules.sh - The question this test answers: do the decrypt rules set through
# `GET/PUT /api/rules` take effect for the very next connection while traffic keeps running
# (a client sees the origin's own certificate when its host is ignored, a forged one otherwise),
# are bad rules refused with the old ones kept, and do the rules survive a restart (and get
# seeded from --ignore-hosts)?
. "$(dirname "$0")/lib.sh"
. "$FS_DATA/tls_checks.sh"

shown_fp() { leaf_via_proxy localhost "$NGINX_HTTPS_PORT" -servername localhost | fingerprint; }

fs_start_nginx || done_testing
origin_fp=$(fingerprint <"$T/ca/origin.pem")
fs_start_flowscope || done_testing

# Traffic that runs all along: HTTPS requests to 127.0.0.1 in a loop, counting failures.
(
	fails=0
	while [ ! -f "$T/stop" ]; do
		c=$(curl "${FS_CURL_ARGS[@]}" -s -o /dev/null -w '%{http_code}' \
			"https://127.0.0.1:$NGINX_HTTPS_PORT/1k")
		[ "$c" = 200 ] || fails=$((fails + 1))
		echo "$fails" >"$T/bg.fails"
	done
) &
BG=$!
fs_remember "$BG"

fp=$(shown_fp)
ok "no rules: localhost is decrypted (forged certificate)" [ -n "$fp" -a "$fp" != "$origin_fp" ]

is "PUT ignore_hosts ^localhost:" "$(fs_rules '{"ignore_hosts":["^localhost:"]}')" 200
is "next connection: the origin's own certificate" "$(shown_fp)" "$origin_fp"
is "... and s_client verifies it" "$(cat "$T/s_client.rc")" 0
got=$(fs_curl "https://localhost:$NGINX_HTTPS_PORT/1m" | sha256sum | cut -d' ' -f1)
is "body through the passed-through tunnel identical" "$got" "$(fs_sha "$NGINX_ROOT/1m")"
ok "passed-through connection recorded as a tunnel" fs_wait_sql \
	"select count(*) > 0 from flows where kind='tunnel' and host='localhost' and port=$NGINX_HTTPS_PORT" 1
is "GET /api/rules shows them" "$(fs_api /api/rules | jq -c .ignore_hosts)" '["^localhost:"]'

is "bad regex refused" "$(fs_rules '{"ignore_hosts":["(unclosed"]}')" 400
like "... naming it" "$(fs_api /api/rules -X PUT -d '{"ignore_hosts":["(unclosed"]}')" \
	'ignore_hosts.*parenthesis'
is "old rules kept" "$(fs_api /api/rules | jq -c .ignore_hosts)" '["^localhost:"]'
is "old rules still applied" "$(shown_fp)" "$origin_fp"

is "PUT allow_hosts ^127 (localhost not allowed)" \
	"$(fs_rules '{"allow_hosts":["^127\\.0\\.0\\.1:"]}')" 200
is "allow list: localhost passed through" "$(shown_fp)" "$origin_fp"
is "PUT empty rules" "$(fs_rules '{}')" 200
fp=$(shown_fp)
ok "empty rules: localhost decrypted again" [ -n "$fp" -a "$fp" != "$origin_fp" ]

touch "$T/stop"
wait "$BG" 2>/dev/null
fs_forget "$BG"
is "background traffic never failed while rules changed" "$(cat "$T/bg.fails")" 0
ok "background traffic was decrypted and recorded" fs_wait_sql \
	"select count(*) > 5 from flows where kind='http' and host='127.0.0.1' and path='/1k' and status=200" 1

# --- rules survive a restart ---------------------------------------------------------------------
is "PUT rules with intercept and block" "$(fs_rules '{"ignore_hosts":["^localhost:"],"intercept":"~u never-matches","block":[{"filter":"~u /nope","status":403}]}')" 200
fs_stop_flowscope
fs_start_flowscope || done_testing
R=$(fs_api /api/rules)
is "after restart: ignore_hosts kept" "$(echo "$R" | jq -c .ignore_hosts)" '["^localhost:"]'
is "after restart: intercept kept" "$(echo "$R" | jq -r .intercept)" "~u never-matches"
is "after restart: block kept" "$(echo "$R" | jq -c '.block[0].status')" 403
is "after restart: applied (origin's certificate)" "$(shown_fp)" "$origin_fp"
is "after restart: block applied" \
	"$(fs_curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NGINX_HTTP_PORT/nope")" 403
fs_stop_flowscope

# --- the command line seeds them --------------------------------------------------------------
fs_start_flowscope --ignore-hosts '^127\.0\.0\.1:' || done_testing
like "--ignore-hosts seeds the rules" "$(fs_api /api/rules | jq -c .ignore_hosts)" '127'
fs_stop_flowscope

done_testing
