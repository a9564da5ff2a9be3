#!/bin/bash
# t_replay_trailers.sh - The question this test answers: do a request's trailers go upstream
# again when the flow is replayed (POST /api/flows/ID/replay) or released after an intercept
# (POST /api/flows/ID/resume, after an edit or not), as they went the first time: in the last
# chunk to an HTTP/1.1 origin (the request sent chunked), in a trailing HEADERS frame to an h2
# one? And where they cannot go (the edit framed the body with a Content-Length, or the request
# is HTTP/1.0, which has no chunked coding): is the body sent whole, without them, and the flow's
# request recorded without them, as it was sent? Over h2, is the request recorded without the
# headers h2 does not carry (the Transfer-Encoding: chunked of the HTTP/1.1 wire, Connection,
# Keep-Alive, Upgrade)? The origins (data/trailer_origin.py, data/h2origin.py) answer with what
# they received.
. "$(dirname "$0")/lib.sh"

fs_start_flowscope || done_testing
fs_start_trailer_origins || done_testing

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
# conn_headers ID: the names of flow ID's request headers that HTTP/2 does not carry (those of
# one HTTP/1.1 connection, RFC 9113 8.2.2), as a JSON array
conn_headers() {
	fs_api "/api/flows/$1" | jq -c '[.request.headers[][0] |
		select(test("^(transfer-encoding|connection|keep-alive|upgrade|proxy-connection)$"; "i"))]'
}
body() { sed '1,/^$/d'; } # the body of the HTTP/1 response on stdin
# h2_post PORT PATH: h2client.py's POST of "hello" with the trailer x-client-sum: 42, over h2
# through the proxy to localhost:PORT
h2_post() {
	/usr/bin/python3 "$FS_DATA/h2client.py" --proxy-port "$PROXY_PORT" --ca "$T/ca/ca.pem" \
		--port "$1" --path "$2" trailers
}
# chunked_post PATH [VERSION]: a chunked POST of "hello" to the HTTP/1.1 origin with trailers
# X-Checksum: abc and x-lower: a b; prints what the client received, without CRs
chunked_post() {
	printf 'POST http://127.0.0.1:%s%s HTTP/%s\r\nHost: 127.0.0.1:%s\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: abc\r\nx-lower: a b\r\n\r\n' \
		"$TRAILER_PORT" "$1" "${2:-1.1}" "$TRAILER_PORT" | fs_raw "$PROXY_PORT" 15 | tr -d '\r'
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
h2_post "$H2ORIGIN_PORT" /req-trailers >/dev/null 2>&1
ID=$(done_id "path='/req-trailers'")
is "h2: the first time, the origin gets the trailers" "$(answer_of "$ID")" 'trailer x-client-sum: 42'
N=$(replay "$ID")
is "h2: the replay's origin gets them too" "$(answer_of "$N")" 'trailer x-client-sum: 42'
is "... over HTTP/2" "$(fs_api "/api/flows/$N" | jq -r .request.version)" HTTP/2.0
is "... recorded" "$(trailers_of "$N")" '[["x-client-sum","42"]]'
is "... without the Transfer-Encoding that h2 did not send" "$(conn_headers "$N")" '[]'
N=$(replay "$ID" '{"headers":[["content-type","text/plain"],["Connection","close"],["Keep-Alive","timeout=5"],["Upgrade","h2c"],["Proxy-Connection","close"],["x-kept","1"]]}')
is "h2, edited to carry HTTP/1.1 connection headers: the origin gets the trailers" \
	"$(answer_of "$N")" 'trailer x-client-sum: 42'
is "... recorded without those headers, as h2 went" "$(conn_headers "$N")" '[]'
is "... the others kept" "$(fs_api "/api/flows/$N" | jq -c '[.request.headers[][0]]')" \
	'["Host","content-type","x-kept"]'

h2_post "$TRAILER_TLS_PORT" '/echo?h2-h1' >/dev/null 2>&1
ID=$(done_id "path='/echo?h2-h1'")
N=$(replay "$ID")
is "h2 flow, an origin without h2: replayed over HTTP/1.1 with the trailers in the last chunk" \
	"$(answer_of "$N")" $'body=hello\ntrailer x-client-sum: 42'
is "... recorded chunked, as it went" "$(conn_headers "$N")" '["Transfer-Encoding"]'

# --- intercept: released as they came, or edited ----------------------------------------------
is "rules: intercept requests to /echo?i" "$(fs_rules '{"intercept":"~q & ~u /echo\\?i"}')" 200
# hold PATH [VERSION]: the chunked POST in the background (answer in $T/out), ID its paused flow
hold() {
	chunked_post "$1" "${2:-1.1}" >"$T/out" &
	CLIENT=$!
	ID=$(fs_paused_id "$1")
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
	-d "{\"request\":{\"headers\":[[\"Host\",\"127.0.0.1:$TRAILER_PORT\"],[\"Content-Length\",\"5\"]],\"body\":\"fixed\"}}")" 200
is "released" "$(fs_api_code "/api/flows/$ID/resume" -X POST)" 200
wait "$CLIENT"
is "a Content-Length body: sent whole, without the trailers" "$(body <"$T/out")" $'body=fixed'
is "... and the flow records none" "$(trailers_of "$ID")" null

# h2_released WHO PORT PATH FILTER WANT: h2_post to PATH on PORT, paused by the intercept FILTER
# (JSON-quoted) and released unedited: the origin's answer, what it received, is WANT
h2_released() {
	local who="$1" port="$2" path="$3" filter="$4" want="$5"
	is "rules: intercept h2 requests to $path" "$(fs_rules "{\"intercept\":\"$filter\"}")" 200
	h2_post "$port" "$path" >"$T/h2out" 2>&1 &
	CLIENT=$!
	ID=$(fs_paused_id "$path")
	ok "$who: paused" [ -n "$ID" ]
	is "released" "$(fs_api_code "/api/flows/$ID/resume" -X POST)" 200
	wait "$CLIENT"
	fs_wait_sql "select state from flows where id=$ID" done >/dev/null
	is "$who: the origin gets the trailers" "$(answer_of "$ID")" "$want"
}
h2_released "h2 client, HTTP/1.1 origin (in the last chunk)" "$TRAILER_TLS_PORT" '/echo?h2i' \
	'~q & ~u /echo\\?h2i' $'body=hello\ntrailer x-client-sum: 42'
h2_released "h2 both ways" "$H2ORIGIN_PORT" '/req-trailers?i' '~q & ~u /req-trailers' \
	'trailer x-client-sum: 42'

ok "the proxy is still serving" fs_curl -o /dev/null "http://127.0.0.1:$TRAILER_PORT/trailers?last"
fs_stop_flowscope
done_testing
