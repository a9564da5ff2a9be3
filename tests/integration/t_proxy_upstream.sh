#!/bin/bash
# t_proxy_upstream.sh - The question this test answers: does an upstream:http://HOST:PORT
# listener send everything on through that proxy (here a second flowscope in forward mode,
# asking for credentials): plain HTTP as absolute-form requests, HTTPS through a CONNECT,
# both carrying --upstream-auth, while HTTPS is still decrypted and recorded here? And do an upstream proxy
# that refuses the CONNECT (nginx, which is no proxy) and one that cannot be reached give a 502 page
# naming the cause, the proxy serving on afterwards? Several listeners at once. And does a replay
# of a flow that came through the upstream: listener go through that proxy again (plain HTTP
# in absolute-form with the credentials, HTTPS through a CONNECT)? Without --upstream-auth,
# the upstream proxy's 407 reaches the client (relayed, or named by the 502 page of a tunnel).
. "$(dirname "$0")/lib.sh"

fs_start_nginx || done_testing
fs_start_origin || done_testing

UP_PORT=$(fs_free_port)
UP_WEB=$(fs_free_port)
REFUSE_PORT=$(fs_free_port)
DEAD_PORT=$(fs_free_port)
fs_refused_port || done_testing # held, never listening: connections are refused
CLOSED_PORT=$FS_REFUSED_PORT

for bad in 'upstream:https://127.0.0.1:3128' 'upstream:http://127.0.0.1' 'upstream:http://u:p@h:1'; do
	fs_bad_args "--mode '$bad'" '--mode' --mode "$bad"
done

# the upstream proxy: a forward flowscope with credentials of its own
fs_spawn upstream "$FLOWSCOPE_BIN" --listen "127.0.0.1:$UP_PORT" --web "127.0.0.1:$UP_WEB" \
	--confdir "$T/upconf" --db "$T/up.db" --web-token uptoken --mode forward \
	--proxyauth 'up:pw'
UP_PID=$FS_SPAWNED_PID
fs_wait_port "$UP_PORT" 10 "$UP_PID" || { ok "the upstream flowscope starts" false; done_testing; }

fs_start_flowscope --mode "upstream:http://127.0.0.1:$UP_PORT" --upstream-auth 'up:pw' \
	--mode "upstream:http://127.0.0.1:$NGINX_HTTP_PORT@$REFUSE_PORT" \
	--mode "upstream:http://127.0.0.1:$CLOSED_PORT@$DEAD_PORT" || done_testing
for _ in $(seq 50); do
	[ "$(grep -c 'proxy listening on' "$FS_LOG")" -ge 3 ] && break
	sleep 0.1
done
is "banner: one line per listener" "$(grep -c 'proxy listening on' "$FS_LOG")" 3

# the HTTPS tunnels the upstream flowscope recorded
up_count() {
	sqlite3 -batch -cmd '.timeout 5000' "$T/up.db" \
		"select count(*) from flows where kind='tunnel' and port=$NGINX_HTTPS_PORT" 2>/dev/null
}
up_tunnels() { [ "$(up_count)" -gt "${1:-0}" ]; }

out=$(fs_curl "http://127.0.0.1:$ORIGIN_PORT/headers?up=plain")
like "plain HTTP through the upstream proxy: the origin answers" "$out" \
	'^GET /headers\?up=plain HTTP/1.1'
is "plain HTTP: no Proxy-Authorization reaches the origin" \
	"$(printf '%s' "$out" | grep -ci 'proxy-authorization')" 0
for _ in $(seq 50); do
	[ "$(sqlite3 -batch -cmd '.timeout 5000' "$T/up.db" "select count(*) from flows where kind='http' and path='/headers?up=plain'" 2>/dev/null)" = 1 ] && break
	sleep 0.1
done
is "plain HTTP: sent to the upstream proxy as an absolute-form request (it recorded it)" \
	"$(sqlite3 -batch -cmd '.timeout 5000' "$T/up.db" "select count(*) from flows where kind='http' and host='127.0.0.1' and port=$ORIGIN_PORT and path='/headers?up=plain' and status=200" 2>/dev/null)" 1
got=$(fs_curl "https://localhost:$NGINX_HTTPS_PORT/1m?up=tls" | sha256sum | cut -d' ' -f1)
is "HTTPS through the upstream proxy: decrypted here, body identical" "$got" \
	"$(fs_sha "$NGINX_ROOT/1m")"
for _ in $(seq 50); do up_tunnels && break; sleep 0.1; done
before=$(up_count)
got=$(fs_curl --http2 "https://localhost:$NGINX_HTTPS_PORT/1k?up=h2" | sha256sum | cut -d' ' -f1)
is "HTTP/2 from the client: its streams go through the upstream proxy too" "$got" \
	"$(fs_sha "$NGINX_ROOT/1k")"
got=$(fs_curl --data-binary @"$NGINX_ROOT/1k" "http://127.0.0.1:$ORIGIN_PORT/echo" |
	sha256sum | cut -d' ' -f1)
is "a POST through the upstream proxy: body there and back" "$got" "$(fs_sha "$NGINX_ROOT/1k")"
for _ in $(seq 50); do up_tunnels "$before" && break; sleep 0.1; done
ok "the upstream proxy recorded the HTTPS tunnels (the HTTP/2 one too)" up_tunnels "$before"

# --- refusals ----------------------------------------------------------------------------------
out=$(curl -sS --max-time 30 -w '\n%{http_code}' --cacert "$T/ca/ca.pem" \
	-x "http://127.0.0.1:$REFUSE_PORT" "https://localhost:$NGINX_HTTPS_PORT/1k")
is "an upstream 'proxy' that refuses CONNECT (nginx): 502 inside the decrypted tunnel" "$(printf '%s' "$out" | tail -1)" 502
like "the 502 page names the refusal and its status" "$out" 'refused CONNECT localhost:[0-9]*: HTTP/1.1 4[0-9][0-9]'
out=$(curl -sS --max-time 30 -w '\n%{http_code}' -x "http://127.0.0.1:$DEAD_PORT" \
	"http://127.0.0.1:$ORIGIN_PORT/headers")
is "unreachable upstream proxy: 502" "$(printf '%s' "$out" | tail -1)" 502
like "the 502 page names the upstream proxy" "$out" "upstream proxy 127.0.0.1:$CLOSED_PORT"
code=$(curl -sS --max-time 30 -o "$T/tls502.out" -w '%{http_code}' --cacert "$T/ca/ca.pem" \
	-x "http://127.0.0.1:$DEAD_PORT" "https://localhost:$NGINX_HTTPS_PORT/1k")
is "HTTPS to an unreachable upstream proxy: 502 inside the decrypted tunnel" "$code" 502
is "after the refusals: still served through the upstream proxy" \
	"$(fs_curl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ORIGIN_PORT/headers")" 200

if fs_have_flows; then
	ok "flows: the decrypted HTTPS request recorded here" fs_wait_sql \
		"select count(*) > 0 from flows where scheme='https' and host='localhost' and path='/1m?up=tls' and status=200" 1
	ok "flows: the HTTP/2 request recorded" fs_wait_sql \
		"select count(*) > 0 from flows where path='/1k?up=h2' and status=200" 1
	ok "flows: the refused one recorded as an error naming the proxy" fs_wait_sql \
		"select count(*) > 0 from flows where state='error' and error like '%upstream proxy%'" 1
else
	ok "flows: the store has a flows table ($FS_DB)" false
fi

# --- a replay goes through the upstream proxy its flow came through ---------------------------
up_sql() { sqlite3 -batch -cmd '.timeout 5000' "$T/up.db" "$1" 2>/dev/null; }
replay() { fs_api "/api/flows/$1/replay" -X POST | jq -r '.id // empty'; }
id=$(fs_sql "select id from flows where path='/headers?up=plain' and status=200 limit 1")
rid=$(replay "$id")
ok "replay of a plain flow: accepted" test -n "$rid"
ok "replay of a plain flow: answered" fs_wait_sql "select status from flows where id=0$rid" 200
ok "replay of a plain flow: the upstream proxy saw it again (absolute-form, credentials)" \
	timeout 10 bash -c "until [ \"\$(sqlite3 -batch -cmd '.timeout 5000' '$T/up.db' \"select count(*) from flows where kind='http' and path='/headers?up=plain' and status=200\")\" = 2 ]; do sleep 0.1; done"
before=$(up_count)
id=$(fs_sql "select id from flows where path='/1m?up=tls' and status=200 limit 1")
rid=$(replay "$id")
ok "replay of an HTTPS flow: answered" fs_wait_sql "select status from flows where id=0$rid" 200
ok "replay of an HTTPS flow: through a CONNECT to the upstream proxy" \
	timeout 10 bash -c "until [ \"\$(sqlite3 -batch -cmd '.timeout 5000' '$T/up.db' \"select count(*) from flows where kind='tunnel' and port=$NGINX_HTTPS_PORT\")\" -gt $before ]; do sleep 0.1; done"
is "a replay records no mode of its own" "$(fs_sql "select mode is null from flows where id=0$rid")" 1

fs_stop_flowscope

# --- the same upstream proxy without --upstream-auth: its 407 reaches the client ---------------
fs_start_flowscope --mode "upstream:http://127.0.0.1:$UP_PORT" || done_testing
out=$(fs_curl -D - -o /dev/null "http://127.0.0.1:$ORIGIN_PORT/headers?up=noauth")
like "no credentials, plain HTTP: the upstream proxy's 407 is relayed" "$out" '^HTTP/1.1 407'
like "no credentials, plain HTTP: with its Proxy-Authenticate" "$out" '[Pp]roxy-[Aa]uthenticate: Basic'
out=$(fs_curl -w '\n%{http_code}' "https://localhost:$NGINX_HTTPS_PORT/1k?up=noauth")
is "no credentials, HTTPS: 502 inside the decrypted tunnel" "$(printf '%s' "$out" | tail -1)" 502
like "no credentials, HTTPS: the page names the 407" "$out" \
	'refused CONNECT localhost:[0-9]*: HTTP/1.1 407'
ok "no credentials: the 407 recorded as the flow's response" fs_wait_sql \
	"select count(*) from flows where path='/headers?up=noauth' and status=407" 1
is "no credentials: the proxy is still up" \
	"$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/")" 200

fs_stop_flowscope
fs_kill "$UP_PID"
done_testing
