#!/bin/bash
# t_proxy_websocket.sh - The question this test answers: is a WebSocket upgrade relayed
# through flowscope, plain (absolute-form GET with Upgrade) and intercepted over TLS (CONNECT),
# with text, binary (76 KB) and ping frames echoed intact, and is the upgrade recorded?
. "$(dirname "$0")/lib.sh"

fs_start_origin || done_testing
fs_start_origin --tls || done_testing
fs_start_flowscope || done_testing

out=$(timeout 20 python3 "$FS_DATA/wsclient.py" "$PROXY_PORT" localhost "$ORIGIN_PORT" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
is "ws:// through the proxy: upgrade and echoes intact" "$rc" 0
out=$(timeout 20 python3 "$FS_DATA/wsclient.py" "$PROXY_PORT" localhost "$ORIGIN_TLS_PORT" \
	--tls "$T/ca/ca.pem" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
is "wss:// through the proxy (intercepted): upgrade and echoes intact" "$rc" 0
is "after websockets: the proxy still serves" \
	"$(fs_curl -o /dev/null -w '%{http_code}' "http://localhost:$ORIGIN_PORT/status/200")" 200

if fs_have_flows; then
	ok "flows: the plain upgrade recorded with status 101" fs_wait_sql \
		"select count(*) > 0 from flows where port=$ORIGIN_PORT and path='/ws' and status=101" 1
	ok "flows: the TLS upgrade recorded with status 101" fs_wait_sql \
		"select count(*) > 0 from flows where port=$ORIGIN_TLS_PORT and path='/ws' and status=101 and scheme='https'" 1
else
	ok "flows: the store has a flows table ($FS_DB)" false
fi

fs_stop_flowscope
done_testing
