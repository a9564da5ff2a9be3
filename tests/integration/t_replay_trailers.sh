#!/bin/bash
# t_replay_trailers.sh - The question this test answers: do a request's trailers go upstream
# again when the flow is replayed (POST /api/flows/ID/replay) or released after an intercept
# (POST /api/flows/ID/resume, after an edit or not), as they went the first time: in the last
# chunk to an HTTP/1.1 origin (the request sent chunked), in a trailing HEADERS frame to an h2
# one? And where they cannot go (the edit framed the body with a Content-Length, or the request
# is HTTP/1.0, which has no chunked coding): is the body sent whole, without them, and the flow's
# request recorded without them, as it was sent? The origins (data/trailer_origin.py,
# data/h2origin.py) answer with what they received.
. "$(dirname "$0")/lib.sh"

fs_start_flowscope || done_testing
TO_PORT=$(fs_free_port)
fs_spawn trailer-origin python3 "$FS_DATA/trailer_origin.py" --port "$TO_PORT"
fs_wait_port "$TO_PORT" 10 "$FS_SPAWNED_PID" || { ok "the origin starts" false; done_testing; }
TLS_PORT=$(fs_free_port)
fs_spawn trailer-origin-tls python3 "$FS_DATA/trailer_origin.py" --port "$TLS_PORT" \
	--cert "$T/ca/origin.pem" --key "$T/ca/origin.key"
fs_wait_port "$TLS_PORT" 10 "$FS_SPAWNED_PID" || { ok "the TLS origin starts" false; done_testing; }
H2O_PORT=$(fs_free_port)
fs_spawn h2origin /usr/bin/python3 "$FS_DATA/h2origin.py" --port "$H2O_PORT" \
	--cert "$T/ca/origin.pem" --key "$T/ca/origin.key"
fs_wait_port "$H2O_PORT" 10 "$FS_SPAWNED_PID" || { ok "the h2 origin starts" false; done_testing; }

# done_id WHERE: the id of the one flow matching an SQL condition, once it is done
done_id() {
	fs_wait_sql "select count(*) from flows where $1 and state='done'" 1 >/dev/null
	fs_sql "select id from flows where $1 and state='done'"
}
# replay ID [JSON]: replays flow ID (edited by JSON); prints the new flow's id once it is done
replay() {
	local id="$1" n
	n=$(fs_api "/api/flows/$id/replay" -X POST -H 'Content-Type: application/json' \
		${2:+-d "$2"} | jq -r '.id // empty')
	[ -n "$n" ] && fs_wait_sql "select state from flows where id=$n" done >/dev/null
	echo "$n"
}
answer_of() { fs_api "/api/flows/$1/response/body"; } # what the origin said it received
trailers_of() { fs_api "/api/flows/$1" | jq -c '.request.trailers'; }
# paused_id PATTERN: waits (<= 10 s) for a paused flow whose path is LIKE PATTERN; prints its id.
paused_id() {
	local id="" end=$((SECONDS + 10))
	while [ "$SECONDS" -lt "$end" ]; do
		id=$(fs_sql "select id from flows where state='paused' and path like '$1' order by id limit 1")
		[ -n "$id" ] && break
		sleep 0.1
	done
	echo "$id"
}
body() { sed '1,/^$/d'; } # the body of the HTTP/1 response on stdin
# chunked_post PATH [VERSION]: a chunked POST of "hello" to the HTTP/1.1 origin with trailers
# X-Checksum: abc and x-lower: a b; prints what the client received, without CRs
chunked_post() {
	printf 'POST http://127.0.0.1:%s%s HTTP/%s\r\nHost: 127.0.0.1:%s\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: abc\r\nx-lower: a b\r\n\r\n' \
		"$TO_PORT" "$1" "${2:-1.1}" "$TO_PORT" | fs_raw "$PROXY_PORT" 15 | tr -d '\r'
}
SENT=$'body=hello\ntrailer X-Checksum: abc\ntrailer x-lower: a b'
TRAILERS='[["X-Checksum","abc"],["x-lower","a b"]]'

# --- replay of an HTTP/1.1 chunked request ----------------------------------------------------
is "the first time, the origin gets the trailers" "$(chunked_post '/echo?r1' | body)" "$SENT"
ID=$(done_id "path='/echo?r1'")
N=$(replay "$ID")
ok "replayed: a new flow" [ -n "$N" ]
is "the replay's origin got the body and the trailers, in the last chunk" "$(answer_of "$N")" \
	"$SENT"
is "the replay's flow records the trailers it sent" "$(trailers_of "$N")" "$TRAILERS"
is "... and the request went chunked" \
	"$(fs_api "/api/flows/$N" | jq -c '[.request.headers[][0] | select(test("^(transfer-encoding|content-length)$"; "i"))]')" \
	'["Transfer-Encoding"]'

N=$(replay "$ID" '{"body":"edited!"}')
is "an edited body: the trailers still go with it" "$(answer_of "$N")" \
	$'body=edited!\ntrailer X-Checksum: abc\ntrailer x-lower: a b'

N=$(replay "$ID" '{"headers":[["Content-Type","text/plain"]],"body":"no te"}')
is "edited headers without framing: chunked, with the trailers" "$(answer_of "$N")" \
	$'body=no te\ntrailer X-Checksum: abc\ntrailer x-lower: a b'

N=$(replay "$ID" '{"headers":[["Content-Length","5"]],"body":"fixed"}')
is "an edit that frames the body with a Content-Length: sent whole, without the trailers" \
	"$(answer_of "$N")" $'body=fixed'
is "... and recorded without them" "$(trailers_of "$N")" null

# --- an HTTP/1.0 request cannot carry them ----------------------------------------------------
chunked_post '/echo?r10' 1.0 >/dev/null
ID=$(done_id "path='/echo?r10'")
if [ "$(trailers_of "$ID")" = "$TRAILERS" ]; then
	N=$(replay "$ID")
	is "HTTP/1.0: the replay sends the body with a length, without the trailers" \
		"$(answer_of "$N")" 'body=hello'
	is "... and records none" "$(trailers_of "$N")" null
else
	skip "the proxy did not record an HTTP/1.0 request's trailers" 2
fi

# --- HTTP/2 flows: replayed over h2 (trailing HEADERS) or HTTP/1.1 (the last chunk) ------------
/usr/bin/python3 "$FS_DATA/h2client.py" --proxy-port "$PROXY_PORT" --ca "$T/ca/ca.pem" \
	--port "$H2O_PORT" --path /req-trailers trailers >/dev/null 2>&1
ID=$(done_id "path='/req-trailers'")
is "h2: the first time, the origin gets the trailers" "$(answer_of "$ID")" 'trailer x-client-sum: 42'
N=$(replay "$ID")
is "h2: the replay's origin gets them too" "$(answer_of "$N")" 'trailer x-client-sum: 42'
is "... over HTTP/2" "$(fs_api "/api/flows/$N" | jq -r .request.version)" HTTP/2.0
is "... recorded" "$(trailers_of "$N")" '[["x-client-sum","42"]]'

/usr/bin/python3 "$FS_DATA/h2client.py" --proxy-port "$PROXY_PORT" --ca "$T/ca/ca.pem" \
	--port "$TLS_PORT" --path '/echo?h2-h1' trailers >/dev/null 2>&1
ID=$(done_id "path='/echo?h2-h1'")
N=$(replay "$ID")
is "h2 flow, an origin without h2: replayed over HTTP/1.1 with the trailers in the last chunk" \
	"$(answer_of "$N")" $'body=hello\ntrailer x-client-sum: 42'

# --- intercept: released as they came, or edited ----------------------------------------------
is "rules: intercept requests to /echo?i" "$(fs_rules '{"intercept":"~q & ~u /echo\\?i"}')" 200
# hold PATH [VERSION]: the chunked POST in the background (answer in $T/out), ID its paused flow
hold() {
	chunked_post "$1" "${2:-1.1}" >"$T/out" &
	CLIENT=$!
	ID=$(paused_id "$1")
}
hold '/echo?i1'
ok "paused" [ -n "$ID" ]
is "released" "$(fs_api_code "/api/flows/$ID/resume" -X POST)" 200
wait "$CLIENT"
is "released as it came: the origin gets the body and the trailers" "$(body <"$T/out")" "$SENT"
is "... the flow keeps them" "$(trailers_of "$ID")" "$TRAILERS"

hold '/echo?i2'
is "edit the body" "$(fs_api_code "/api/flows/$ID" -X PUT -H 'Content-Type: application/json' \
	-d '{"request":{"body":"edited"}}')" 200
is "released" "$(fs_api_code "/api/flows/$ID/resume" -X POST)" 200
wait "$CLIENT"
is "an edited body: the trailers still go with it" "$(body <"$T/out")" \
	$'body=edited\ntrailer X-Checksum: abc\ntrailer x-lower: a b'

hold '/echo?i3'
is "edit: headers with a Content-Length" "$(fs_api_code "/api/flows/$ID" -X PUT \
	-H 'Content-Type: application/json' \
	-d "{\"request\":{\"headers\":[[\"Host\",\"127.0.0.1:$TO_PORT\"],[\"Content-Length\",\"5\"]],\"body\":\"fixed\"}}")" 200
is "released" "$(fs_api_code "/api/flows/$ID/resume" -X POST)" 200
wait "$CLIENT"
is "a Content-Length body: sent whole, without the trailers" "$(body <"$T/out")" $'body=fixed'
is "... and the flow records none" "$(trailers_of "$ID")" null

is "rules: intercept h2 requests to /echo?h2i" "$(fs_rules '{"intercept":"~q & ~u /echo\\?h2i"}')" 200
/usr/bin/python3 "$FS_DATA/h2client.py" --proxy-port "$PROXY_PORT" --ca "$T/ca/ca.pem" \
	--port "$TLS_PORT" --path '/echo?h2i' trailers >"$T/h2out" 2>&1 &
CLIENT=$!
ID=$(paused_id '/echo?h2i')
ok "h2 client, HTTP/1.1 origin: paused" [ -n "$ID" ]
is "released" "$(fs_api_code "/api/flows/$ID/resume" -X POST)" 200
wait "$CLIENT"
fs_wait_sql "select state from flows where id=$ID" done >/dev/null
is "... the origin gets the trailers in the last chunk" "$(answer_of "$ID")" \
	$'body=hello\ntrailer x-client-sum: 42'

is "rules: intercept h2 requests to /req-trailers" \
	"$(fs_rules '{"intercept":"~q & ~u /req-trailers"}')" 200
/usr/bin/python3 "$FS_DATA/h2client.py" --proxy-port "$PROXY_PORT" --ca "$T/ca/ca.pem" \
	--port "$H2O_PORT" --path '/req-trailers?i' trailers >"$T/h2out" 2>&1 &
CLIENT=$!
ID=$(paused_id '/req-trailers?i')
ok "h2 both ways: paused" [ -n "$ID" ]
is "released" "$(fs_api_code "/api/flows/$ID/resume" -X POST)" 200
wait "$CLIENT"
fs_wait_sql "select state from flows where id=$ID" done >/dev/null
is "... the h2 origin gets the trailers" "$(answer_of "$ID")" 'trailer x-client-sum: 42'

ok "the proxy is still serving" fs_curl -o /dev/null "http://127.0.0.1:$TO_PORT/trailers?last"
fs_stop_flowscope
done_testing
