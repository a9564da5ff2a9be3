#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# t_web_token.sh - the web token survives a restart: made at random on first start and kept in
# CONFDIR/web-token (mode 0600), the same token after a restart (so a page left open is still
# let in), a new one with --web-token-rotate, --web-token overriding without touching the file;
# a file others could read is made 0600, one with rubbish in it is replaced. Also --version.
. "$(dirname "$0")/lib.sh"

CONF="$T/conf"

# Starts flowscope on fresh ports with CONF and the extra args; sets PID, WEB_PORT and TOKEN
# (from the banner's URL).
start() {
	local i
	PROXY_PORT=$(fs_free_port)
	WEB_PORT=$(fs_free_port)
	LOG="$T/fs.$RANDOM.log"
	"$FLOWSCOPE_BIN" --listen "127.0.0.1:$PROXY_PORT" --web "127.0.0.1:$WEB_PORT" \
		--confdir "$CONF" --db "$T/flows.db" "$@" >"$LOG" 2>&1 &
	PID=$!
	fs_remember "$PID"
	TOKEN=""
	for i in $(seq 1 200); do
		TOKEN=$(sed -n 's/.*web UI on http.*?token=\(.*\)$/\1/p' "$LOG")
		[ -n "$TOKEN" ] && break
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
}

stop() {
	kill -TERM "$PID" 2>/dev/null
	wait "$PID"
	fs_forget "$PID"
}

code() {
	curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" \
		"http://127.0.0.1:$WEB_PORT/api/flows?limit=1"
}

like "--version prints the version" "$("$FLOWSCOPE_BIN" --version)" '^flowscope [0-9]+\.[0-9]+\.[0-9]+$'
like "--help lists --web-token-rotate" "$("$FLOWSCOPE_BIN" --help)" 'web-token-rotate'

start
first="$TOKEN"
like "a random token on first start" "$first" '^[0-9a-f]{64}$'
is "it is kept in CONFDIR/web-token" "$(cat "$CONF/web-token")" "$first"
is "the file is the user's alone" "$(stat -c %a "$CONF/web-token")" 600
is "the API takes it" "$(code "$first")" 200
stop

start
is "a restart keeps the token" "$TOKEN" "$first"
is "the API takes it after the restart" "$(code "$first")" 200
stop

start --web-token given-on-the-command-line
is "--web-token overrides the kept one" "$TOKEN" given-on-the-command-line
is "and the API takes it" "$(code given-on-the-command-line)" 200
is "the kept one is not taken then" "$(code "$first")" 401
is "the file is left as it was" "$(cat "$CONF/web-token")" "$first"
stop

start --web-token-rotate
second="$TOKEN"
like "--web-token-rotate makes a new token" "$second" '^[0-9a-f]{64}$'
ok "a different one" [ "$second" != "$first" ]
is "the new one is kept" "$(cat "$CONF/web-token")" "$second"
is "the old one is refused" "$(code "$first")" 401
stop

chmod 644 "$CONF/web-token"
start
is "a token file others can read is kept" "$TOKEN" "$second"
is "and made 0600" "$(stat -c %a "$CONF/web-token")" 600
stop

echo "not a token!" >"$CONF/web-token"
start
like "a file without a valid token gets a new one" "$TOKEN" '^[0-9a-f]{64}$'
is "which is kept" "$(cat "$CONF/web-token")" "$TOKEN"
like "and the log says why" "$(cat "$LOG")" 'does not hold a valid token'
stop

rm "$CONF/web-token"
start
like "deleting the file rotates the token too" "$TOKEN" '^[0-9a-f]{64}$'
ok "a different one again" [ "$TOKEN" != "$second" ]
stop

done_testing
