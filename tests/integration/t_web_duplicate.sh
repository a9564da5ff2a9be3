#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# t_web_duplicate.sh - POST /api/flows/ID/duplicate of a WebSocket flow: the copy says
# "duplicate" and has the socket's messages (each as recorded: direction, type, content, time,
# size) and its close, readable as soon as the call answered; deleting either leaves the other's
# messages alone.
. "$(dirname "$0")/lib.sh"

fs_start_flowscope || exit 1
fs_start_origin || exit 1

out=$(timeout 20 python3 "$FS_DATA/wsclient.py" "$PROXY_PORT" localhost "$ORIGIN_PORT" 2>&1)
like "the WebSocket conversation works" "$out" 'close'
# the socket's flow ends, its messages and close stored, before anything is read
ok "the WebSocket flow is done" fs_wait_sql \
	"SELECT count(*) FROM flows WHERE path='/ws' AND state='done'" 1
id=$(fs_sql "SELECT id FROM flows WHERE path='/ws'")
ok "its close is stored" fs_wait_sql "SELECT count(*) FROM ws_close WHERE flow_id=$id" 1
n=$(fs_sql "SELECT count(*) FROM ws_messages WHERE flow_id=$id")
ok "it has messages ($n)" test "$n" -ge 2

msgs() { fs_api "/api/flows/$1/messages?limit=1000"; }
orig=$(msgs "$id")

dup=$(fs_api "/api/flows/$id/duplicate" -X POST | jq .id)
ok "duplicate answers a new id" test "$dup" -gt "$id"
is "the copy says duplicate" "$(fs_api "/api/flows/$dup" | jq .duplicate)" true
# the answer comes once the copy is committed: read once, no wait
copy=$(msgs "$dup")
is "the copy has the same number of messages" "$(jq '.messages | length' <<<"$copy")" \
	"$(jq '.messages | length' <<<"$orig")"
is "... each as recorded" "$(jq -c '.messages' <<<"$copy")" "$(jq -c '.messages' <<<"$orig")"
is "... and the close" "$(jq -c 'del(.messages)' <<<"$copy")" "$(jq -c 'del(.messages)' <<<"$orig")"
like "... a close there is" "$(jq -c 'del(.messages)' <<<"$copy")" '"close_code"'

is "a duplicate of the duplicate has them too" \
	"$(msgs "$(fs_api "/api/flows/$dup/duplicate" -X POST | jq .id)" | jq -c '.messages')" \
	"$(jq -c '.messages' <<<"$orig")"

is "delete the original" "$(fs_api_code "/api/flows/$id" -X DELETE)" 200
ok "its messages go" fs_wait_sql "SELECT count(*) FROM ws_messages WHERE flow_id=$id" 0
is "the copy keeps its own" "$(msgs "$dup" | jq -c '.messages')" "$(jq -c '.messages' <<<"$orig")"

# an HTTP flow's duplicate has no messages
fs_curl -o /dev/null "http://127.0.0.1:$ORIGIN_PORT/status/200/plain"
ok "an HTTP flow" fs_wait_sql "SELECT count(*) FROM flows WHERE path='/status/200/plain' AND state='done'" 1
hid=$(fs_sql "SELECT id FROM flows WHERE path='/status/200/plain'")
hdup=$(fs_api "/api/flows/$hid/duplicate" -X POST | jq .id)
is "its duplicate has no messages" "$(msgs "$hdup" | jq '.messages | length')" 0
fs_stop_flowscope
done_testing
