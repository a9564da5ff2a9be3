#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# t_web_edit.sh - a captured flow edited where it stands (PUT /api/flows/ID on a complete flow):
# the response's status, reason, headers and body, the request's method, URL, headers and body
# (text or base64); the flow then says "modified" and the store keeps what was captured, the
# first edit's, until POST /api/flows/ID/revert brings it back (or the flow is deleted, or the
# store cleared). Replay sends the edited request. POST /api/flows/ID/duplicate makes a copy
# that says "duplicate". Bad edits are refused (400) and change nothing.
. "$(dirname "$0")/lib.sh"

fs_start_flowscope || exit 1
fs_start_origin
O="http://127.0.0.1:$ORIGIN_PORT"

json() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[int(k)] if isinstance(d, list) else d[k]
print(json.dumps(d))' "$1"; }
put() { fs_api "/api/flows/$1" -X PUT -H 'Content-Type: application/json' -d "$2"; }
put_code() { fs_api_code "/api/flows/$1" -X PUT -H 'Content-Type: application/json' -d "$2"; }
post_code() { fs_api_code "/api/flows/$1/$2" -X POST; }
kept() { fs_sql "SELECT count(*) FROM originals WHERE flow_id=$1"; }

fs_curl -o /dev/null "$O/status/200/one"
fs_curl -o /dev/null "$O/status/201/two"
fs_wait_sql "SELECT count(*) FROM flows WHERE state='done'" 2
ids=($(fs_sql "SELECT id FROM flows ORDER BY id"))
one=${ids[0]} two=${ids[1]}

is "a fresh flow is not modified" "$(fs_api "/api/flows/$one" | json modified)" false
got=$(put "$one" '{"response": {"status": 404, "reason": "Gone Fishing", "body": "edited body"}}')
is "the answer is the edited flow" "$(json status <<<"$got")" 404
is "which says it is modified" "$(json modified <<<"$got")" true
is "stored: status" "$(fs_api "/api/flows/$one" | json status)" 404
is "stored: reason" "$(fs_api "/api/flows/$one" | json reason)" '"Gone Fishing"'
is "stored: body" "$(fs_api "/api/flows/$one/response/body")" "edited body"
like "Content-Length follows the new body" "$(fs_api "/api/flows/$one" | json response.headers)" \
	'"Content-Length", "11"'
is "the list says modified" "$(fs_api "/api/flows?limit=5&filter=~c%20404" | json flows.0.modified)" \
	true
is "the original is kept" "$(kept "$one")" 1

# a second edit keeps the first original
put "$one" '{"response": {"headers": [["X-Edited", "2"]], "body_base64": "AAEC/w=="}}' >/dev/null
is "a body from base64" "$(fs_api "/api/flows/$one/response/body" | od -An -tx1 | tr -d ' \n')" \
	"000102ff"

# refusals change nothing
is "not JSON: 400" "$(put_code "$one" 'status=1')" 400
is "both sides at once: 400" "$(put_code "$one" '{"request": {}, "response": {}}')" 400
is "a status out of range: 400" "$(put_code "$one" '{"response": {"status": 42}}')" 400
is "a header with a line break: 400" \
	"$(put_code "$one" '{"response": {"headers": [["X", "a\r\nb"]]}}')" 400
is "a URL that is not http: 400" "$(put_code "$one" '{"request": {"url": "ftp://x/"}}')" 400
is "no such flow: 404" "$(put_code 999999 '{"response": {"status": 200}}')" 404
is "still 404 after all that" "$(fs_api "/api/flows/$one" | json status)" 404

# revert
is "revert" "$(post_code "$one" revert)" 200
is "the captured status is back" "$(fs_api "/api/flows/$one" | json status)" 200
is "and its body" "$(fs_api "/api/flows/$one/response/body")" "status 200"
is "not modified any more" "$(fs_api "/api/flows/$one" | json modified)" false
like "no X-Edited header" "$(fs_api "/api/flows/$one" | json response.headers)" '^\[\["'
is "the original is forgotten" "$(kept "$one")" 0
is "a second revert: 409" "$(post_code "$one" revert)" 409
is "revert of no such flow: 404" "$(post_code 999999 revert)" 404
is "revert by GET: 405" "$(fs_api_code "/api/flows/$one/revert")" 405

# edit the request, then replay sends the edit
put "$two" '{"request": {"method": "POST", "url": "'"$O"'/echo?edited=1",
	"headers": [["X-From", "edit"]], "body": "edited request"}}' >/dev/null
is "the stored request's path" "$(fs_api "/api/flows/$two" | json path)" '"/echo?edited=1"'
is "and method" "$(fs_api "/api/flows/$two" | json method)" '"POST"'
new=$(fs_api "/api/flows/$two/replay" -X POST | json id)
fs_wait_sql "SELECT state FROM flows WHERE id=$new" done
is "the origin received the edited body" "$(fs_api "/api/flows/$new/response/body")" \
	"edited request"
is "replayed as POST" "$(fs_api "/api/flows/$new" | json method)" '"POST"'

# duplicate
dup=$(fs_api "/api/flows/$two/duplicate" -X POST | json id)
fs_wait_sql "SELECT count(*) FROM flows WHERE id=$dup" 1
is "the copy says duplicate" "$(fs_api "/api/flows/$dup" | json duplicate)" true
is "not imported" "$(fs_api "/api/flows/$dup" | json imported)" false
is "with the flow's request" "$(fs_api "/api/flows/$dup/request/body")" "edited request"
is "duplicate of no such flow: 404" "$(post_code 999999 duplicate)" 404

# kept across a restart; a delete takes the original along
fs_stop_flowscope
fs_start_flowscope || exit 1
is "modified after a restart" "$(fs_api "/api/flows/$two" | json modified)" true
is "revert after a restart" "$(post_code "$two" revert)" 200
is "the captured path is back" "$(fs_api "/api/flows/$two" | json path)" '"/status/201/two"'
put "$two" '{"response": {"status": 500}}' >/dev/null
is "edited again: kept" "$(kept "$two")" 1
is "delete" "$(fs_api_code "/api/flows/$two" -X DELETE)" 200
fs_wait_sql "SELECT count(*) FROM originals WHERE flow_id=$two" 0
put "$one" '{"response": {"status": 500}}' >/dev/null
is "clear" "$(fs_api_code /api/flows -X DELETE)" 200
fs_wait_sql "SELECT count(*) FROM originals" 0
fs_stop_flowscope
done_testing
