#!/bin/bash
# t_proxy_trailers.sh - The question this test answers: are the trailers of chunked HTTP/1.1
# messages kept as HTTP/2's are - the response's and the request's, in order and case as
# received, in the flow's API JSON (`trailers`) and in HAR (`_trailers`) - while the bytes are
# relayed exactly as the origin and the client sent them; are an HTTP/1.1 origin's trailers
# passed on to an h2 client, and an h2 client's to an HTTP/1.1 origin (in the last chunk); and do
# an h2 client's request trailers reach an h2 origin?
. "$(dirname "$0")/lib.sh"

fs_start_flowscope || done_testing
fs_start_trailer_origins || done_testing

# flow_json PATH: the API's JSON of the flow whose path is PATH, once it is done
flow_json() {
	fs_wait_sql "select count(*) from flows where path='$1' and state='done'" 1 || return 1
	fs_api "/api/flows/$(fs_sql "select id from flows where path='$1'")"
}
# har_of FILTER: the HAR export of the flows FILTER matches
har_of() { fs_api "/api/har?filter=$(jq -rn --arg f "$1" '$f|@uri')"; }

# --- HTTP/1.1 both ways: the response's trailers ---------------------------------------------
want=$'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum, X-Trailer\r\n\r\n6\r\nhello\n\r\n6\r\nworld\n\r\n0\r\nX-Checksum: abc\r\nX-Trailer: yes\r\n\r\n'
got=$(printf 'GET http://127.0.0.1:%s/trailers?raw HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' \
	"$TRAILER_PORT" "$TRAILER_PORT" | fs_raw "$PROXY_PORT" 10 | od -An -c | tr -s ' \n' ' ')
is "the chunked response and its trailers are relayed byte for byte" "$got" \
	"$(printf '%s' "$want" | od -An -c | tr -s ' \n' ' ')"
j=$(flow_json '/trailers?raw')
is "the API gives the response's trailers, in order, case kept" \
	"$(jq -c '.response.trailers' <<<"$j")" '[["X-Checksum","abc"],["X-Trailer","yes"]]'
is "... and the de-chunked body" "$(fs_api "/api/flows/$(jq .id <<<"$j")/response/body")" \
	$'hello\nworld'
is "... and no request trailers" "$(jq '.request | has("trailers")' <<<"$j")" false
is "HAR: the response's _trailers" \
	"$(har_of '~u /trailers\?raw$' | jq -c '[.log.entries[].response._trailers[] | [.name, .value]]')" \
	'[["X-Checksum","abc"],["X-Trailer","yes"]]'

# curl (keep-alive, two requests on one connection: each message's own trailers)
fs_curl -D "$T/h1.head" -o "$T/h1.body" "http://127.0.0.1:$TRAILER_PORT/trailers?one" \
	-o /dev/null "http://127.0.0.1:$TRAILER_PORT/nothing"
like "curl got the trailers" "$(tr -d '\r' <"$T/h1.head")" 'X-Checksum: abc'
j=$(flow_json '/trailers?one')
is "... recorded" "$(jq -c '.response.trailers' <<<"$j")" '[["X-Checksum","abc"],["X-Trailer","yes"]]'
is "the next response on the connection has none" \
	"$(flow_json /nothing | jq '.response | has("trailers")')" false

# --- HTTP/1.1 both ways: the request's trailers -----------------------------------------------
got=$(printf 'POST http://127.0.0.1:%s/echo?h1 HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Client-Sum: 42\r\nx-lower: a b\r\n\r\n' \
	"$TRAILER_PORT" "$TRAILER_PORT" | fs_raw "$PROXY_PORT" 10 | tr -d '\r')
like "the request's trailers reach the origin as sent" "$got" \
	$'body=hello\ntrailer X-Client-Sum: 42\ntrailer x-lower: a b'
j=$(flow_json '/echo?h1')
is "the API gives the request's trailers" "$(jq -c '.request.trailers' <<<"$j")" \
	'[["X-Client-Sum","42"],["x-lower","a b"]]'
is "... and the request body" "$(fs_api "/api/flows/$(jq .id <<<"$j")/request/body")" hello
is "HAR: the request's _trailers" \
	"$(har_of '~u /echo\?h1$' | jq -c '[.log.entries[].request._trailers[] | [.name, .value]]')" \
	'[["X-Client-Sum","42"],["x-lower","a b"]]'

# --- an h2 client, an HTTP/1.1 origin: the trailers go on as HTTP/2 trailers -------------------
out=$(fs_curl --http2 -D "$T/h2.head" -o "$T/h2.body" -w '%{http_version}' \
	"https://localhost:$TRAILER_TLS_PORT/trailers?h2")
is "h2 client, HTTP/1.1 origin: answered over HTTP/2" "$out" 2
is "... the body" "$(cat "$T/h2.body")" $'hello\nworld'
like "... the trailers relayed after it" "$(tr -d '\r' <"$T/h2.head")" 'x-checksum: abc'
j=$(flow_json '/trailers?h2')
is "... recorded" "$(jq -c '.response.trailers' <<<"$j")" '[["X-Checksum","abc"],["X-Trailer","yes"]]'

out=$(/usr/bin/python3 "$FS_DATA/h2client.py" --proxy-port "$PROXY_PORT" --ca "$T/ca/ca.pem" \
	--port "$TRAILER_TLS_PORT" --path '/echo?h2-h1' trailers 2>&1)
like "h2 client, HTTP/1.1 origin: a request with trailers answered" "$out" 'trailers status 200'
j=$(flow_json '/echo?h2-h1')
is "... the origin received the body and the trailers, in the last chunk" \
	"$(fs_api "/api/flows/$(jq .id <<<"$j")/response/body")" \
	$'body=hello\ntrailer x-client-sum: 42'
is "... the flow keeps them" "$(jq -c '.request.trailers' <<<"$j")" '[["x-client-sum","42"]]'

# --- an h2 client, an h2 origin: the request's trailers go on ---------------------------------
out=$(/usr/bin/python3 "$FS_DATA/h2client.py" --proxy-port "$PROXY_PORT" --ca "$T/ca/ca.pem" \
	--port "$H2ORIGIN_PORT" --path /req-trailers trailers 2>&1)
like "h2 both ways: the request with trailers answered" "$out" 'trailers status 200'
j=$(flow_json /req-trailers)
is "... the origin received the trailers" \
	"$(fs_api "/api/flows/$(jq .id <<<"$j")/response/body")" 'trailer x-client-sum: 42'
is "... the flow keeps them" "$(jq -c '.request.trailers' <<<"$j")" '[["x-client-sum","42"]]'
is "... over HTTP/2 both ways" "$(jq -c '[.request.version, .response.version]' <<<"$j")" \
	'["HTTP/2.0","HTTP/2.0"]'

ok "the proxy is still serving" fs_curl -o /dev/null "http://127.0.0.1:$TRAILER_PORT/trailers?last"
fs_stop_flowscope
done_testing
