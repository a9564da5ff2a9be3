# shellcheck shell=bash
# transfer_checks.sh - the body/framing checks t_proxy_http.sh and t_proxy_https.sh share.
# transfer_checks SCHEME NGINX_PORT ORIGIN_PORT: runs every check for one scheme through the
# proxy at $PROXY_PORT; the origin host is "localhost" (matches the test origin cert).

# hwm_bound DESC: the proxy's peak RSS must stay under 64 MiB (not meaningful under ASan,
# whose shadow memory and quarantine dominate; the figure is printed either way).
hwm_bound() {
	local hwm
	hwm=$(fs_hwm_kib "$FS_PID")
	diag "$1: flowscope VmHWM ${hwm:-?} KiB"
	if ldd "$FLOWSCOPE_BIN" 2>/dev/null | grep -q libasan; then
		skip "$1: RSS bound not checked under ASan (VmHWM ${hwm:-?} KiB)"
	else
		ok "$1: flowscope peak RSS ${hwm:-?} KiB < 64 MiB" [ "${hwm:-999999}" -lt 65536 ]
	fi
}

transfer_checks() {
	local s="$1" np="$2" op="$3" base code f got
	base="$s://localhost:$np"
	obase="$s://localhost:$op"

	# Bodies of 0 B, 1 KiB and 1 MiB arrive byte-identical.
	for f in empty 1k 1m; do
		code=$(fs_curl -o "$T/got.$f" -w '%{http_code}' "$base/$f")
		is "$s GET /$f: status" "$code" 200
		is "$s GET /$f: body identical" "$(fs_sha "$T/got.$f")" "$(fs_sha "$NGINX_ROOT/$f")"
	done

	diag "$s before the 64 MiB transfers: flowscope VmHWM $(fs_hwm_kib "$FS_PID") KiB"
	# 64 MiB read by a slow client (32 MiB/s): the body must stream with backpressure, so the
	# proxy's memory stays bounded although nginx could send it all at once.
	code=$(fs_curl --max-time 60 --limit-rate 32M -o "$T/got.64m" -w '%{http_code}' "$base/64m")
	is "$s GET /64m (slow client): status" "$code" 200
	is "$s GET /64m: body identical" "$(fs_sha "$T/got.64m")" "$(fs_sha "$NGINX_ROOT/64m")"
	rm -f "$T/got.64m"
	hwm_bound "$s 64 MiB to a slow client"
	# And once at full speed.
	got=$(fs_curl --max-time 60 "$base/64m" | sha256sum | cut -d' ' -f1)
	is "$s GET /64m full speed: body identical" "$got" "$(fs_sha "$NGINX_ROOT/64m")"
	hwm_bound "$s 64 MiB at full speed"

	# Chunked responses: nginx gzip on the fly (decoded by curl), and the python origin's
	# hand-made chunks.
	got=$(fs_curl --compressed -D "$T/h.chunked" "$base/chunked/big.txt" | sha256sum | cut -d' ' -f1)
	is "$s chunked gzip response: decoded body identical" "$got" \
		"$(fs_sha "$NGINX_ROOT/chunked/big.txt")"
	like "$s chunked gzip response: Content-Encoding kept" "$(cat "$T/h.chunked")" \
		'[Cc]ontent-[Ee]ncoding: gzip'
	got=$(fs_curl "$obase/chunked")
	is "$s chunked response from the python origin" "$got" \
		"$(for i in 0 1 2 3 4 5 6 7 8 9; do echo "chunk $i"; done)"

	# Connection reuse: two URLs in one curl run share one connection to the proxy.
	got=$(fs_curl -o /dev/null -o /dev/null -w '%{num_connects} ' "$base/1k" "$base/text.txt")
	is "$s two requests in one curl run: one connection to the proxy" "$got" "1 0 "
	# ... and the proxy reuses its upstream connection (the origin sees one client port).
	got=$(fs_curl -D - -o /dev/null -o /dev/null "$obase/status/200" "$obase/status/204" |
		tr -d '\r' | awk -F': ' 'tolower($1) == "x-peer" {print $2}' | sort -u | wc -l)
	is "$s keep-alive upstream: both requests on one origin connection" "$got" 1

	# HTTP/1.0 client.
	got=$(fs_curl -0 "$base/1k" | sha256sum | cut -d' ' -f1)
	is "$s HTTP/1.0 client: body identical" "$got" "$(fs_sha "$NGINX_ROOT/1k")"
	code=$(fs_curl -0 -o /dev/null -w '%{http_code}' "$base/empty")
	is "$s HTTP/1.0 client: empty body, status" "$code" 200

	# POST bodies: 1 MiB with Content-Length, 1 MiB chunked, 2 MiB with Expect: 100-continue
	# (curl waits 10 s for the 100 before sending: the proxy must relay or answer it).
	got=$(fs_curl --data-binary "@$NGINX_ROOT/1m" -H 'Content-Type: application/octet-stream' \
		"$obase/echo" | sha256sum | cut -d' ' -f1)
	is "$s POST 1 MiB: echoed body identical" "$got" "$(fs_sha "$NGINX_ROOT/1m")"
	got=$(fs_curl --data-binary "@$NGINX_ROOT/1m" -H 'Transfer-Encoding: chunked' \
		-H 'Content-Type: application/octet-stream' "$obase/echo" | sha256sum | cut -d' ' -f1)
	is "$s POST 1 MiB chunked: echoed body identical" "$got" "$(fs_sha "$NGINX_ROOT/1m")"
	cat "$NGINX_ROOT/1m" "$NGINX_ROOT/1m" >"$T/2m"
	local t0 t1
	t0=$(date +%s%N)
	got=$(fs_curl --max-time 8 --expect100-timeout 10 -H 'Expect: 100-continue' \
		-H 'Content-Type: application/octet-stream' --data-binary "@$T/2m" -D "$T/h.expect" \
		"$obase/echo" | sha256sum | cut -d' ' -f1)
	t1=$(date +%s%N)
	is "$s POST 2 MiB with Expect: 100-continue: echoed body identical" "$got" "$(fs_sha "$T/2m")"
	like "$s Expect: 100-continue: client got 100 Continue" "$(grep '^HTTP/' "$T/h.expect")" \
		'^HTTP/1\.1 100 '
	diag "$s Expect: 100-continue exchange took $(((t1 - t0) / 1000000)) ms"
	rm -f "$T/2m"

	# HEAD and a 304-less small status with no body.
	code=$(fs_curl -I -o /dev/null -w '%{http_code}' "$base/1m")
	is "$s HEAD: status" "$code" 200
	code=$(fs_curl -o /dev/null -w '%{http_code}' "$obase/status/204")
	is "$s 204 No Content: status" "$code" 204
	code=$(fs_curl -o /dev/null -w '%{http_code}' "$base/nonexistent")
	is "$s 404 from origin relayed" "$code" 404
}

# flow_checks SCHEME NGINX_PORT: rows the store must hold after transfer_checks.
flow_checks() {
	local s="$1" np="$2"
	if ! fs_have_flows; then
		ok "$s flows: the store has a flows table ($FS_DB)" false
		return
	fi
	ok "$s flows: GET /1k recorded done with status 200" fs_wait_sql \
		"select count(*) > 0 from flows where kind='http' and method='GET' and scheme='$s' and host='localhost' and port=$np and path='/1k' and status=200 and state='done'" 1
	ok "$s flows: GET /64m recorded with its response size and truncation mark" fs_wait_sql \
		"select count(*) > 0 from flows where scheme='$s' and path='/64m' and status=200 and response_truncated=1 and response_body_size > 0" 1
	ok "$s flows: POST /echo recorded with request body size 1 MiB" fs_wait_sql \
		"select count(*) > 0 from flows where scheme='$s' and method='POST' and path='/echo' and request_body_size=1048576" 1
	ok "$s flows: timings start <= end" fs_wait_sql \
		"select count(*) from flows where scheme='$s' and state='done' and (started_us <= 0 or ended_us < started_us)" 0
}
