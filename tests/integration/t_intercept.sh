#!/bin/bash
# t_intercept.sh - The question this test answers: with an intercept filter set through
# `PUT /api/rules`, do matching requests and responses stop in flight, and do
# `PUT /api/flows/ID`, `POST /api/flows/ID/resume` and `…/kill` edit, release and end them as a
# user expects: the upstream receives the edited request, curl receives the edited response, a
# killed flow gives the client a clear 502, a client that gives up frees its paused flow, and a
# hundred paused flows do not hold up other traffic. Also: block rules, and the web UI's token
# cookie never reaching an upstream.
. "$(dirname "$0")/lib.sh"


# hold URL [curl args]: curl for URL in the background (its answer in $T/out, its PID in CURL);
# then ID is the paused flow of URL's path. Not in a subshell: it sets CURL and ID.
hold() {
	local url="$1" rest
	shift
	fs_curl -s -i "$@" "$url" >"$T/out" 2>&1 &
	CURL=$!
	rest="${url#*://}"
	ID=$(fs_paused_id "/${rest#*/}")
}
# answer: waits for that curl; R is what it received, without CRs.
answer() {
	wait "$CURL"
	R=$(tr -d '\r' <"$T/out")
}

fs_start_origin || done_testing
fs_start_origin --tls || done_testing
fs_start_flowscope || done_testing
O="http://127.0.0.1:$ORIGIN_PORT"

# --- request: paused, edited, resumed --------------------------------------------------------
is "rules: intercept requests to /echo" "$(fs_rules '{"intercept":"~q & ~u /echo"}')" 200
hold "$O/echo?one" -X POST -H 'Expect: 100-continue' --expect100-timeout 20 \
	--data-binary 'original body'
ok "request paused (state 'paused' in the store)" [ -n "$ID" ]
sleep 0.3
ok "the client has no answer while paused" [ ! -s "$T/out" ]
is "the paused flow's request body is stored" \
	"$(fs_api "/api/flows/$ID/request/body")" "original body"
is "edit: PUT /api/flows/ID" "$(fs_api_code "/api/flows/$ID" -X PUT -H 'Content-Type: application/json' \
	-d "{\"request\":{\"method\":\"PUT\",\"url\":\"$O/echo?edited\",\"body\":\"edited body!\"}}")" 200
ok "edited flow still paused" fs_wait_sql "select state||' '||path from flows where id=$ID" \
	"paused /echo?edited"
is "resume: POST /api/flows/ID/resume" "$(fs_api_code "/api/flows/$ID/resume" -X POST)" 200
answer
like "client gets the upstream's answer" "$R" '^HTTP/1.1 200'
like "upstream received the edited method" "$R" 'X-Echo-Method: PUT'
like "upstream received the edited body (echoed)" "$R" 'edited body!$'
like "the proxy answered Expect: 100-continue itself" "$R" 'X-Echo-Expect: -'
ok "flow done with the edited request" fs_wait_sql \
	"select state||' '||method||' '||path||' '||status from flows where id=$ID" \
	"done PUT /echo?edited 200"
is "resume again: not paused -> error" "$(fs_api_code "/api/flows/$ID/resume" -X POST)" 409
diag "resume of a flow not paused answered: $(fs_api "/api/flows/$ID/resume" -X POST)"

# --- decrypted HTTPS: paused inside the tunnel, then sent elsewhere by an edited URL -----------
is "rules: intercept /status/206 requests" "$(fs_rules '{"intercept":"~q & ~u /status/206"}')" 200
hold "https://localhost:$ORIGIN_TLS_PORT/status/206"
ok "HTTPS request paused" [ -n "$ID" ]
is "paused HTTPS flow is https" "$(fs_sql "select scheme||' '||host from flows where id=$ID")" \
	"https localhost"
is "resume with a new URL (plain http, another port)" "$(fs_api_code "/api/flows/$ID/resume" -X POST \
	-d "{\"request\":{\"url\":\"$O/status/207\"}}")" 200
answer
like "the client gets the new target's answer" "$R" '^HTTP/1.1 207'
ok "flow records the new target" fs_wait_sql \
	"select state||' '||scheme||' '||port||' '||path||' '||status from flows where id=$ID" \
	"done http $ORIGIN_PORT /status/207 207"

# --- response: paused, status and body changed ---------------------------------------------
is "rules: intercept responses of /status" "$(fs_rules '{"intercept":"~s & (~u /status/ | ~u /chunked)"}')" 200
hold "$O/status/200"
ok "response paused" [ -n "$ID" ]
is "paused response stored with its status" "$(fs_sql "select status from flows where id=$ID")" 200
is "edit the paused response" "$(fs_api_code "/api/flows/$ID" -X PUT \
	-d '{"response":{"status":299,"reason":"Edited","body":"changed by the user"}}')" 200
is "resume it" "$(fs_api_code "/api/flows/$ID/resume" -X POST)" 200
answer
like "curl receives the edited status" "$R" '^HTTP/1.1 299 Edited'
like "curl receives the edited body" "$R" 'changed by the user$'
like "Content-Length recomputed" "$R" 'Content-Length: 19'
ok "flow recorded with the edited response" fs_wait_sql \
	"select state||' '||status from flows where id=$ID" "done 299"

# a chunked response, held whole and sent on with a Content-Length
hold "$O/chunked"
ok "chunked response paused" [ -n "$ID" ]
is "resume it unedited" "$(fs_api_code "/api/flows/$ID/resume" -X POST)" 200
answer
like "curl receives the whole body" "$R" 'chunk 9$'
like "... with a Content-Length, de-chunked" "$R" 'Content-Length: 80'

# --- kill ------------------------------------------------------------------------------------
# kill_paused WHAT FILTER PATH: pauses PATH with the intercept FILTER, kills it; the client gets
# a 502 that says so, and the flow is recorded as killed.
kill_paused() {
	is "rules: intercept $1" "$(fs_rules "{\"intercept\":\"$2\"}")" 200
	hold "$O$3"
	ok "$1 paused before kill" [ -n "$ID" ]
	is "kill: POST /api/flows/ID/kill" "$(fs_api_code "/api/flows/$ID/kill" -X POST)" 200
	answer
	like "killed: client gets a 502" "$R" '^HTTP/1.1 502'
	like "killed: the page says so" "$R" 'killed by the user'
	ok "killed flow recorded as an error" fs_wait_sql \
		"select state||' '||error from flows where id=$ID" "error killed"
}
kill_paused "a request" "~q & ~u /status/203" /status/203
# a paused response killed: the client gets the 502 instead of the origin's answer
kill_paused "a response" "~s & ~u /status/205" /status/205

# --- a client that gives up ----------------------------------------------------------------
is "rules: intercept /status/204" "$(fs_rules '{"intercept":"~q & ~u /status/204"}')" 200
curl "${FS_CURL_ARGS[@]}" -s --max-time 30 "$O/status/204" >/dev/null 2>&1 &
CURL4=$!
ID=$(fs_paused_id '/status/204')
ok "paused before the client leaves" [ -n "$ID" ]
kill "$CURL4" 2>/dev/null
wait "$CURL4" 2>/dev/null
ok "client gone: flow ends as an error" fs_wait_sql \
	"select state||' '||error from flows where id=$ID" "error client disconnected while paused"
ok "client gone: resume refused" [ "$(fs_api_code "/api/flows/$ID/resume" -X POST)" != 200 ]

# --- a hundred paused flows while other traffic flows ----------------------------------------
# fifty_ms: prints how long 50 sequential requests (not intercepted) take; the number of 200s
# is added as a line to $T/good.
fifty_ms() {
	local start i c good=0
	start=$(date +%s%N)
	for i in $(seq 1 50); do
		c=$(fs_curl -s -o /dev/null -w '%{http_code}' "$O/status/200")
		[ "$c" = 200 ] && good=$((good + 1))
	done
	echo "$good" >>"$T/good"
	echo $((($(date +%s%N) - start) / 1000000))
}
is "rules: intercept /headers?hold" "$(fs_rules '{"intercept":"~q & ~u hold"}')" 200
base=$(fifty_ms)
PIDS=()
for i in $(seq 1 100); do
	curl "${FS_CURL_ARGS[@]}" -s --max-time 120 -o "$T/many.$i" "$O/headers?hold=$i" &
	PIDS+=($!)
done
ok "100 flows paused" fs_wait_sql \
	"select count(*) from flows where state='paused' and path like '/headers?hold=%'" 100 60
# Measured again (up to 3 times) while slower than the bound: a load spike on a busy machine
# slows one run, paused flows that held up other traffic would slow every run.
: >"$T/good"
for try in 1 2 3; do
	ms=$(fifty_ms)
	[ "$ms" -lt $((base * 2 + 1000)) ] && break
	diag "50 requests took $ms ms (try $try); measuring again"
done
is "other requests go through while 100 are paused" "$(sort -u "$T/good")" 50
ok "... at full speed (50 requests: ${ms} ms; ${base} ms with none paused)" \
	[ "$ms" -lt $((base * 2 + 1000)) ]
for id in $(fs_sql "select id from flows where state='paused' and path like '/headers?hold=%'"); do
	fs_api_code "/api/flows/$id/resume" -X POST >/dev/null
done
for p in "${PIDS[@]}"; do wait "$p"; done
n=0
for i in $(seq 1 100); do grep -q "hold=$i " "$T/many.$i" 2>/dev/null && n=$((n + 1)); done
is "all 100 resumed clients got their answer" "$n" 100

# --- block rule -----------------------------------------------------------------------------
is "rules: block /status/202 with 451" \
	"$(fs_rules '{"block":[{"filter":"~u /status/202","status":451}]}')" 200
R=$(fs_curl -s -i "$O/status/202" | tr -d '\r')
like "blocked: the proxy answers 451" "$R" '^HTTP/1.1 451'
like "blocked: says why" "$R" 'blocked by a flowscope rule'
ok "blocked flow recorded with 451 and no upstream" fs_wait_sql \
	"select count(*) from flows where path='/status/202' and status=451 and server_addr=''" 1
is "blocked: the origin never saw it" "$(cat "$T"/origin-*.log | grep -c 'GET /status/202')" 0

# --- the token cookie ------------------------------------------------------------------------
R=$(fs_curl -s -H 'Cookie: a=1; flowscope_token=testtoken; b=2' "$O/headers?cookie")
like "upstream gets the other cookies" "$R" 'Cookie: a=1; b=2'
ok "upstream never gets the token" [ -z "$(echo "$R" | grep testtoken)" ]
ok "the flow does not record the token" fs_wait_sql \
	"select count(*) from flows where path='/headers?cookie'" 1
FID=$(fs_sql "select id from flows where path='/headers?cookie'")
ok "the flow's request headers hold no token" \
	[ -z "$(fs_api "/api/flows/$FID" | grep testtoken)" ]

fs_stop_flowscope
done_testing
