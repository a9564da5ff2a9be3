#!/bin/bash
# t_websocket_messages.sh - The question this test answers: are a WebSocket's messages
# recorded as they were sent, in order, whatever carries the socket? An echo origin
# (python3-websockets) over TCP and TLS; clients (wsproto) through the proxy over ws://
# (absolute form) and wss:// (a decrypted CONNECT), with and without permessage-deflate: text,
# binary, fragmented (a ping between the fragments), 0-byte, JSON and 2 MiB messages, a close
# from either side, 30 sockets at once. The API (paged with ?after=) must give back exactly
# what was sent, and the close; a malformed frame from either side ends that socket with a
# recorded error while the proxy goes on serving.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3 # Debian's, with python3-websockets and python3-wsproto
if ! $PY -c 'import websockets, wsproto' 2>/dev/null; then
	skip "python3-websockets and python3-wsproto are not installed"
	done_testing
fi

# start_echo [args]: an echo origin on a free port (ECHO_STARTED), stopped at exit. Not in a
# $(...) subshell: the exit trap must know its PID.
start_echo() {
	ECHO_STARTED=$(fs_free_port)
	fs_spawn "wsecho-$ECHO_STARTED" $PY "$FS_DATA/wsecho.py" --port "$ECHO_STARTED" "$@"
	fs_wait_port "$ECHO_STARTED" 10 "$FS_SPAWNED_PID" || { ok "echo origin starts" false; return 1; }
}
start_echo || done_testing
ECHO_PORT=$ECHO_STARTED
start_echo --cert "$T/ca/origin.pem" --key "$T/ca/origin.key" || done_testing
ECHO_TLS_PORT=$ECHO_STARTED
fs_start_flowscope || done_testing

# conversation NAME PORT DEFLATE(0|1) wsconv-args...: talk, then check what was recorded.
conversation() {
	local name="$1" port="$2" deflate="$3" out="$T/conv-$1"
	shift 3
	mkdir -p "$out"
	ok "$name: every echo intact" timeout 90 $PY "$FS_DATA/wsconv.py" "$PROXY_PORT" localhost \
		"$port" "$out" --tag "$name" "$@"
	ok "$name: recorded messages equal what was sent, in order, and the close" \
		$PY "$FS_DATA/wscheck.py" "$out" "$FS_DB" "$WEB_PORT" testtoken "$port" "$deflate"
}

conversation ws "$ECHO_PORT" 0 --big
conversation ws-deflate "$ECHO_PORT" 1 --deflate --big --server-close
conversation wss "$ECHO_TLS_PORT" 0 --tls "$T/ca/ca.pem" --server-close
conversation wss-deflate "$ECHO_TLS_PORT" 1 --tls "$T/ca/ca.pem" --deflate --big
conversation wss-30 "$ECHO_TLS_PORT" 1 --tls "$T/ca/ca.pem" --deflate --sockets 30
conversation ws-30 "$ECHO_PORT" 0 --sockets 30

# A malformed frame from either side: that socket ends with the flow's error.
for side in client server; do
	ok "a malformed frame from the $side closes that socket" \
		timeout 20 $PY "$FS_DATA/wsbad.py" "$PROXY_PORT" "$side"
	ok "... and its flow records the error" fs_wait_sql \
		"select count(*) from flows where path='/bad-$side' and state='error' and
		 error like '$side: %WebSocket%'" 1
done
is "after all that: the proxy still serves" \
	"$(fs_curl -o /dev/null -w '%{http_code}' "http://localhost:$ECHO_PORT/")" 426

# filter_total EXPR: how many flows the list call finds for EXPR.
filter_total() {
	fs_api /api/flows -G --data-urlencode "filter=$1" | $PY -c 'import json,sys; print(json.load(sys.stdin)["total"])'
}
is "~websocket: every socket (64 conversations, 2 malformed)" "$(filter_total '~websocket')" 66
is "~b: a message's content, either side" "$(filter_total '~b frag-ment-ed')" 64
is "~bq: what a client sent" "$(filter_total '~bq close-me')" 2
is "~bs: not what only a client sent" "$(filter_total '~bs close-me')" 0
is "~bs: what the server sent" "$(filter_total '~bs "frag-ment-ed 17$"')" 2
is "~b and ~websocket together" "$(filter_total '~websocket & ~b "hello ü 3$"')" 2
is "~b on HTTP bodies still works beside messages" "$(filter_total '~b zzz-not-there')" 0

ok "HAR: _webSocketMessages exported as sent, and imported back" \
	$PY "$FS_DATA/wshar.py" "$T/conv-ws-deflate" "$WEB_PORT" testtoken '~u t=ws-deflate&'
ok "HAR: binary and 2 MiB messages too" \
	$PY "$FS_DATA/wshar.py" "$T/conv-wss-deflate" "$WEB_PORT" testtoken '~u t=wss-deflate&'

is "the API: a flow that is not there is 404" "$(fs_api_code /api/flows/999999/messages)" 404
is "the API: a bad ?after= is 400" "$(fs_api_code '/api/flows/1/messages?after=x')" 400

fs_stop_flowscope
done_testing
