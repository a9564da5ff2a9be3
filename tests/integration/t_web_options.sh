#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# t_web_options.sh - the live options (GET/PUT/PATCH /api/options): ssl_insecure, anticache,
# body_limit and intercept_budget. Each is checked (400 with the reason, nothing changed),
# applied to the next flow without a restart (a self-signed origin refused, then recorded;
# If-None-Match reaching the origin, then not, from a replay too; a body stored whole, then
# capped), kept across
# a restart, and replaced by the command line's option of the same name when one is given.
. "$(dirname "$0")/lib.sh"

opts() { fs_api /api/options "$@"; }
put() { fs_api_code /api/options -X PUT -H 'Content-Type: application/json' -d "$1"; }
field() { python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[sys.argv[1]]))' "$1"; }
unlike() {
	! printf '%s' "$2" | grep -Eq -- "$3"
	_fs_count "$1" $? "got:      '$(printf '%s' "$2" | head -c 400)'" "expected not to match: /$3/"
}
last_flow() { fs_api "/api/flows?limit=1&filter=$1" | python3 -c '
import json, sys
f = json.load(sys.stdin)["flows"]
print(f[0]["id"] if f else 0)'; }

# an origin whose certificate no trust store knows
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1" \
	-keyout "$T/self.key" -out "$T/self.pem" 2>"$T/self.log" || cat "$T/self.log"
SELF_PORT=$(fs_free_port)
fs_spawn self-origin python3 "$FS_DATA/origin.py" --port "$SELF_PORT" --cert "$T/self.pem" \
	--key "$T/self.key"
fs_wait_port "$SELF_PORT" 10 "$FS_SPAWNED_PID" || ok "the self-signed origin starts" false

fs_start_flowscope || exit 1
fs_start_origin

is "the defaults" "$(opts)" \
	'{"ssl_insecure":false,"anticache":false,"body_limit":4194304,"intercept_budget":268435456}'
is "not JSON: 400" "$(put 'ssl_insecure=1')" 400
is "not an object: 400" "$(put '[true]')" 400
is "an unknown option: 400" "$(put '{"anticahce": true}')" 400
like "which names it and the known ones" \
	"$(opts -X PUT -d '{"anticahce": true}')" "unknown option 'anticahce'.*anticache"
is "a boolean that is a string: 400" "$(put '{"ssl_insecure": "yes"}')" 400
is "a negative body limit: 400" "$(put '{"body_limit": -1}')" 400
like "which says the range" "$(opts -X PUT -d '{"body_limit": 1.5}')" \
	'body_limit: expected a number of bytes from 0 to'
is "a zero intercept budget: 400" "$(put '{"intercept_budget": 0}')" 400
is "a bad key with a good one changes nothing" "$(put '{"anticache": true, "x": 1}')" 400
is "nothing changed" "$(opts | field anticache)" false
is "DELETE: 405" "$(fs_api_code /api/options -X DELETE)" 405

# ssl_insecure: refused, then recorded, without a restart
code=$(fs_curl -o /dev/null -w '%{http_code}' "https://127.0.0.1:$SELF_PORT/status/200")
is "a self-signed origin is refused" "$code" 502
fs_wait_sql "SELECT count(*) FROM flows WHERE state='error' AND port=$SELF_PORT" 1
is "ssl_insecure on" "$(put '{"ssl_insecure": true}')" 200
is "GET says so at once" "$(opts | field ssl_insecure)" true
code=$(fs_curl -o /dev/null -w '%{http_code}' "https://127.0.0.1:$SELF_PORT/status/200")
is "the next flow reaches it" "$code" 200
fs_wait_sql "SELECT count(*) FROM flows WHERE state='done' AND port=$SELF_PORT" 1
is "ssl_insecure off (PATCH)" "$(fs_api_code /api/options -X PATCH -d '{"ssl_insecure": false}')" 200
code=$(fs_curl -o /dev/null -w '%{http_code}' "https://127.0.0.1:$SELF_PORT/status/201")
is "refused again" "$code" 502

# anticache
url="http://127.0.0.1:$ORIGIN_PORT/headers"
like "If-None-Match reaches the origin" "$(fs_curl -H 'If-None-Match: "v1"' "$url?a=1")" \
	'If-None-Match: "v1"'
is "anticache on" "$(put '{"anticache": true}')" 200
got=$(fs_curl -H 'If-None-Match: "v1"' -H 'If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT' \
	-H 'X-Kept: 1' "$url?a=2")
unlike "neither conditional header reaches it" "$got" 'If-None-Match|If-Modified-Since'
like "other headers do" "$got" 'X-Kept: 1'
fs_wait_sql "SELECT count(*) FROM flows WHERE path LIKE '/headers?a=2' AND state='done'" 1
id=$(last_flow '~u%20a=2')
unlike "the flow records the request as sent" "$(fs_api "/api/flows/$id")" 'If-None-Match'
# a replay from the page goes out as proxied requests do: the a=1 flow was recorded with its
# If-None-Match (anticache was off), its replay now goes without it
old=$(last_flow '~u%20a=1')
new=$(fs_api "/api/flows/$old/replay" -X POST | python3 -c 'import json,sys; print(json.load(sys.stdin).get("id", 0))')
ok "the replay is accepted" test "${new:-0}" -gt 0
fs_wait_sql "SELECT state FROM flows WHERE id=${new:-0}" done
unlike "the replay sends no conditional header" \
	"$(fs_api "/api/flows/${new:-0}/response/body")" 'If-None-Match'
like "but the rest" "$(fs_api "/api/flows/${new:-0}/response/body")" 'Host: 127.0.0.1'
unlike "and records it so" "$(fs_api "/api/flows/${new:-0}")" 'If-None-Match'

# body_limit
is "body_limit 100" "$(put '{"body_limit": 100}')" 200
head -c 1000 /dev/zero | tr '\0' x >"$T/1000"
fs_curl -o "$T/echo" --data-binary @"$T/1000" "http://127.0.0.1:$ORIGIN_PORT/echo?b=1"
is "the client gets the whole body" "$(wc -c <"$T/echo")" 1000
fs_wait_sql "SELECT count(*) FROM flows WHERE path='/echo?b=1' AND state='done'" 1
id=$(last_flow '~u%20b=1')
is "the stored body is capped" "$(fs_api "/api/flows/$id/response/body" | wc -c)" 100
like "and marked truncated" "$(fs_api "/api/flows/$id")" '"response_truncated": ?true'
is "body_limit and budget" "$(put '{"body_limit": 5000, "intercept_budget": 1048576}')" 200

# kept across a restart; the command line's option replaces the kept one
fs_stop_flowscope
fs_start_flowscope || exit 1
is "kept across a restart" "$(opts)" \
	'{"ssl_insecure":false,"anticache":true,"body_limit":5000,"intercept_budget":1048576}'
fs_stop_flowscope
fs_start_flowscope --ssl-insecure --body-limit 7000 --intercept-budget 2m || exit 1
is "given options replace the kept ones" "$(opts)" \
	'{"ssl_insecure":true,"anticache":true,"body_limit":7000,"intercept_budget":2097152}'
code=$(fs_curl -o /dev/null -w '%{http_code}' "https://127.0.0.1:$SELF_PORT/status/200")
is "--ssl-insecure is in force" "$code" 200
put '{"anticache": false, "ssl_insecure": false}' >/dev/null
fs_stop_flowscope
fs_start_flowscope --anticache || exit 1
is "--anticache" "$(opts | field anticache)" true
is "the rest as kept" "$(opts | field body_limit)" 7000
fs_stop_flowscope
done_testing
