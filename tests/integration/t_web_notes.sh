#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# t_web_notes.sh - the user's notes on a flow: PATCH /api/flows/ID sets a colour mark and a
# comment; both are stored (kept across a restart, untouched by the flow's own later writes),
# filterable (~marked, ~mark COLOUR, ~comment REGEX), sent live to the event stream, exported in
# HAR as _flowscope.mark / _flowscope.comment and read back on import; bad input is refused
# with a clear 400, an unknown flow with 404.
. "$(dirname "$0")/lib.sh"

fs_start_flowscope || exit 1
fs_start_origin

for p in /one /two /three; do fs_curl -o /dev/null "http://127.0.0.1:$ORIGIN_PORT/status/200?p=$p"; done
fs_wait_sql "SELECT count(*) FROM flows WHERE state='done'" 3
ids=($(fs_sql "SELECT id FROM flows ORDER BY id"))
one=${ids[0]} two=${ids[1]}

patch() { fs_api "/api/flows/$1" -X PATCH -H 'Content-Type: application/json' -d "$2"; }
patch_code() { fs_api_code "/api/flows/$1" -X PATCH -H 'Content-Type: application/json' -d "$2"; }
total() { fs_api "/api/flows?limit=1&filter=$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }

# the event stream hears of the change
fs_spawn events node "$(dirname "$0")/web_events.mjs" --url "ws://127.0.0.1:$WEB_PORT/api/events" \
	--header "Authorization: Bearer testtoken" --ready "$T/ws-ready"
for i in $(seq 1 50); do [ -e "$T/ws-ready" ] && break; sleep 0.1; done

got=$(patch "$one" '{"mark": "red", "comment": "the login request"}')
like "PATCH answers the summary with its notes" "$got" '"mark": ?"red".*"comment": ?"the login request"'
like "and marked" "$got" '"marked": ?true'
is "a mark alone" "$(patch_code "$two" '{"mark": "green"}')" 200
is "an unknown colour: 400" "$(patch_code "$two" '{"mark": "pink"}')" 400
like "which says what is allowed" "$(patch "$two" '{"mark": "pink"}')" 'red, orange, yellow'
is "no notes at all: 400" "$(patch_code "$two" '{"other": 1}')" 400
is "not JSON: 400" "$(patch_code "$two" 'mark=red')" 400
is "a comment that is not a string: 400" "$(patch_code "$two" '{"comment": 5}')" 400
is "an unknown flow: 404" "$(patch_code 999999 '{"mark": "red"}')" 404

is "~marked finds both" "$(total '~marked')" 2
is "~mark red finds one" "$(total '~mark%20red')" 1
is "~mark finds by colour" "$(total '~mark%20green')" 1
is "~comment finds by text" "$(total '~comment%20login')" 1
is "~comment of another text finds none" "$(total '~comment%20logout')" 0
is "!~marked finds the rest" "$(total '!~marked')" 1

for i in $(seq 1 30); do grep -q '"mark":"red"' "$T/events.log" 2>/dev/null && break; sleep 0.1; done
ok "the event stream sent the new notes" grep -q '"mark":"red"' "$T/events.log"

is "a comment is cleared with an empty one" "$(patch_code "$two" '{"comment": "", "mark": ""}')" 200
is "so ~marked finds one" "$(total '~marked')" 1

fs_api /api/har >"$T/out.har"
like "HAR export has _flowscope.mark and comment" "$(python3 -c '
import json, sys
for e in json.load(open(sys.argv[1]))["log"]["entries"]:
    x = e.get("_flowscope", {})
    if "mark" in x: print(x["mark"], x.get("comment"))' "$T/out.har")" '^red the login request$'

fs_api_code /api/flows -X DELETE >/dev/null
is "HAR import brings them back" "$(fs_api /api/har -X POST -H 'Content-Type: application/json' --data-binary "@$T/out.har")" '{"imported":3,"skipped":0}'
is "with its mark" "$(total '~mark%20red')" 1
is "and its comment" "$(total '~comment%20%22the%20login%22')" 1

fs_stop_flowscope
fs_start_flowscope
is "kept across a restart" "$(total '~mark%20red%20%26%20~comment%20login')" 1

done_testing
