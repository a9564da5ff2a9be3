#!/bin/bash
# SPDX-License-Identifier: MIT
# t_web_door.sh - the question this test answers: is the web API's door locked the way
# mitmweb's CVE-2018-14505 and CVE-2025-23217 taught? No token, a wrong token, a wrong Host
# (DNS rebinding), a foreign Origin or a cross-site write are refused, on REST and on the
# WebSocket; the page trades ?token= for an HttpOnly SameSite=Strict cookie; strict security
# headers are on every answer; requests sent through the proxy to the web port never reach the
# API; the default token is long, random and printed at start.
. "$(dirname "$0")/lib.sh"
[ -d "$(dirname "$0")/../node_modules/ws" ] ||
	{ ok "npm package ws is installed (npm install --prefix tests)" false; done_testing; }

EV="node $(dirname "$0")/web_events.mjs"
W() { echo "http://127.0.0.1:$WEB_PORT$1"; }
code() { # code PATH [curl args...]: status only, no token unless given
	local p="$1"
	shift
	curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@" "$(W "$p")"
}
AUTH=(-H "Authorization: Bearer testtoken")
no_flows() { ! printf '%s' "$1" | grep -q '"flows"'; }

fs_start_flowscope || done_testing

# --- token -----------------------------------------------------------------------------
is "no token: 401" "$(code /api/flows)" 401
is "no token: JSON error" "$(curl -s "$(W /api/flows)" | jq -r 'has("error")')" true
is "no token on every /api call (rules)" "$(code /api/rules)" 401
is "no token on writes (clear)" "$(code /api/flows -X DELETE)" 401
is "no token: ca.pem" "$(code /api/ca.pem)" 401
is "wrong bearer: 401" "$(code /api/flows -H 'Authorization: Bearer testtokeN')" 401
is "token prefix: 401" "$(code /api/flows -H 'Authorization: Bearer testtoke')" 401
is "token plus a byte: 401" "$(code /api/flows -H 'Authorization: Bearer testtoken0')" 401
is "wrong cookie: 401" "$(code /api/flows -b 'flowscope_token=nope')" 401
is "wrong ?token=: 401" "$(code '/api/flows?token=nope')" 401
is "bearer: 200" "$(code /api/flows "${AUTH[@]}")" 200
is "cookie: 200" "$(code /api/flows -b 'flowscope_token=testtoken')" 200
is "?token=: 200" "$(code '/api/flows?token=testtoken')" 200

# --- the page trades the token for a cookie ------------------------------------------------
H=$(curl -s -D - -o /dev/null "$(W '/?token=testtoken')" | tr -d '\r')
like "?token= on the page: redirect" "$H" '^HTTP/1.1 30[23]'
like "redirect drops the token from the URL" "$(echo "$H" | grep -i '^location:')" '^[Ll]ocation: /$'
C=$(echo "$H" | grep -i '^set-cookie:')
like "cookie carries the token" "$C" 'flowscope_token=testtoken'
like "cookie is HttpOnly" "$C" 'HttpOnly'
like "cookie is SameSite=Strict" "$C" 'SameSite=Strict'
like "cookie is Path=/" "$C" 'Path=/'
curl -s -c "$T/jar" -o /dev/null "$(W '/?token=testtoken')"
is "the traded cookie opens the API" "$(code /api/flows -b "$T/jar")" 200
H=$(curl -s -D - -o /dev/null "$(W '/?token=wrong')" | tr -d '\r')
like "wrong token on the page: 401" "$H" '^HTTP/1.1 401'
is "wrong token on the page: no cookie" "$(echo "$H" | grep -ic '^set-cookie')" 0

# --- Host (DNS rebinding) ------------------------------------------------------------------
is "Host 127.0.0.1:PORT: 200" "$(code /api/flows "${AUTH[@]}" -H "Host: 127.0.0.1:$WEB_PORT")" 200
is "Host localhost:PORT: 200" "$(code /api/flows "${AUTH[@]}" -H "Host: localhost:$WEB_PORT")" 200
is "Host [::1]:PORT: 200" "$(code /api/flows "${AUTH[@]}" -H "Host: [::1]:$WEB_PORT")" 200
is "Host rebind.example:PORT: 403" \
	"$(code /api/flows "${AUTH[@]}" -H "Host: rebind.example:$WEB_PORT")" 403
is "Host localhost.evil:PORT: 403" \
	"$(code /api/flows "${AUTH[@]}" -H "Host: localhost.evil:$WEB_PORT")" 403
is "Host without port: 403" "$(code /api/flows "${AUTH[@]}" -H "Host: 127.0.0.1")" 403
is "Host with another port: 403" "$(code /api/flows "${AUTH[@]}" -H "Host: 127.0.0.1:1")" 403
is "no Host: 403" "$(code /api/flows "${AUTH[@]}" -H 'Host:')" 403
is "wrong Host on the UI too: 403" "$(code / -H "Host: rebind.example:$WEB_PORT")" 403
is "wrong Host on the token trade: 403" "$(code '/?token=testtoken' -H 'Host: evil:1')" 403

# --- Origin and Sec-Fetch-Site on writes ------------------------------------------------------
RULES='{"ignore_hosts":[],"allow_hosts":[],"intercept":"","block":[]}'
is "foreign Origin on PUT: 403" "$(code /api/rules "${AUTH[@]}" -X PUT -d "$RULES" \
	-H 'Origin: http://evil.example')" 403
is "foreign Origin on DELETE: 403" "$(code /api/flows "${AUTH[@]}" -X DELETE \
	-H 'Origin: http://evil.example')" 403
is "Origin null on DELETE: 403" "$(code /api/flows "${AUTH[@]}" -X DELETE -H 'Origin: null')" 403
is "https:// variant of our Origin: 403" "$(code /api/flows "${AUTH[@]}" -X DELETE \
	-H "Origin: https://127.0.0.1:$WEB_PORT")" 403
is "own Origin on PUT: 200" "$(code /api/rules "${AUTH[@]}" -X PUT -d "$RULES" \
	-H "Origin: http://127.0.0.1:$WEB_PORT")" 200
is "no Origin on PUT (curl): 200" "$(code /api/rules "${AUTH[@]}" -X PUT -d "$RULES")" 200
is "Sec-Fetch-Site: cross-site write: 403" "$(code /api/rules "${AUTH[@]}" -X PUT -d "$RULES" \
	-H 'Sec-Fetch-Site: cross-site')" 403
is "Sec-Fetch-Site: same-origin write: 200" "$(code /api/rules "${AUTH[@]}" -X PUT -d "$RULES" \
	-H 'Sec-Fetch-Site: same-origin' -H "Origin: http://127.0.0.1:$WEB_PORT")" 200
is "cross-site cookie write (token in cookie) still refused" "$(code /api/flows -X DELETE \
	-b 'flowscope_token=testtoken' -H 'Sec-Fetch-Site: cross-site')" 403

# --- headers on everything ---------------------------------------------------------------------
check_headers() { # check_headers NAME curl-args...
	local name="$1" h
	shift
	h=$(curl -s -D - -o /dev/null "$@" | tr -d '\r' | tr 'A-Z' 'a-z')
	like "$name: strict CSP" "$h" "content-security-policy: default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
	like "$name: X-Frame-Options DENY" "$h" 'x-frame-options: deny'
	like "$name: nosniff" "$h" 'x-content-type-options: nosniff'
	like "$name: no referrer" "$h" 'referrer-policy: no-referrer'
}
check_headers "UI page" "$(W /)"
check_headers "API 200" "${AUTH[@]}" "$(W /api/flows)"
check_headers "API 401" "$(W /api/flows)"
check_headers "API 404" "${AUTH[@]}" "$(W /api/nope)"
check_headers "wrong Host 403" -H 'Host: evil:1' "$(W /)"

# --- the API through the proxy port ------------------------------------------------------------
B=$(fs_curl -s -H "Authorization: Bearer testtoken" "http://127.0.0.1:$WEB_PORT/api/flows" \
	-w ' %{http_code}' 2>/dev/null)
ok "API through the proxy (absolute form): not answered by the API" test "${B##* }" != 200
ok "API through the proxy: no flow list leaks" no_flows "$B"
B=$(fs_curl -s -p -H "Authorization: Bearer testtoken" "http://127.0.0.1:$WEB_PORT/api/flows" \
	-w ' %{http_code}' 2>/dev/null)
ok "API through a CONNECT tunnel: refused" no_flows "$B"
B=$(fs_curl -s -H "Authorization: Bearer testtoken" "http://localhost:$WEB_PORT/api/flows" \
	-w ' %{http_code}' 2>/dev/null)
ok "API through the proxy as localhost: refused" no_flows "$B"

# --- the WebSocket ---------------------------------------------------------------------------
WS="ws://127.0.0.1:$WEB_PORT/api/events"
is "WS without token: refused 401" "$($EV --url "$WS" --timeout 5 | head -1)" "refused 401"
is "WS wrong token: refused 401" "$($EV --url "$WS?token=nope" --timeout 5 | head -1)" "refused 401"
is "WS foreign Origin: refused 403" \
	"$($EV --url "$WS?token=testtoken" --origin http://evil.example --timeout 5 | head -1)" "refused 403"
is "WS wrong Host: refused 403" "$($EV --url "$WS?token=testtoken" \
	--header "Host: rebind.example:$WEB_PORT" --timeout 5 | head -1)" "refused 403"
is "WS cross-site: refused 403" "$($EV --url "$WS?token=testtoken" \
	--header 'Sec-Fetch-Site: cross-site' --timeout 5 | head -1)" "refused 403"
is "WS other path: refused 404" \
	"$($EV --url "ws://127.0.0.1:$WEB_PORT/api/other?token=testtoken" --timeout 5 | head -1)" "refused 404"
is "WS own Origin + cookie: open" "$($EV --url "$WS" --origin "http://127.0.0.1:$WEB_PORT" \
	--header 'Cookie: flowscope_token=testtoken' --timeout 10 --until-open | head -1)" open
is "WS bearer: open" "$($EV --url "$WS" --header 'Authorization: Bearer testtoken' \
	--timeout 10 --until-open | head -1)" open
is "WS ?token=: open" "$($EV --url "$WS?token=testtoken" --timeout 10 --until-open | head -1)" open
fs_stop_flowscope

# --- the default token -----------------------------------------------------------------------
start_plain() { # start_plain NAME [args]: flowscope without --web-token; sets PP WP LOG PID
	local name="$1"
	shift
	PP=$(fs_free_port)
	WP=$(fs_free_port)
	fs_spawn "$name" "$FLOWSCOPE_BIN" --listen "127.0.0.1:$PP" --web "127.0.0.1:$WP" \
		--confdir "$T/conf" --db "$T/plain.db" "$@"
	PID=$FS_SPAWNED_PID
	LOG="$T/$name.log"
}
start_plain plain1
fs_wait_port "$WP" 10 "$PID"
for i in $(seq 1 50); do grep -q 'web UI on' "$LOG" && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*/?token=[^ ]*' "$LOG")
like "prints the UI URL with a 64-hex-digit random token" "$URL" \
	"^http://127.0.0.1:$WP/\?token=[0-9a-f]{64}$"
TOK=${URL##*token=}
is "the printed token opens the API" \
	"$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" "http://127.0.0.1:$WP/api/flows")" 200
is "testtoken does not" \
	"$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer testtoken' "http://127.0.0.1:$WP/api/flows")" 401
fs_kill "$PID"
start_plain plain2
fs_wait_port "$WP" 10 "$PID"
for i in $(seq 1 50); do grep -q 'web UI on' "$LOG" && break; sleep 0.1; done
TOK2=$(grep -o 'token=[0-9a-f]*' "$LOG" | cut -d= -f2)
is "the same token after a restart (kept in the confdir)" "$TOK2" "$TOK"
fs_kill "$PID"

refused_token() { # refused_token NAME TOKEN: flowscope given --web-token TOKEN exits by itself
	"$FLOWSCOPE_BIN" --listen "127.0.0.1:$(fs_free_port)" --web "127.0.0.1:$(fs_free_port)" \
		--confdir "$T/conf" --db "$T/plain.db" --web-token "$2" >"$T/$1.log" 2>&1 &
	local p=$!
	_fs_remember "$p"
	for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$p" 2>/dev/null
}
ok "an empty --web-token is refused (no way to switch auth off)" refused_token empty ''
ok "a token that cannot be a cookie is refused" refused_token bad 'a b;c'

done_testing
